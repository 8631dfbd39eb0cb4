import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseLauncher, defaultPython } from '../src/common/interpreter';

describe('chooseLauncher: the interpreter choice order', () => {
    const ext = ['/env/bin/python'];

    it('1. megawatt.path wins over everything and runs the executable itself', () => {
        assert.deepEqual(
            chooseLauncher({ path: ['/opt/megawatt'], interpreter: ['/usr/bin/python3.12'], pythonExtension: ext, platform: 'linux' }),
            { kind: 'executable', argv: ['/opt/megawatt'], source: 'path' },
        );
    });

    it('2. then megawatt.interpreter, with its leading arguments', () => {
        assert.deepEqual(
            chooseLauncher({ path: [], interpreter: ['conda', 'run', '-n', 'perf', 'python'], pythonExtension: ext, platform: 'linux' }),
            { kind: 'python', argv: ['conda', 'run', '-n', 'perf', 'python'], source: 'interpreter' },
        );
    });

    it("3. then the Python extension's active environment", () => {
        assert.deepEqual(chooseLauncher({ path: [], interpreter: [], pythonExtension: ext, platform: 'linux' }), {
            kind: 'python',
            argv: ['/env/bin/python'],
            source: 'pythonExtension',
        });
    });

    it('4. else python3 on PATH (python on Windows)', () => {
        assert.deepEqual(chooseLauncher({ path: [], interpreter: [], platform: 'linux' }), {
            kind: 'python',
            argv: ['python3'],
            source: 'default',
        });
        assert.deepEqual(chooseLauncher({ path: [], interpreter: [], pythonExtension: [], platform: 'win32' }).argv, ['python']);
        assert.equal(defaultPython('darwin'), 'python3');
    });

    it('treats a blank first entry as unset', () => {
        assert.equal(chooseLauncher({ path: [''], interpreter: ['  '], pythonExtension: ext, platform: 'linux' }).source, 'pythonExtension');
    });
});
