/**
 * The Megawatt language server's lifecycle: check the interpreter, start the client, keep its
 * settings current, restart it when the process it runs must change.
 *
 * One server serves every workspace folder (as ruff's does); it runs in the first folder, with the
 * first folder's interpreter, and receives every folder's settings.
 */

import { execFile } from 'child_process';
import {
    ConfigurationChangeEvent,
    ExtensionContext,
    LogOutputChannel,
    window,
    commands,
} from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    DidChangeConfigurationNotification,
    ErrorAction,
    ErrorHandler,
    ErrorHandlerResult,
    ExecuteCommandRequest,
    LanguageClient,
    LanguageClientOptions,
    Message,
    ResponseError,
    RevealOutputChannelOn,
    ServerOptions,
    State,
} from 'vscode-languageclient/node';
import { collidingCommands, missingServerCommands, SERVER_COMMANDS } from '../common/commands';
import { debounce, Debounced } from '../common/debounce';
import { describeSource } from '../common/interpreter';
import { buildLaunch, describeLaunch, LaunchSpec } from '../common/launch';
import { affectsLaunch, answerConfigurationItem, InitializationOptions, NotificationLevel } from '../common/settings';
import { checkExecutable, checkVersion, parseProbe, probeScript } from '../common/version';
import { readSettings, SECTION, Snapshot } from './config';
import { PythonEnvironments } from './python';

/** The secret-storage key of the Anthropic API key. */
export const API_KEY_SECRET = 'megawatt.anthropicApiKey';

const RESTART_DELAY_MS = 1000;
const PROBE_TIMEOUT_MS = 20_000;

export interface ServerInfo {
    readonly name: string;
    readonly module: string;
}

/** Which documents the server gets: Python files, untitled Python buffers, Python notebook cells. */
export const DOCUMENT_SELECTOR = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    { notebook: '*', language: 'python' },
];

function launchKey(spec: LaunchSpec): string {
    return JSON.stringify([spec.command, spec.args, spec.cwd]);
}

/** Runs `argv + args` and returns its stdout; rejects when it cannot start or fails. */
function run(argv: readonly string[], args: string[], cwd: string | undefined): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(
            argv[0],
            [...argv.slice(1), ...args],
            { cwd, timeout: PROBE_TIMEOUT_MS, windowsHide: true, env: process.env },
            (error, stdout, stderr) => {
                if (error) {
                    reject(new Error(`${error.message}${stderr ? `\n${stderr}` : ''}`));
                } else {
                    resolve(stdout);
                }
            },
        );
    });
}

export class ServerManager {
    private client: LanguageClient | undefined;
    private runningLaunch: string | undefined;
    private snapshot: Promise<Snapshot> | undefined;
    /** Starts, stops and restarts run one after another. */
    private queue: Promise<void> = Promise.resolve();
    /** Why the server is not running, for commands run meanwhile. */
    private notRunning = 'The Megawatt server has not started yet.';
    private readonly scheduleReconsider: Debounced;
    private readonly scheduleRestart: Debounced;
    private restartReason = 'settings changed';

