/**
 * The server process: command, arguments, working directory and environment.
 *
 * Pure. The Anthropic API key reaches the server only here, as ANTHROPIC_API_KEY in the process
 * environment; `describeLaunch` (what the log shows) never includes the environment.
 */

import { Launcher } from './interpreter';

export interface LaunchSpec {
    readonly command: string;
    readonly args: string[];
    readonly cwd?: string;
    readonly env: Record<string, string>;
}

export interface LaunchInput {
    /** The first workspace folder's path; none when no folder is open. */
    readonly cwd?: string;
    /** The extension host's environment, inherited by the server. */
    readonly baseEnv: Readonly<Record<string, string | undefined>>;
    /** The key from VS Code's secret storage, if one is stored. */
    readonly apiKey?: string;
    /** The Python module that runs the server; `megawatt` unless package.json says otherwise. */
    readonly module?: string;
}

/**
 * The arguments after the launcher's argv that start the language server: `serve` for a megawatt
 * executable, `-m <module> serve` for a Python (`module` is package.json's `serverInfo.module`).
 */
export function serveArgs(launcher: Launcher, module = 'megawatt'): string[] {
    return launcher.kind === 'executable' ? ['serve'] : ['-m', module, 'serve'];
}

export function buildLaunch(launcher: Launcher, input: LaunchInput): LaunchSpec {
    const [command, ...leading] = launcher.argv;
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.baseEnv)) {
        if (value !== undefined) {
            env[name] = value;
        }
    }
    // logs reach the output channel as they are written
    env.PYTHONUNBUFFERED = '1';
    if (input.apiKey !== undefined && input.apiKey !== '') {
        env.ANTHROPIC_API_KEY = input.apiKey;
    }
    return { command, args: [...leading, ...serveArgs(launcher, input.module)], cwd: input.cwd, env };
}

function quote(arg: string): string {
    return /^[\w@%+=:,./\\-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The command line for the log, without the environment. */
export function describeLaunch(spec: LaunchSpec): string {
    const line = [spec.command, ...spec.args].map(quote).join(' ');
    return spec.cwd !== undefined ? `${line} (in ${spec.cwd})` : line;
}
