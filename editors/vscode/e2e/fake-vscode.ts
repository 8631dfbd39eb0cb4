/**
 * A stand-in for the `vscode` module, enough for the bundled extension and vscode-languageclient
 * to activate, start the real server, sync a document and run commands — no VS Code needed.
 *
 * What the tests look at is real (configuration, commands, output channel, diagnostics, messages,
 * secrets, events); everything else is a permissive no-op proxy.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */

import { pathToFileURL, fileURLToPath } from 'node:url';
import * as path from 'node:path';

type Listener = (e: any) => any;

export interface FakeEvent {
    (listener: Listener, thisArg?: unknown, disposables?: Array<{ dispose(): void }>): { dispose(): void };
    fire(e?: any): void;
}

function event(): FakeEvent {
    const listeners = new Set<Listener>();
    const ev = ((listener: Listener, thisArg?: unknown, disposables?: Array<{ dispose(): void }>) => {
        const bound: Listener = (e) => listener.call(thisArg, e);
        listeners.add(bound);
        const d = { dispose: (): void => void listeners.delete(bound) };
        disposables?.push(d);
        return d;
    }) as unknown as FakeEvent;
    ev.fire = (e?: any) => {
        for (const l of [...listeners]) {
            l(e);
        }
    };
    return ev;
}

/** Any property, call or construction gives another such proxy; disposing does nothing. */
function universal(name: string): any {
    const target = function () {
        return universal(`${name}()`);
    };
    return new Proxy(target, {
        get(_t, prop) {
            if (prop === 'dispose') {
                return () => undefined;
            }
            if (prop === 'then' || prop === Symbol.iterator || prop === Symbol.toPrimitive || prop === 'toJSON') {
                return undefined;
            }
            return universal(`${name}.${String(prop)}`);
        },
        construct() {
            return universal(`new ${name}`);
        },
    });
}

class Disposable {
    static from(...items: Array<{ dispose(): any }>): Disposable {
        return new Disposable(() => items.forEach((i) => i?.dispose?.()));
    }
    constructor(private readonly fn: () => void) {}
    dispose(): void {
        this.fn();
    }
}

class EventEmitter<T> {
    private readonly ev = event();
    readonly event = this.ev as any;
    fire(e?: T): void {
        this.ev.fire(e);
    }
    dispose(): void {}
}

class Uri {
    constructor(
        readonly scheme: string,
        readonly authority: string,
        readonly path: string,
        readonly query = '',
        readonly fragment = '',
    ) {}
    static file(p: string): Uri {
        return new Uri('file', '', path.resolve(p));
    }
    static parse(value: string): Uri {
        if (value.startsWith('file:')) {
            return Uri.file(fileURLToPath(value));
        }
        const m = /^([a-zA-Z][\w+.-]*):(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/.exec(value);
        if (!m) {
            throw new Error(`bad uri ${value}`);
        }
        return new Uri(m[1], m[2] ?? '', decodeURIComponent(m[3] ?? ''), m[4] ?? '', m[5] ?? '');
    }
    static joinPath(base: Uri, ...parts: string[]): Uri {
        return new Uri(base.scheme, base.authority, path.posix.join(base.path, ...parts));
    }
    get fsPath(): string {
        return this.path;
    }
    with(change: Partial<{ scheme: string; path: string; fragment: string; query: string }>): Uri {
        return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, change.query ?? this.query, change.fragment ?? this.fragment);
    }
    toString(): string {
        if (this.scheme === 'file') {
            return pathToFileURL(this.path).toString();
        }
        return `${this.scheme}:${this.authority ? `//${this.authority}` : ''}${this.path}${this.fragment ? `#${this.fragment}` : ''}`;
    }
    toJSON(): unknown {
        return { scheme: this.scheme, path: this.path };
    }
}

class Position {
    constructor(
        readonly line: number,
        readonly character: number,
    ) {}
}

class Range {
    readonly start: Position;
    readonly end: Position;
    constructor(a: any, b: any, c?: number, d?: number) {
        if (typeof a === 'number') {
            this.start = new Position(a, b);
            this.end = new Position(c!, d!);
        } else {
            this.start = a;
            this.end = b;
        }
    }
}

class Diagnostic {
    code: any;
    source: string | undefined;
    tags: any;
    relatedInformation: any;
    data: any;
    constructor(
        readonly range: Range,
        readonly message: string,
        readonly severity?: number,
    ) {}
}

class CancellationTokenSource {
    private readonly ev = event();
    token = { isCancellationRequested: false, onCancellationRequested: this.ev };
    cancel(): void {
        this.token.isCancellationRequested = true;
        this.ev.fire();
    }
    dispose(): void {}
}

class CancellationError extends Error {}

/** Settings at the user level and at the (single) folder level, by full key (`megawatt.path`). */
export interface FakeSettings {
    user: Record<string, unknown>;
    folder: Record<string, unknown>;
}

