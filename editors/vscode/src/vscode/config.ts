/**
 * Reads VS Code's configuration into the pure settings code (`../common/settings`), and picks the
 * launcher from it.
 */

import * as os from 'os';
import { workspace, WorkspaceConfiguration } from 'vscode';
import { chooseLauncher, Launcher } from '../common/interpreter';
import {
    buildInitializationOptions,
    ConfigInspector,
    Environment,
    FolderInput,
    InitializationOptions,
    resolveScope,
    ScopeInput,
} from '../common/settings';
import { PythonEnvironments } from './python';

export const SECTION = 'megawatt';

function inspector(config: WorkspaceConfiguration): ConfigInspector {
    return (key) => config.inspect(key);
}

export interface Snapshot {
    /** What the server is sent, and what answers `workspace/configuration`. */
    readonly options: InitializationOptions;
    /** Settings ignored for having the wrong type. */
    readonly problems: string[];
    /** The program that runs the server, from the first folder's settings (else the user's). */
    readonly launcher: Launcher;
    /** The server's working directory: the first workspace folder. */
    readonly cwd: string | undefined;
    /** `megawatt.showNotifications` (a machine setting: one value for the window). */
    readonly showNotifications: InitializationOptions['globalSettings']['showNotifications'];
}

/** Reads every scope now. */
export async function readSettings(python: PythonEnvironments): Promise<Snapshot> {
    const folders = workspace.workspaceFolders ?? [];
    const environment: Environment = {
        userHome: os.homedir(),
        env: process.env,
        trusted: workspace.isTrusted,
    };
    const folderInputs: FolderInput[] = await Promise.all(
        folders.map(async (folder) => ({
            uri: folder.uri.toString(),
            workspaceFolder: folder.uri.fsPath,
            inspect: inspector(workspace.getConfiguration(SECTION, folder.uri)),
            pythonInterpreter: await python.interpreterFor(folder.uri),
        })),
    );
    const globalInput: ScopeInput = {
        inspect: inspector(workspace.getConfiguration(SECTION)),
        workspaceFolder: folders[0]?.uri.fsPath,
        pythonInterpreter: await python.interpreterFor(folders[0]?.uri),
    };
    const built = buildInitializationOptions(folderInputs, globalInput, environment);

    // The launcher comes from the raw settings (not filled from the Python extension) of the first
    // folder, so the log can say where the choice came from.
    const launchScope: ScopeInput = folderInputs[0] ?? globalInput;
    const raw = resolveScope(
        { ...launchScope, pythonInterpreter: undefined },
        folderInputs.length > 0 ? 'folder' : 'global',
        environment,
    ).value;
    const launcher = chooseLauncher({
        path: raw.path,
        interpreter: raw.interpreter,
        pythonExtension: launchScope.pythonInterpreter,
        platform: process.platform,
    });
    return {
        options: built.value,
        problems: built.problems,
        launcher,
        cwd: folders[0]?.uri.fsPath,
        showNotifications: built.value.globalSettings.showNotifications,
    };
}