    constructor(
        private readonly context: ExtensionContext,
        private readonly log: LogOutputChannel,
        private readonly python: PythonEnvironments,
        private readonly info: ServerInfo,
    ) {
        const timers = { setTimeout, clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
        this.scheduleReconsider = debounce(() => void this.reconsider(), RESTART_DELAY_MS, timers);
        this.scheduleRestart = debounce(() => void this.restart(this.restartReason), RESTART_DELAY_MS, timers);
    }

    /** The settings now (read at most once per change). */
    private settings(): Promise<Snapshot> {
        if (this.snapshot === undefined) {
            const reading = readSettings(this.python);
            this.snapshot = reading;
            // a failed read is not kept: the next call tries again
            reading.catch(() => {
                if (this.snapshot === reading) {
                    this.snapshot = undefined;
                }
            });
        }
        return this.snapshot;
    }

    private invalidateSettings(): void {
        this.snapshot = undefined;
    }

    // ---- notifications -------------------------------------------------------------------------

    private async level(): Promise<NotificationLevel> {
        try {
            return (await this.settings()).showNotifications;
        } catch {
            return 'onError';
        }
    }

    /** An error: always in the log, as a notification unless showNotifications is off. */
    async notifyError(message: string, ...actions: Array<[string, () => unknown]>): Promise<void> {
        this.log.error(message);
        if ((await this.level()) === 'off') {
            return;
        }
        const chosen = await window.showErrorMessage(`Megawatt: ${message}`, ...actions.map(([title]) => title));
        actions.find(([title]) => title === chosen)?.[1]();
    }

    /** Information: always in the log, as a notification only when showNotifications is always. */
    async notifyInfo(message: string): Promise<void> {
        this.log.info(message);
        if ((await this.level()) === 'always') {
            void window.showInformationMessage(`Megawatt: ${message}`);
        }
    }

    // ---- lifecycle -----------------------------------------------------------------------------

    private enqueue(task: () => Promise<void>): Promise<void> {
        const next = this.queue.then(task, task).catch((error: unknown) => {
            this.log.error(`Megawatt server: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        });
        this.queue = next;
        return next;
    }

    /** Stops the running server (if any) and starts one with the settings as they are now. */
    restart(reason: string): Promise<void> {
        this.scheduleRestart.cancel();
        this.scheduleReconsider.cancel();
        return this.enqueue(async () => {
            this.log.info(`Starting the server (${reason}).`);
            await this.stopClient();
            this.invalidateSettings();
            await this.startClient();
        });
    }

    /** Restarts after a quiet second; calls within it fold into one restart. */
    restartSoon(reason: string): void {
        this.restartReason = reason;
        this.scheduleRestart();
    }

    stop(): Promise<void> {
        this.scheduleRestart.cancel();
        this.scheduleReconsider.cancel();
        return this.enqueue(() => this.stopClient());
    }

    private async stopClient(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.runningLaunch = undefined;
        this.notRunning = 'The Megawatt server is not running.';
        if (client === undefined) {
            return;
        }
        try {
            if (client.isRunning()) {
                await client.stop(5000);
            }
        } catch (error) {
            this.log.warn(`Stopping the server: ${String(error)}`);
        }
        try {
            await client.dispose();
        } catch {
            // already stopped
        }
    }

    private async apiKey(): Promise<string | undefined> {
        try {
            return await this.context.secrets.get(API_KEY_SECRET);
        } catch (error) {
            this.log.warn(`Could not read the stored API key: ${String(error)}`);
            return undefined;
        }
    }

    /** Whether the launcher can run the server; says why not otherwise. */
    private async interpreterUsable(snapshot: Snapshot): Promise<boolean> {
        const launcher = snapshot.launcher;
        const shown = launcher.argv.join(' ');
        const probeArgs = launcher.kind === 'executable' ? ['--version'] : ['-c', probeScript(this.info.module)];
        let stdout: string | undefined;
        try {
            stdout = await run(launcher.argv, probeArgs, snapshot.cwd);
        } catch (error) {
            this.log.error(`Running ${shown}: ${error instanceof Error ? error.message : String(error)}`);
        }
        const verdict =
            launcher.kind === 'executable'
                ? checkExecutable(shown, stdout)
                : checkVersion(shown, stdout !== undefined ? parseProbe(stdout) : undefined);
        if (verdict.ok) {
            this.log.info(`${launcher.kind === 'executable' ? 'Executable' : 'Interpreter'} (from ${describeSource(launcher.source)}): ${verdict.message}`);
            return true;
        }
        this.notRunning = verdict.message;
        const setting = launcher.kind === 'executable' ? 'megawatt.path' : 'megawatt.interpreter';
        const actions: Array<[string, () => unknown]> = [];
        if (this.python.installed && launcher.kind === 'python') {
            actions.push(['Select Interpreter', () => commands.executeCommand('python.setInterpreter')]);
        }
        actions.push(['Open Settings', () => commands.executeCommand('workbench.action.openSettings', setting)]);
        actions.push(['Show Logs', () => this.log.show()]);
        void this.notifyError(verdict.message, ...actions);
        return false;
    }

    private async startClient(): Promise<void> {
        const snapshot = await this.settings();
        for (const problem of snapshot.problems) {
            this.log.warn(problem);
        }
        if (!(await this.interpreterUsable(snapshot))) {
            // no client: the next change of interpreter, folders or trust starts one (reconsider)
            return;
        }
        const spec = buildLaunch(snapshot.launcher, {
            cwd: snapshot.cwd,
            baseEnv: process.env,
            apiKey: await this.apiKey(),
            module: this.info.module,
        });
        this.log.info(`Server command: ${describeLaunch(spec)}`);

        const serverOptions: ServerOptions = {
            command: spec.command,
            args: spec.args,
            options: { cwd: spec.cwd, env: spec.env },
        };
        const client = new LanguageClient(SECTION, this.info.name, serverOptions, this.clientOptions(snapshot.options));
        this.client = client;
        this.runningLaunch = launchKey(spec);
        try {
            await client.start();
        } catch (error) {
            this.client = undefined;
            this.runningLaunch = undefined;
            this.notRunning = `The Megawatt server did not start: ${String(error)}`;
            void this.notifyError(this.notRunning, ['Show Logs', () => this.log.show()]);
            try {
                await client.dispose();
            } catch {
                // nothing more to release
            }
            return;
        }
        const advertised = client.initializeResult?.capabilities.executeCommandProvider?.commands;
        const clashing = collidingCommands(advertised);
        if (clashing.length > 0) {
            this.log.error(`The server advertises command ids reserved for the extension: ${clashing.join(', ')}`);
        }
        const missing = missingServerCommands(advertised);
        if (missing.length > 0) {
            this.log.info(`The server does not offer: ${missing.join(', ')}`);
        }
        const version = client.initializeResult?.serverInfo?.version;
        void this.notifyInfo(`Server started${version ? ` (version ${version})` : ''}.`);
    }

    private clientOptions(initializationOptions: InitializationOptions): LanguageClientOptions {
        return {
            documentSelector: DOCUMENT_SELECTOR,
            diagnosticCollectionName: SECTION,
            outputChannel: this.log,
            traceOutputChannel: this.log,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions,
            errorHandler: this.errorHandler(),
            markdown: {
                // hovers may link to Megawatt's own commands (e.g. show a skill), and to no others
                isTrusted: { enabledCommands: [...Object.values(SERVER_COMMANDS), ...Object.keys(SERVER_COMMANDS)] },
                supportHtml: false,
            },
            middleware: {
                workspace: {
                    configuration: async (params, token, next) => {
                        const options = (await this.settings()).options;
                        const answers: unknown[] = params.items.map((item) => answerConfigurationItem(options, item));
                        const others = params.items.flatMap((_item, index) => (answers[index] === undefined ? [index] : []));
                        if (others.length > 0) {
                            const rest = await next({ items: others.map((index) => params.items[index]) }, token);
                            if (rest instanceof ResponseError) {
                                return rest;
                            }
                            others.forEach((index, k) => {
                                answers[index] = rest[k];
                            });
                        }
                        return answers;
                    },
                    // The extension sends its own didChangeConfiguration with resolved settings
                    // (onConfigurationChanged); the client's generic `{settings: null}` is dropped.
                    didChangeConfiguration: async () => undefined,
                },
            },
        };
    }

    /** Restarts a crashed server a few times, then stops and says so (as showNotifications allows). */
    private errorHandler(): ErrorHandler {
        const restarts: number[] = [];
        return {
            error: (_error: Error, _message: Message | undefined, count: number | undefined): ErrorHandlerResult => ({
                action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
                handled: true,
            }),
            closed: async (): Promise<CloseHandlerResult> => {
                const now = Date.now();
                restarts.push(now);
                while (restarts.length > 0 && now - restarts[0] > 3 * 60_000) {
                    restarts.shift();
                }
                if (restarts.length <= 4) {
                    this.log.warn('The server stopped unexpectedly; restarting it.');
                    return { action: CloseAction.Restart, handled: true };
                }
                this.notRunning = 'The Megawatt server stopped 5 times in 3 minutes and will not be restarted.';
                void this.notifyError(this.notRunning, ['Restart', () => void this.restart('user')], ['Show Logs', () => this.log.show()]);
                return { action: CloseAction.DoNotRestart, handled: true };
            },
        };
    }

    // ---- changes -------------------------------------------------------------------------------

    /** A configuration change: restart for launch settings, otherwise tell the running server. */
    onConfigurationChanged(event: ConfigurationChangeEvent): void {
        if (!event.affectsConfiguration(SECTION)) {
            return;
        }
        this.invalidateSettings();
        if (affectsLaunch((section) => event.affectsConfiguration(section))) {
            this.restartSoon('megawatt.interpreter or megawatt.path changed');
        } else {
            void this.sendSettings();
        }
    }

    /**
     * The user trusted the workspace: restart, so the server starts with `trusted: true` in its
     * initialization options (and the workspace's values of the restricted settings, which may
     * change the interpreter) instead of learning it from a later settings message.
     */
    trustGranted(): void {
        this.invalidateSettings();
        this.restartSoon('workspace trust granted');
    }

    /**
     * Something the launch may depend on changed (the Python extension's interpreter, the
     * folders): restart, debounced, if the server would now run differently; otherwise send the
     * new settings.
     */
    launchInputsChanged(): void {
        this.invalidateSettings();
        this.scheduleReconsider();
    }

    private async reconsider(): Promise<void> {
        const snapshot = await this.settings();
        const spec = buildLaunch(snapshot.launcher, { cwd: snapshot.cwd, baseEnv: {}, module: this.info.module });
        if (this.client === undefined || launchKey(spec) !== this.runningLaunch) {
            await this.restart('interpreter or folders changed');
        } else {
            await this.sendSettings();
        }
    }

    /** Sends `workspace/didChangeConfiguration` with the settings in the initializationOptions shape. */
    private async sendSettings(): Promise<void> {
        const client = this.client;
        if (client === undefined || client.state !== State.Running) {
            return;
        }
        const snapshot = await this.settings();
        for (const problem of snapshot.problems) {
            this.log.warn(problem);
        }
        try {
            await client.sendNotification(DidChangeConfigurationNotification.type, { settings: snapshot.options });
        } catch (error) {
            this.log.error(`Sending settings: ${String(error)}`);
        }
    }

    // ---- commands ------------------------------------------------------------------------------

    /** Runs a server command through `workspace/executeCommand`; undefined when it could not. */
    async executeServerCommand(command: string, args: unknown[]): Promise<unknown> {
        await this.queue;
        const client = this.client;
        if (client === undefined || client.state !== State.Running) {
            void this.notifyError(this.notRunning, ['Restart', () => void this.restart('user')], ['Show Logs', () => this.log.show()]);
            return undefined;
        }
        try {
            return await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
        } catch (error) {
            void this.notifyError(`${command} failed: ${error instanceof Error ? error.message : String(error)}`);
            return undefined;
        }
    }
}
