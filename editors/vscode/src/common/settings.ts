/**
 * Megawatt's editor settings: read per workspace folder and at user level, validated, variables
 * substituted, and shaped as the server reads them.
 *
 * The flow follows the Python tools extension template: one settings object per workspace folder
 * (folder value, else workspace value, else user value) and one global object from user-level
 * values, sent as initializationOptions `{ settings: [{ workspace, ...folder }], globalSettings,
 * trusted }` — the shape ruff's server reads, plus whether VS Code trusts the workspace. The same
 * objects answer `workspace/configuration`.
 *
 * Keys are the setting names without the `megawatt.` prefix, in camelCase as in package.json
 * (`pathMap`, `hotThreshold`, `profileCommand`, `llm.enabled` → `llm: { enabled }`).
 *
 * Analysis settings the user has not set anywhere are left out, so `[tool.megawatt]` in the
 * project's pyproject.toml applies; settings that only the editor knows (interpreter, path,
 * showNotifications, llm.enabled) are always present.
 *
 * Pure: no `vscode` import; VS Code's `WorkspaceConfiguration.inspect` is passed in.
 */

import { substituteDeep, VariableContext } from './variables';

export type NotificationLevel = 'off' | 'onError' | 'always';

export interface LlmSettings {
    enabled: boolean;
    model?: string;
}

/** The settings of one scope, as sent to the server. Optional keys are absent when unset. */
export interface MegawattSettings {
    /** The interpreter for this scope: the setting, else the Python extension's, else empty. */
    interpreter: string[];
    path: string[];
    showNotifications: NotificationLevel;
    llm: LlmSettings;
    profiles?: string[];
    pathMap?: Record<string, string>;
    hotThreshold?: number;
    select?: string[];
    ignore?: string[];
    profileCommand?: string[];
}

export interface FolderSettings extends MegawattSettings {
    /** The workspace folder's URI, as VS Code writes it (`file:///...`). */
    workspace: string;
}

export interface InitializationOptions {
    settings: FolderSettings[];
    globalSettings: MegawattSettings;
    /**
     * VS Code's Workspace Trust. When false the server offers no AI fixes (asks no model, runs no
     * tests) and records no profile; other editors leave it out, and the server then trusts.
     */
    trusted: boolean;
}

/** The part of VS Code's `WorkspaceConfiguration.inspect(key)` result that is used here. */
export interface InspectedValue {
    defaultValue?: unknown;
    globalValue?: unknown;
    workspaceValue?: unknown;
    workspaceFolderValue?: unknown;
}

/** Inspects one key of the `megawatt` section (`'interpreter'`, `'llm.enabled'`, ...). */
export type ConfigInspector = (key: string) => InspectedValue | undefined;

type Kind = 'strings' | 'stringMap' | 'number' | 'boolean' | 'string' | 'notifications';

interface KeySpec {
    /** Key under `megawatt.`; dots make nested objects (`llm.enabled`). */
    readonly key: string;
    readonly kind: Kind;
    /** Sent with this default when unset; else left out when unset. */
    readonly fallback?: unknown;
    /** `${...}` variables are substituted in its strings. */
    readonly substitute: boolean;
    /**
     * Runs a program or sends code away: in an untrusted workspace only the user's value counts
     * (package.json lists these as `restrictedConfigurations`).
     */
    readonly restricted: boolean;
}

/** Every setting the server receives, in package.json order. */
export const SETTING_KEYS: readonly KeySpec[] = [
    { key: 'interpreter', kind: 'strings', fallback: [], substitute: true, restricted: true },
    { key: 'path', kind: 'strings', fallback: [], substitute: true, restricted: true },
    { key: 'profiles', kind: 'strings', substitute: true, restricted: false },
    { key: 'pathMap', kind: 'stringMap', substitute: true, restricted: false },
    { key: 'hotThreshold', kind: 'number', substitute: false, restricted: false },
    { key: 'select', kind: 'strings', substitute: false, restricted: false },
    { key: 'ignore', kind: 'strings', substitute: false, restricted: false },
    { key: 'profileCommand', kind: 'strings', substitute: true, restricted: true },
    { key: 'llm.enabled', kind: 'boolean', fallback: false, substitute: false, restricted: true },
    { key: 'llm.model', kind: 'string', substitute: false, restricted: false },
    { key: 'showNotifications', kind: 'notifications', fallback: 'onError', substitute: false, restricted: false },
];

