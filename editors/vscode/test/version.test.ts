import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { checkExecutable, checkVersion, isSupported, parseProbe, parsePythonVersion, probeScript } from '../src/common/version';

describe('parsePythonVersion', () => {
    it('reads plain and `python --version` forms', () => {
        assert.deepEqual(parsePythonVersion('3.12.1'), [3, 12, 1]);
        assert.deepEqual(parsePythonVersion('Python 3.11.0rc1\n'), [3, 11, 0]);
        assert.deepEqual(parsePythonVersion('Python 3.13'), [3, 13, 0]);
        assert.deepEqual(parsePythonVersion('Python 2.7.18'), [2, 7, 18]);
    });

    it('refuses what is not a version', () => {
        assert.equal(parsePythonVersion(''), undefined);
        assert.equal(parsePythonVersion('command not found'), undefined);
    });
});

describe('parseProbe', () => {
    it("reads the probe's JSON line, skipping noise before it", () => {
        const out = 'sitecustomize says hi\n{"version": [3, 12, 4], "megawatt": "0.1.0", "executable": "/e/bin/python"}\n';
        assert.deepEqual(parseProbe(out), { version: [3, 12, 4], megawatt: '0.1.0', executable: '/e/bin/python' });
    });

    it('tells "not installed" (null) from "installed without metadata" (empty)', () => {
        assert.equal(parseProbe('{"version": [3, 11, 2], "megawatt": null}')?.megawatt, null);
        assert.equal(parseProbe('{"version": [3, 11, 2], "megawatt": ""}')?.megawatt, '');
    });

    it('falls back to a version string, and gives undefined for garbage', () => {
        assert.deepEqual(parseProbe('Python 3.10.12'), { version: [3, 10, 12] });
        assert.equal(parseProbe('{"version": "3.12"}\nTraceback'), undefined);
        assert.equal(parseProbe(''), undefined);
    });
});

describe('checkVersion', () => {
    it('accepts 3.11 and newer', () => {
        assert.equal(isSupported([3, 11, 0]), true);
        assert.equal(isSupported([3, 14, 0]), true);
        assert.equal(isSupported([4, 0, 0]), true);
        const verdict = checkVersion('/e/bin/python', { version: [3, 12, 1], megawatt: '0.1.0' });
        assert.deepEqual(verdict, { ok: true, message: '/e/bin/python: Python 3.12.1, megawatt 0.1.0' });
    });

    it('refuses Python < 3.11 with a message naming the interpreter, its version and the fix', () => {
        assert.equal(isSupported([3, 10, 14]), false);
        assert.equal(isSupported([2, 7, 18]), false);
        const verdict = checkVersion('/usr/bin/python3', { version: [3, 10, 14], megawatt: null });
        assert.equal(verdict.ok, false);
        assert.match(verdict.message, /needs Python 3\.11 or newer, but \/usr\/bin\/python3 is Python 3\.10\.14/);
        assert.match(verdict.message, /megawatt\.interpreter/);
    });

    it('refuses a Python without megawatt, saying how to install it', () => {
        const verdict = checkVersion('python3', { version: [3, 12, 0], megawatt: null });
        assert.equal(verdict.ok, false);
        assert.match(verdict.message, /python3 -m pip install megawatt/);
    });

    it('refuses an interpreter that did not run', () => {
        assert.equal(checkVersion('nope', undefined).ok, false);
    });
});

describe('probeScript', () => {
    it('refuses a module name that is not one', () => {
        assert.throws(() => probeScript("x'); import os; ('"));
    });

    it('runs under a real Python and its output parses', (t) => {
        let stdout: string;
        try {
            stdout = execFileSync('python3', ['-c', probeScript('json')], { encoding: 'utf8' });
        } catch {
            t.skip('no python3 on PATH');
            return;
        }
        const probe = parseProbe(stdout);
        assert.ok(probe !== undefined);
        assert.equal(probe.version[0], 3);
        // json is importable but is no distribution: importable without metadata
        assert.equal(probe.megawatt, '');
        const missing = parseProbe(execFileSync('python3', ['-c', probeScript('no_such_module_xyz')], { encoding: 'utf8' }));
        assert.equal(missing?.megawatt, null);
    });
});

describe('checkExecutable', () => {
    it('accepts a megawatt.path executable that answers --version', () => {
        assert.deepEqual(checkExecutable('/opt/megawatt', 'megawatt, version 0.1.0\n'), {
            ok: true,
            message: '/opt/megawatt: megawatt 0.1.0',
        });
        assert.equal(checkExecutable('/opt/megawatt', '').ok, true);
    });

    it('refuses one that does not run, naming the setting', () => {
        const verdict = checkExecutable('/nope/megawatt', undefined);
        assert.equal(verdict.ok, false);
        assert.match(verdict.message, /megawatt\.path/);
    });
});
