/**
 * The extension's commands.
 *
 * `megawatt.restart`, `megawatt.setApiKey` and `megawatt.showLogs` are handled here alone. The
 * palette's `megawatt.client.<name>` commands run the server's `megawatt.<name>` through
 * `workspace/executeCommand` (see ../common/commands.ts for why the ids differ). From the palette,
 * `recordProfile` and `scanWorkspace` send the URI of the active editor's workspace folder (none
 * when there is no such editor: the server takes the first folder), `reloadProfiles` sends nothing,
 * and `showSkill` asks for a skill id and sends it. Arguments given by a caller (keybinding, another
 * extension) are passed on unchanged.
 */

import { commands, Disposable, ExtensionContext, LogOutputChannel, Uri, ViewColumn, window, workspace } from 'vscode';
import { interpretResult, SERVER_COMMANDS } from '../common/commands';
import { API_KEY_SECRET, ServerManager } from './server';

async function showOutcome(result: unknown): Promise<void> {
    const outcome = interpretResult(result);
    if (outcome.kind === 'text') {
        const document = await workspace.openTextDocument({ content: outcome.text, language: outcome.language });
        await window.showTextDocument(document, { viewColumn: ViewColumn.Beside, preview: true });
    } else if (outcome.kind === 'uri') {
        const uri = Uri.parse(outcome.uri);
        if (uri.scheme === 'http' || uri.scheme === 'https') {
            await commands.executeCommand('vscode.open', uri);
        } else {
            const document = await workspace.openTextDocument(uri);
            await window.showTextDocument(document, { viewColumn: ViewColumn.Beside, preview: true });
        }
    }
}

async function argumentsFor(clientId: string, given: unknown[]): Promise<unknown[] | undefined> {
    if (given.length > 0) {
        return given;
    }
    if (clientId === 'megawatt.client.recordProfile' || clientId === 'megawatt.client.scanWorkspace') {
        const document = window.activeTextEditor?.document;
        const folder = document !== undefined ? workspace.getWorkspaceFolder(document.uri) : undefined;
        return folder !== undefined ? [folder.uri.toString()] : [];
    }
    if (clientId === 'megawatt.client.showSkill') {
        const skill = await window.showInputBox({
            title: 'Megawatt: Show skill',
            prompt: 'The skill id, as in a diagnostic code (for example memoize or loop-invariant)',
            ignoreFocusOut: true,
        });
        if (skill === undefined || skill.trim() === '') {
            return undefined;
        }
        return [skill.trim()];
    }
    return [];
}

async function setApiKey(context: ExtensionContext, manager: ServerManager): Promise<void> {
    const stored = (await context.secrets.get(API_KEY_SECRET)) !== undefined;
    const key = await window.showInputBox({
        title: 'Megawatt: Set Anthropic API key',
        prompt: stored
            ? 'A key is stored. Enter a new one, or leave empty to remove it. It is kept in VS Code\'s secret storage.'
            : 'Kept in VS Code\'s secret storage and given to the Megawatt server only as ANTHROPIC_API_KEY.',
        placeHolder: 'sk-ant-...',
        password: true,
        ignoreFocusOut: true,
    });
    if (key === undefined) {
        return;
    }
    const trimmed = key.trim();
    if (trimmed === '') {
        if (!stored) {
            return;
        }
        await context.secrets.delete(API_KEY_SECRET);
        await manager.notifyInfo('Anthropic API key removed; restarting the server.');
    } else {
        await context.secrets.store(API_KEY_SECRET, trimmed);
        void window.showInformationMessage('Megawatt: Anthropic API key stored; restarting the server.');
    }
    // the server reads the key from its environment: start a new process (the secrets listener in
    // extension.ts asks too; the debounce folds both into one restart)
    manager.restartSoon('API key changed');
}

export function registerCommands(context: ExtensionContext, manager: ServerManager, log: LogOutputChannel): Disposable[] {
    const disposables: Disposable[] = [
        commands.registerCommand('megawatt.restart', () => manager.restart('restart command')),
        commands.registerCommand('megawatt.showLogs', () => log.show()),
        commands.registerCommand('megawatt.setApiKey', () => setApiKey(context, manager)),
    ];
    for (const [clientId, serverId] of Object.entries(SERVER_COMMANDS)) {
        disposables.push(
            commands.registerCommand(clientId, async (...given: unknown[]) => {
                const args = await argumentsFor(clientId, given);
                if (args === undefined) {
                    return undefined;
                }
                const result = await manager.executeServerCommand(serverId, args);
                await showOutcome(result);
                return result;
            }),
        );
    }
    return disposables;
}