/** Settings whose change restarts the server (they decide what process runs). */
export const LAUNCH_SETTINGS: readonly string[] = ['megawatt.interpreter', 'megawatt.path'];

/** True when a configuration change touches a setting that needs a new server process. */
export function affectsLaunch(affects: (section: string) => boolean): boolean {
    return LAUNCH_SETTINGS.some((section) => affects(section));
}

const NOTIFICATION_LEVELS: readonly string[] = ['off', 'onError', 'always'];

/**
 * `value` checked against `kind`: the accepted value, or `undefined` and a problem when it has the
 * wrong type. A single string where a list is expected is taken as a one-item list.
 */
function validate(kind: Kind, value: unknown): { value?: unknown; problem?: string } {
    switch (kind) {
        case 'strings':
            if (typeof value === 'string') {
                return { value: value === '' ? [] : [value] };
            }
            if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
                return { value: [...value] };
            }
            return { problem: 'expected a list of strings' };
        case 'stringMap':
            if (
                value !== null &&
                typeof value === 'object' &&
                !Array.isArray(value) &&
                Object.values(value).every((item) => typeof item === 'string')
            ) {
                return { value: { ...(value as Record<string, string>) } };
            }
            return { problem: 'expected an object whose values are strings' };
        case 'number':
            if (typeof value === 'number' && Number.isFinite(value)) {
                return { value };
            }
            return { problem: 'expected a number' };
        case 'boolean':
            if (typeof value === 'boolean') {
                return { value };
            }
            return { problem: 'expected true or false' };
        case 'string':
            if (typeof value === 'string') {
                // an empty model name means "the server's default"
                return { value: value === '' ? undefined : value };
            }
            return { problem: 'expected a string' };
        case 'notifications':
            if (typeof value === 'string' && NOTIFICATION_LEVELS.includes(value)) {
                return { value };
            }
            return { problem: `expected one of ${NOTIFICATION_LEVELS.join(', ')}` };
    }
}

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
    const parts = dotted.split('.');
    let node = target;
    for (const part of parts.slice(0, -1)) {
        if (typeof node[part] !== 'object' || node[part] === null) {
            node[part] = {};
        }
        node = node[part] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]] = value;
}

export interface ScopeInput {
    /** Inspects the `megawatt` section for this scope (a folder's URI, or none for user level). */
    readonly inspect: ConfigInspector;
    /** The folder's path, for `${workspaceFolder}`; for the global scope, the first folder if any. */
    readonly workspaceFolder?: string;
    /** The Python extension's active interpreter for this scope, if any. */
    readonly pythonInterpreter?: readonly string[];
}

export interface Environment {
    readonly userHome?: string;
    readonly env?: Readonly<Record<string, string | undefined>>;
    /** Whether the workspace is trusted; when not, restricted settings use user values only. */
    readonly trusted: boolean;
}

export interface Resolved<T> {
    readonly value: T;
    /** Settings that were ignored for having the wrong type, one line each. */
    readonly problems: string[];
}

/**
 * The settings of one scope. `level` says which values count: `'folder'` takes the folder's value,
 * else the workspace's, else the user's; `'global'` takes only the user's.
 */
export function resolveScope(scope: ScopeInput, level: 'folder' | 'global', environment: Environment): Resolved<MegawattSettings> {
    const out: Record<string, unknown> = {};
    const problems: string[] = [];
    const ctx: VariableContext = {
        workspaceFolder: scope.workspaceFolder,
        userHome: environment.userHome,
        env: environment.env,
    };
    for (const spec of SETTING_KEYS) {
        const inspected = scope.inspect(spec.key) ?? {};
        const layers: Array<[string, unknown]> = [];
        if (level === 'folder' && (environment.trusted || !spec.restricted)) {
            layers.push(['workspace folder', inspected.workspaceFolderValue]);
            layers.push(['workspace', inspected.workspaceValue]);
        }
        layers.push(['user', inspected.globalValue]);

        let value: unknown = undefined;
        for (const [where, candidate] of layers) {
            if (candidate === undefined || candidate === null) {
                continue;
            }
            const checked = validate(spec.kind, candidate);
            if (checked.problem !== undefined) {
                problems.push(`megawatt.${spec.key} (${where} setting): ${checked.problem}; ignored`);
                continue;
            }
            value = checked.value;
            break;
        }
        if (value === undefined) {
            value = spec.fallback;
        }
        if (value === undefined) {
            continue;
        }
        if (spec.substitute) {
            value = substituteDeep(value, ctx);
        }
        setPath(out, spec.key, value);
    }
    const settings = out as unknown as MegawattSettings;
    if (settings.interpreter.length === 0 && scope.pythonInterpreter && scope.pythonInterpreter.length > 0) {
        settings.interpreter = [...scope.pythonInterpreter];
    }
    return { value: settings, problems };
}

