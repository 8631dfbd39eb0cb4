/**
 * Checking the interpreter before the server starts: Megawatt needs Python 3.11 or newer, with the
 * `megawatt` package installed.
 *
 * The extension runs `<python> -c probeScript()` and hands the output to `parseProbe`; the script is
 * written to run (and say something useful) even on a Python 2.
 */

export const MIN_PYTHON: readonly [number, number] = [3, 11];

/**
 * A script for `<python> -c` that prints one JSON line: the Python version, the version of `module`
 * ('' when it imports but has no metadata, null when it does not import) and sys.executable. Run it
 * in the server's working directory, where `-m module` would look too.
 */
export function probeScript(module = 'megawatt'): string {
    if (!/^[A-Za-z_][\w.]*$/.test(module)) {
        throw new Error(`not a module name: ${module}`);
    }
    return [
        'import sys, json',
        'mw = None',
        'try:',
        '    import importlib.util',
        `    if importlib.util.find_spec('${module}') is not None:`,
        "        mw = ''",
        '        from importlib.metadata import version',
        `        mw = version('${module}')`,
        'except Exception:',
        '    pass',
        "print(json.dumps({'version': list(sys.version_info[:3]), 'megawatt': mw, 'executable': sys.executable}))",
    ].join('\n');
}

export type PythonVersion = readonly [number, number, number];

export interface Probe {
    readonly version: PythonVersion;
    /** megawatt's version ('' when importable but without metadata); null when not importable; undefined when not probed. */
    readonly megawatt?: string | null;
    readonly executable?: string;
}

/** `3.12.1`, `Python 3.11.0rc1`, `3.13` → the version; anything else → undefined. */
export function parsePythonVersion(text: string): PythonVersion | undefined {
    const match = /(?:^|\s|Python\s*)(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
    if (!match) {
        return undefined;
    }
    return [Number(match[1]), Number(match[2]), match[3] !== undefined ? Number(match[3]) : 0];
}

/** The probe's output (its last JSON line), else a bare version string; undefined when neither. */
export function parseProbe(stdout: string): Probe | undefined {
    const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
    for (const line of lines.reverse()) {
        if (!line.startsWith('{')) {
            continue;
        }
        try {
            const data = JSON.parse(line) as { version?: unknown; megawatt?: unknown; executable?: unknown };
            const v = data.version;
            if (Array.isArray(v) && v.length >= 2 && v.every((n) => typeof n === 'number')) {
                return {
                    version: [v[0], v[1], v.length > 2 ? v[2] : 0],
                    megawatt: typeof data.megawatt === 'string' ? data.megawatt : data.megawatt === null ? null : undefined,
                    executable: typeof data.executable === 'string' ? data.executable : undefined,
                };
            }
        } catch {
            // not the probe's line
        }
    }
    const version = parsePythonVersion(stdout);
    return version !== undefined ? { version } : undefined;
}

export function formatVersion(version: readonly number[]): string {
    return version.join('.');
}

export function isSupported(version: PythonVersion, min: readonly [number, number] = MIN_PYTHON): boolean {
    return version[0] > min[0] || (version[0] === min[0] && version[1] >= min[1]);
}

export type VersionVerdict = { ok: true; message: string } | { ok: false; message: string };

/** Whether the server can start under the probed interpreter, and what to tell the user. */
export function checkVersion(interpreter: string, probe: Probe | undefined): VersionVerdict {
    if (probe === undefined) {
        return {
            ok: false,
            message:
                `Could not run ${interpreter} to check its version. Set "megawatt.interpreter" to a ` +
                'Python 3.11+ executable, or select one with the Python extension.',
        };
    }
    const found = formatVersion(probe.version);
    if (!isSupported(probe.version)) {
        return {
            ok: false,
            message:
                `Megawatt needs Python ${formatVersion(MIN_PYTHON)} or newer, but ${interpreter} is Python ${found}. ` +
                'Set "megawatt.interpreter" to a newer Python, or select one with the Python extension.',
        };
    }
    if (probe.megawatt === null) {
        return {
            ok: false,
            message:
                `Megawatt is not installed for ${interpreter} (Python ${found}). ` +
                `Install it with: ${interpreter} -m pip install megawatt`,
        };
    }
    const installed = probe.megawatt ? `, megawatt ${probe.megawatt}` : '';
    return { ok: true, message: `${interpreter}: Python ${found}${installed}` };
}

/**
 * Whether a `megawatt.path` executable ran `--version` (its output, or undefined when it could not
 * run), and what to tell the user.
 */
export function checkExecutable(executable: string, stdout: string | undefined): VersionVerdict {
    if (stdout === undefined) {
        return {
            ok: false,
            message:
                `Could not run ${executable} --version. Set "megawatt.path" to a megawatt executable, ` +
                'or clear it to run Megawatt with a Python interpreter.',
        };
    }
    const version = /(\d+\.\d+(?:\.\d+)?\S*)/.exec(stdout)?.[1];
    return { ok: true, message: `${executable}: megawatt ${version ?? '(version unknown)'}` };
}
