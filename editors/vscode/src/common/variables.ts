/**
 * Client-side substitution of `${...}` variables in setting values.
 *
 * Pure: no `vscode` import. The caller passes what the variables stand for, so the same code serves
 * the extension and the tests.
 */

export interface VariableContext {
    /** File-system path of the workspace folder the value belongs to, if any. */
    readonly workspaceFolder?: string;
    /** The user's home directory. */
    readonly userHome?: string;
    /** The extension host's environment, for `${env:NAME}`. */
    readonly env?: Readonly<Record<string, string | undefined>>;
}

const VARIABLE = /\$\{([^}]+)\}/g;

function basename(path: string): string {
    const trimmed = path.replace(/[\\/]+$/, '');
    const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
    return cut >= 0 ? trimmed.slice(cut + 1) : trimmed;
}

/**
 * Replaces `${workspaceFolder}`, `${workspaceFolderBasename}`, `${userHome}` and `${env:NAME}` in
 * `value`, and a leading `~/` (or a bare `~`) by the home directory. A variable whose value is unknown
 * (no folder for a user-level setting, no home) is left as written; an unset environment variable
 * becomes the empty string, as in VS Code's own resolver.
 */
export function substituteVariables(value: string, ctx: VariableContext): string {
    let out = value.replace(VARIABLE, (whole: string, name: string) => {
        if (name === 'workspaceFolder') {
            return ctx.workspaceFolder ?? whole;
        }
        if (name === 'workspaceFolderBasename') {
            return ctx.workspaceFolder !== undefined ? basename(ctx.workspaceFolder) : whole;
        }
        if (name === 'userHome') {
            return ctx.userHome ?? whole;
        }
        if (name.startsWith('env:')) {
            return ctx.env?.[name.slice(4)] ?? '';
        }
        return whole;
    });
    if (ctx.userHome !== undefined && (out === '~' || out.startsWith('~/') || out.startsWith('~\\'))) {
        out = ctx.userHome + out.slice(1);
    }
    return out;
}

/** Substitutes in every string of a (JSON-like) value: strings, arrays and object values. */
export function substituteDeep<T>(value: T, ctx: VariableContext): T {
    if (typeof value === 'string') {
        return substituteVariables(value, ctx) as unknown as T;
    }
    if (Array.isArray(value)) {
        return value.map((item) => substituteDeep(item, ctx)) as unknown as T;
    }
    if (value !== null && typeof value === 'object') {
        const out: Record<string, unknown> = {};
        for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
            out[substituteVariables(key, ctx)] = substituteDeep(item, ctx);
        }
        return out as T;
    }
    return value;
}