export interface FolderInput extends ScopeInput {
    /** The folder's URI string. */
    readonly uri: string;
    /** The folder's file-system path. */
    readonly workspaceFolder: string;
}

/** initializationOptions for the server: one object per folder and the user-level one. */
export function buildInitializationOptions(
    folders: readonly FolderInput[],
    global: ScopeInput,
    environment: Environment,
): Resolved<InitializationOptions> {
    const problems: string[] = [];
    const settings: FolderSettings[] = folders.map((folder) => {
        const resolved = resolveScope(folder, 'folder', environment);
        problems.push(...resolved.problems.map((p) => `${p} [${folder.workspaceFolder}]`));
        return { workspace: folder.uri, ...resolved.value };
    });
    const globalResolved = resolveScope(global, 'global', environment);
    for (const problem of globalResolved.problems) {
        if (!problems.some((p) => p.startsWith(problem))) {
            problems.push(problem);
        }
    }
    return { value: { settings, globalSettings: globalResolved.value, trusted: environment.trusted }, problems };
}

function normaliseUri(uri: string): string {
    // notebook cells live at vscode-notebook-cell:/path/nb.ipynb#cell (no `//` when there is no
    // authority); they belong to the notebook file's folder
    let out = uri.replace(/^vscode-notebook-cell:(\/\/)?/, 'file://').replace(/#.*$/, '');
    // VS Code writes file:///c%3A/x, Python's Path.as_uri() file:///C:/x: compare decoded, drive
    // letter in lower case
    try {
        out = decodeURIComponent(out);
    } catch {
        // not percent-encoded consistently: compare as written
    }
    return out.replace(/^file:\/\/\/([A-Za-z]):/, (_m: string, drive: string) => `file:///${drive.toLowerCase()}:`).replace(/\/+$/, '');
}

/** The folder (by longest prefix) that `uri` belongs to, from `folders` (URI strings). */
export function folderForUri(folders: readonly string[], uri: string): string | undefined {
    const target = normaliseUri(uri);
    let best: string | undefined;
    let bestLength = -1;
    for (const folder of folders) {
        const root = normaliseUri(folder);
        if ((target === root || target.startsWith(root + '/')) && root.length > bestLength) {
            best = folder;
            bestLength = root.length;
        }
    }
    return best;
}

/** The settings that apply to `scopeUri`: its folder's, else the global ones. */
export function settingsForScope(options: InitializationOptions, scopeUri: string | undefined): MegawattSettings {
    if (scopeUri !== undefined) {
        const folder = folderForUri(
            options.settings.map((s) => s.workspace),
            scopeUri,
        );
        const found = options.settings.find((s) => s.workspace === folder);
        if (found !== undefined) {
            return found;
        }
    }
    return options.globalSettings;
}

/**
 * The answer to one `workspace/configuration` item, or `undefined` when the section is not
 * Megawatt's (the caller then asks VS Code). `megawatt` gives the whole object, `megawatt.llm` its
 * part; a missing key gives `null`, as the protocol wants.
 */
export function answerConfigurationItem(
    options: InitializationOptions,
    item: { scopeUri?: string; section?: string },
): unknown {
    const section = item.section;
    if (section === undefined || (section !== 'megawatt' && !section.startsWith('megawatt.'))) {
        return undefined;
    }
    let node: unknown = settingsForScope(options, item.scopeUri);
    for (const part of section.split('.').slice(1)) {
        if (node === null || typeof node !== 'object' || !(part in (node as Record<string, unknown>))) {
            return null;
        }
        node = (node as Record<string, unknown>)[part];
    }
    return node ?? null;
}
