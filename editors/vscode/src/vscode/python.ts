/**
 * The Python extension (`ms-python.python`), when it is installed: the active environment per
 * resource, and an event when it changes. Megawatt works without it (it falls back to
 * `megawatt.interpreter` or `python3`), so it is an optional dependency, not an
 * `extensionDependencies` entry.
 *
 * Only the few members used are typed here, after the extension's public API (the `environments`
 * namespace; the older `environment` namespace of the same shape is used when that is all there is).
 */

import { Disposable, Event, EventEmitter, extensions, LogOutputChannel, Uri, WorkspaceFolder } from 'vscode';

const PYTHON_EXTENSION_ID = 'ms-python.python';

interface EnvironmentPath {
    readonly id: string;
    readonly path: string;
}

interface ResolvedEnvironment {
    readonly executable: { readonly uri: Uri | undefined };
    readonly version?: { readonly major?: number; readonly minor?: number; readonly micro?: number };
}

interface ActiveEnvironmentPathChangeEvent extends EnvironmentPath {
    readonly resource: WorkspaceFolder | Uri | undefined;
}

interface EnvironmentsApi {
    getActiveEnvironmentPath(resource?: Uri | WorkspaceFolder): EnvironmentPath;
    resolveEnvironment(environment: EnvironmentPath | string): Promise<ResolvedEnvironment | undefined>;
    readonly onDidChangeActiveEnvironmentPath: Event<ActiveEnvironmentPathChangeEvent>;
}

interface PythonExtensionApi {
    readonly ready?: Promise<void>;
    readonly environments?: EnvironmentsApi;
    readonly environment?: EnvironmentsApi;
}

export class PythonEnvironments implements Disposable {
    private readonly changed = new EventEmitter<void>();
    private readonly disposables: Disposable[] = [this.changed];
    private api: EnvironmentsApi | undefined;

    /** Fires when the Python extension's active environment changes for any folder. */
    readonly onDidChangeInterpreter: Event<void> = this.changed.event;

    constructor(private readonly log: LogOutputChannel) {}

    /** Whether the Python extension is installed (it may still be activating). */
    get installed(): boolean {
        return extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
    }

    /** Connects to the Python extension once; later calls return the same answer. */
    async initialize(): Promise<void> {
        if (this.api !== undefined) {
            return;
        }
        const extension = extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
        if (extension === undefined) {
            this.log.info('The Python extension is not installed; using megawatt.interpreter or python3 on PATH.');
            return;
        }
        try {
            const exports = extension.isActive ? extension.exports : await extension.activate();
            await exports?.ready;
            const api = exports?.environments ?? exports?.environment;
            if (api === undefined) {
                this.log.warn('The Python extension does not offer its environments API; ignoring it.');
                return;
            }
            this.api = api;
            this.disposables.push(api.onDidChangeActiveEnvironmentPath(() => this.changed.fire()));
        } catch (error) {
            this.log.error(`Could not use the Python extension: ${String(error)}`);
        }
    }

    /** The active environment's interpreter for `resource` (a folder or file), if there is one. */
    async interpreterFor(resource: Uri | undefined): Promise<string[] | undefined> {
        if (this.api === undefined) {
            return undefined;
        }
        try {
            const active = this.api.getActiveEnvironmentPath(resource);
            const resolved = await this.api.resolveEnvironment(active);
            const executable = resolved?.executable.uri?.fsPath;
            return executable ? [executable] : undefined;
        } catch (error) {
            this.log.warn(`The Python extension could not resolve an environment: ${String(error)}`);
            return undefined;
        }
    }

    dispose(): void {
        for (const d of this.disposables) {
            d.dispose();
        }
    }
}
