/**
 * The commands in the palette and the server commands they run.
 *
 * vscode-languageclient registers a VS Code command for every id in the server's
 * `executeCommandProvider.commands` (`megawatt.recordProfile`, `megawatt.reloadProfiles`,
 * `megawatt.scanWorkspace`, `megawatt.showSkill`, ...), which is how the commands inside code
 * lenses and code actions reach the server. Registering a handler under the same id would fail
 * ("command already exists"), so the palette commands contributed in package.json use their own
 * ids, `megawatt.client.<name>`, and forward to the server through `workspace/executeCommand`.
 *
 * Pure: no `vscode` import.
 */

/** Palette command id → the server command it executes. */
export const SERVER_COMMANDS: Readonly<Record<string, string>> = {
    'megawatt.client.recordProfile': 'megawatt.recordProfile',
    'megawatt.client.reloadProfiles': 'megawatt.reloadProfiles',
    'megawatt.client.scanWorkspace': 'megawatt.scanWorkspace',
    'megawatt.client.showSkill': 'megawatt.showSkill',
    'megawatt.client.showLastRequest': 'megawatt.showLastRequest',
};

/** Commands handled in the extension alone; the server must not advertise these ids. */
export const CLIENT_COMMANDS: readonly string[] = ['megawatt.restart', 'megawatt.setApiKey', 'megawatt.showLogs'];

/** Ids the server advertises that collide with the extension's own commands (a bug to report). */
export function collidingCommands(advertised: readonly string[] | undefined): string[] {
    const own = new Set([...CLIENT_COMMANDS, ...Object.keys(SERVER_COMMANDS)]);
    return (advertised ?? []).filter((id) => own.has(id));
}

/** Server commands the palette offers that the running server does not advertise. */
export function missingServerCommands(advertised: readonly string[] | undefined): string[] {
    const known = new Set(advertised ?? []);
    return Object.values(SERVER_COMMANDS).filter((id) => !known.has(id));
}

/** What to show for a server command's result. */
export type CommandOutcome =
    | { kind: 'none' }
    | { kind: 'text'; text: string; language: string }
    | { kind: 'uri'; uri: string };

/**
 * Megawatt's server commands show their own results (`window/showDocument` for the report, the
 * skill and a new profile; messages otherwise) and return a path or a count, which the extension
 * leaves alone. A result shaped as a document to show — `{ uri }`, `{ markdown }` or `{ text }` —
 * is opened, so a command can hand back something for clients without `window/showDocument`.
 */
export function interpretResult(result: unknown): CommandOutcome {
    if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
        const r = result as Record<string, unknown>;
        if (typeof r.uri === 'string' && r.uri !== '') {
            return { kind: 'uri', uri: r.uri };
        }
        if (typeof r.markdown === 'string' && r.markdown.trim() !== '') {
            return { kind: 'text', text: r.markdown, language: 'markdown' };
        }
        if (typeof r.text === 'string' && r.text.trim() !== '') {
            return { kind: 'text', text: r.text, language: 'plaintext' };
        }
    }
    return { kind: 'none' };
}
