/**
 * Which program runs the Megawatt server.
 *
 * The order, first match wins:
 *   1. `megawatt.path`: a `megawatt` executable, run as `<path...> serve`;
 *   2. `megawatt.interpreter`: a Python, run as `<interpreter...> -m megawatt serve`;
 *   3. the Python extension's active environment for the folder (when that extension is installed);
 *   4. `python3` on PATH (`python` on Windows, where `python3` is often the Store stub).
 *
 * Pure: the Python extension's answer is passed in.
 */

export type LauncherSource = 'path' | 'interpreter' | 'pythonExtension' | 'default';

export interface Launcher {
    /** `executable`: argv runs Megawatt itself; `python`: argv is a Python to run the module with. */
    readonly kind: 'executable' | 'python';
    /** The command and its leading arguments. */
    readonly argv: readonly string[];
    /** Where the choice came from, for the log. */
    readonly source: LauncherSource;
}

export interface LauncherInput {
    /** `megawatt.path` for the scope (variables already substituted). */
    readonly path: readonly string[];
    /** `megawatt.interpreter` as the user set it (not filled from the Python extension). */
    readonly interpreter: readonly string[];
    /** The Python extension's active interpreter, if the extension is there and has one. */
    readonly pythonExtension?: readonly string[];
    /** `process.platform`. */
    readonly platform: string;
}

function nonEmpty(argv: readonly string[] | undefined): argv is readonly string[] {
    return argv !== undefined && argv.length > 0 && argv[0].trim() !== '';
}

export function defaultPython(platform: string): string {
    return platform === 'win32' ? 'python' : 'python3';
}

export function chooseLauncher(input: LauncherInput): Launcher {
    if (nonEmpty(input.path)) {
        return { kind: 'executable', argv: [...input.path], source: 'path' };
    }
    if (nonEmpty(input.interpreter)) {
        return { kind: 'python', argv: [...input.interpreter], source: 'interpreter' };
    }
    if (nonEmpty(input.pythonExtension)) {
        return { kind: 'python', argv: [...input.pythonExtension], source: 'pythonExtension' };
    }
    return { kind: 'python', argv: [defaultPython(input.platform)], source: 'default' };
}

export function describeSource(source: LauncherSource): string {
    switch (source) {
        case 'path':
            return 'megawatt.path';
        case 'interpreter':
            return 'megawatt.interpreter';
        case 'pythonExtension':
            return "the Python extension's active environment";
        case 'default':
            return 'the default Python on PATH';
    }
}
