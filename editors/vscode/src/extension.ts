/**
 * Megawatt for VS Code: starts `python -m megawatt serve` (or `megawatt serve`) as a language
 * server for Python files, untitled buffers and notebook cells.
 *
 * Layout: `common/` is pure (no `vscode` import, tested under plain Node): settings, interpreter
 * choice, launch command, version check, command ids. `vscode/` adapts it to VS Code: reading the
 * configuration, the Python extension, the language client's lifecycle, the commands.
 */

import { ExtensionContext, window, workspace } from 'vscode';
import { registerCommands } from './vscode/commands';
import { PythonEnvironments } from './vscode/python';
import { API_KEY_SECRET, ServerInfo, ServerManager } from './vscode/server';

let manager: ServerManager | undefined;

function serverInfo(context: ExtensionContext): ServerInfo {
    const info = (context.extension.packageJSON as { serverInfo?: Partial<ServerInfo> }).serverInfo ?? {};
    return { name: info.name ?? 'Megawatt', module: info.module ?? 'megawatt' };
}

export async function activate(context: ExtensionContext): Promise<void> {
    const info = serverInfo(context);
    const log = window.createOutputChannel(info.name, { log: true });
    context.subscriptions.push(log);
    log.info(`${info.name} ${String((context.extension.packageJSON as { version?: string }).version)} activating.`);

    const python = new PythonEnvironments(log);
    context.subscriptions.push(python);
    await python.initialize();

    const server = new ServerManager(context, log, python, info);
    manager = server;
    context.subscriptions.push(
        ...registerCommands(context, server, log),
        workspace.onDidChangeConfiguration((event) => server.onConfigurationChanged(event)),
        python.onDidChangeInterpreter(() => server.launchInputsChanged()),
        workspace.onDidChangeWorkspaceFolders(() => server.launchInputsChanged()),
        workspace.onDidGrantWorkspaceTrust(() => server.trustGranted()),
        context.secrets.onDidChange((event) => {
            if (event.key === API_KEY_SECRET) {
                server.restartSoon('API key changed');
            }
        }),
    );

    // not awaited: activation finishes while the interpreter is checked and the server starts
    void server.restart('activation');
}

export async function deactivate(): Promise<void> {
    await manager?.stop();
    manager = undefined;
}