export interface FakeDocument {
    uri: Uri;
    fileName: string;
    languageId: string;
    version: number;
    isUntitled: boolean;
    isClosed: boolean;
    lineCount: number;
    getText(): string;
}

export interface Fake {
    module: any;
    log: string[];
    messages: Array<{ level: string; text: string }>;
    commands: Map<string, (...args: any[]) => any>;
    diagnostics: Map<string, Diagnostic[]>;
    settings: FakeSettings;
    secrets: Map<string, string>;
    inputBoxAnswers: Array<string | undefined>;
    fireConfigurationChange(keys: string[]): void;
    /** Starts untrusted with `createFakeVscode(..., { trusted: false })`; this trusts it. */
    grantTrust(): void;
    openDocument(file: string, text: string): FakeDocument;
    context(extensionPath: string): any;
}

export function createFakeVscode(folders: string[], settings: FakeSettings, options: { trusted?: boolean } = {}): Fake {
    const log: string[] = [];
    const messages: Array<{ level: string; text: string }> = [];
    const commandMap = new Map<string, (...args: any[]) => any>();
    const diagnostics = new Map<string, Diagnostic[]>();
    const secrets = new Map<string, string>();
    const inputBoxAnswers: Array<string | undefined> = [];
    const textDocuments: FakeDocument[] = [];

    const onDidChangeConfiguration = event();
    const onDidOpenTextDocument = event();
    const onDidChangeSecrets = event();
    const onDidGrantWorkspaceTrust = event();

    const workspaceFolders = folders.map((f, index) => ({ uri: Uri.file(f), name: path.basename(f), index }));

    function configuration(section: string | undefined, scope?: any) {
        const prefix = section ? `${section}.` : '';
        const inFolder = scope !== undefined && scope !== null;
        return {
            get(key: string, fallback?: unknown) {
                const full = prefix + key;
                if (inFolder && full in settings.folder) {
                    return settings.folder[full];
                }
                if (full in settings.user) {
                    return settings.user[full];
                }
                return fallback;
            },
            has(key: string) {
                return prefix + key in settings.user || prefix + key in settings.folder;
            },
            inspect(key: string) {
                const full = prefix + key;
                return {
                    key: full,
                    globalValue: settings.user[full],
                    workspaceFolderValue: inFolder ? settings.folder[full] : undefined,
                };
            },
            update: async () => undefined,
        };
    }

    function outputChannel(name: string) {
        const write = (level: string) => (text: string) => log.push(`[${level}] ${text}`);
        return {
            name,
            logLevel: 2,
            onDidChangeLogLevel: event(),
            append: write('append'),
            appendLine: write('line'),
            replace: write('replace'),
            clear: () => undefined,
            show: () => undefined,
            hide: () => undefined,
            dispose: () => undefined,
            trace: write('trace'),
            debug: write('debug'),
            info: write('info'),
            warn: write('warn'),
            error: (e: unknown) => log.push(`[error] ${e instanceof Error ? e.message : String(e)}`),
        };
    }

    function matchSelector(selector: any, document: FakeDocument): number {
        const filters = Array.isArray(selector) ? selector : [selector];
        for (const f of filters) {
            if (typeof f === 'string') {
                if (f === document.languageId) {
                    return 10;
                }
                continue;
            }
            if (f.notebookType !== undefined) {
                continue; // no notebooks here
            }
            if ((f.language === undefined || f.language === document.languageId) && (f.scheme === undefined || f.scheme === document.uri.scheme)) {
                return 10;
            }
        }
        return 0;
    }

    const message = (level: string) => async (text: string) => {
        messages.push({ level, text });
        return undefined;
    };

    const base: Record<string, any> = {
        version: '1.82.0',
        Disposable,
        EventEmitter,
        Uri,
        Position,
        Range,
        Diagnostic,
        CancellationTokenSource,
        CancellationError,
        DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
        ViewColumn: { Active: -1, Beside: -2, One: 1 },
        ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
        ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
        env: { language: 'en', appName: 'Fake Code', machineId: 'fake', openExternal: async () => true },
        extensions: { getExtension: () => undefined, all: [], onDidChange: event() },
        commands: {
            registerCommand(id: string, handler: (...args: any[]) => any) {
                if (commandMap.has(id)) {
                    throw new Error(`command '${id}' already exists`);
                }
                commandMap.set(id, handler);
                return { dispose: () => commandMap.delete(id) };
            },
            async executeCommand(id: string, ...args: any[]) {
                const handler = commandMap.get(id);
                return handler ? handler(...args) : undefined;
            },
            getCommands: async () => [...commandMap.keys()],
        },
        window: {
            createOutputChannel: outputChannel,
            showErrorMessage: message('error'),
            showWarningMessage: message('warning'),
            showInformationMessage: message('info'),
            showInputBox: async () => inputBoxAnswers.shift(),
            showTextDocument: async () => undefined,
            withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => Promise<unknown>) =>
                task({ report: () => undefined }, new CancellationTokenSource().token),
            activeTextEditor: undefined,
            visibleTextEditors: [],
            visibleNotebookEditors: [],
            tabGroups: { all: [], onDidChangeTabs: event(), onDidChangeTabGroups: event() },
            onDidChangeActiveTextEditor: event(),
            onDidChangeVisibleTextEditors: event(),
            onDidChangeVisibleNotebookEditors: event(),
            onDidChangeActiveNotebookEditor: event(),
        },
        workspace: {
            workspaceFolders,
            isTrusted: options.trusted ?? true,
            textDocuments,
            notebookDocuments: [],
            getConfiguration: configuration,
            getWorkspaceFolder: (uri: Uri) => workspaceFolders.find((f) => uri.fsPath === f.uri.fsPath || uri.fsPath.startsWith(f.uri.fsPath + path.sep)),
            onDidChangeConfiguration,
            onDidOpenTextDocument,
            onDidCloseTextDocument: event(),
            onDidChangeTextDocument: event(),
            onDidSaveTextDocument: event(),
            onWillSaveTextDocument: event(),
            onDidChangeWorkspaceFolders: event(),
            onDidGrantWorkspaceTrust,
            onDidOpenNotebookDocument: event(),
            onDidCloseNotebookDocument: event(),
            onDidChangeNotebookDocument: event(),
            onDidSaveNotebookDocument: event(),
            onDidCreateFiles: event(),
            onDidRenameFiles: event(),
            onDidDeleteFiles: event(),
            onWillCreateFiles: event(),
            onWillRenameFiles: event(),
            onWillDeleteFiles: event(),
            createFileSystemWatcher: () => ({
                onDidCreate: event(),
                onDidChange: event(),
                onDidDelete: event(),
                dispose: () => undefined,
            }),
            openTextDocument: async () => universal('document'),
            applyEdit: async () => true,
        },
        languages: {
            match: matchSelector,
            createDiagnosticCollection: (name: string) => ({
                name,
                set(uri: any, diags?: Diagnostic[]) {
                    if (Array.isArray(uri)) {
                        for (const [u, d] of uri) {
                            diagnostics.set(u.toString(), d ?? []);
                        }
                    } else {
                        diagnostics.set(uri.toString(), diags ?? []);
                    }
                },
                delete: (uri: any) => diagnostics.delete(uri.toString()),
                clear: () => diagnostics.clear(),
                forEach: () => undefined,
                get: (uri: any) => diagnostics.get(uri.toString()),
                has: (uri: any) => diagnostics.has(uri.toString()),
                dispose: () => undefined,
            }),
        },
    };

    const module = new Proxy(base, {
        get(target, prop: string) {
            if (prop in target) {
                return target[prop];
            }
            if (prop === '__esModule' || prop === 'default' || prop === 'then') {
                return undefined;
            }
            return universal(`vscode.${prop}`);
        },
    });
    for (const ns of ['window', 'workspace', 'languages', 'commands', 'env', 'extensions']) {
        base[ns] = new Proxy(base[ns], {
            get(target, prop: string) {
                if (prop in target) {
                    return target[prop];
                }
                if (typeof prop === 'string' && prop.startsWith('on')) {
                    target[prop] = event();
                    return target[prop];
                }
                return universal(`vscode.${ns}.${prop}`);
            },
        });
    }

    return {
        module,
        log,
        messages,
        commands: commandMap,
        diagnostics,
        settings,
        secrets,
        inputBoxAnswers,
        grantTrust() {
            module.workspace.isTrusted = true;
            onDidGrantWorkspaceTrust.fire();
        },
        fireConfigurationChange(keys: string[]) {
            onDidChangeConfiguration.fire({
                affectsConfiguration: (section: string) => keys.some((k) => k === section || k.startsWith(`${section}.`)),
            });
        },
        openDocument(file: string, text: string) {
            const document: FakeDocument = {
                uri: Uri.file(file),
                fileName: file,
                languageId: 'python',
                version: 1,
                isUntitled: false,
                isClosed: false,
                lineCount: text.split('\n').length,
                getText: () => text,
            };
            textDocuments.push(document);
            onDidOpenTextDocument.fire(document);
            return document;
        },
        context(extensionPath: string) {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const packageJSON = require(path.join(extensionPath, 'package.json'));
            return {
                subscriptions: [] as Array<{ dispose(): void }>,
                extension: { packageJSON, extensionPath, id: 'megawatt.megawatt' },
                extensionPath,
                secrets: {
                    get: async (key: string) => secrets.get(key),
                    store: async (key: string, value: string) => {
                        secrets.set(key, value);
                        onDidChangeSecrets.fire({ key });
                    },
                    delete: async (key: string) => {
                        secrets.delete(key);
                        onDidChangeSecrets.fire({ key });
                    },
                    onDidChange: onDidChangeSecrets,
                },
            };
        },
    };
}
