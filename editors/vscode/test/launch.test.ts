import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLaunch, describeLaunch, serveArgs } from '../src/common/launch';

describe('buildLaunch', () => {
    it('runs a Python as `<python> -m megawatt serve` in the first folder', () => {
        const spec = buildLaunch({ kind: 'python', argv: ['/w/.venv/bin/python'], source: 'interpreter' }, { cwd: '/w', baseEnv: {} });
        assert.equal(spec.command, '/w/.venv/bin/python');
        assert.deepEqual(spec.args, ['-m', 'megawatt', 'serve']);
        assert.equal(spec.cwd, '/w');
    });

    it('keeps an interpreter\'s leading arguments before -m', () => {
        const spec = buildLaunch({ kind: 'python', argv: ['uv', 'run', 'python'], source: 'interpreter' }, { baseEnv: {} });
        assert.equal(spec.command, 'uv');
        assert.deepEqual(spec.args, ['run', 'python', '-m', 'megawatt', 'serve']);
        assert.equal(spec.cwd, undefined);
    });

    it('runs a megawatt executable as `<path> serve`', () => {
        const spec = buildLaunch({ kind: 'executable', argv: ['/opt/bin/megawatt', '--verbose'], source: 'path' }, { baseEnv: {} });
        assert.equal(spec.command, '/opt/bin/megawatt');
        assert.deepEqual(spec.args, ['--verbose', 'serve']);
    });

    it("uses package.json's serverInfo.module", () => {
        assert.deepEqual(serveArgs({ kind: 'python', argv: ['python3'], source: 'default' }, 'megawatt_dev'), ['-m', 'megawatt_dev', 'serve']);
    });

    it('passes the API key only in the environment, and never in the description', () => {
        const secret = 'sk-ant-secret-123';
        const spec = buildLaunch(
            { kind: 'python', argv: ['python3'], source: 'default' },
            { cwd: '/w', baseEnv: { PATH: '/usr/bin', UNSET: undefined }, apiKey: secret },
        );
        assert.equal(spec.env.ANTHROPIC_API_KEY, secret);
        assert.equal(spec.env.PATH, '/usr/bin');
        assert.equal(spec.env.PYTHONUNBUFFERED, '1');
        assert.ok(!('UNSET' in spec.env));
        assert.ok(!spec.args.some((a) => a.includes(secret)));
        assert.ok(!describeLaunch(spec).includes(secret));
        assert.equal(describeLaunch(spec), 'python3 -m megawatt serve (in /w)');
    });

    it('leaves an inherited ANTHROPIC_API_KEY alone when no key is stored', () => {
        const spec = buildLaunch({ kind: 'python', argv: ['python3'], source: 'default' }, { baseEnv: { ANTHROPIC_API_KEY: 'from-shell' } });
        assert.equal(spec.env.ANTHROPIC_API_KEY, 'from-shell');
        const empty = buildLaunch({ kind: 'python', argv: ['python3'], source: 'default' }, { baseEnv: {}, apiKey: '' });
        assert.ok(!('ANTHROPIC_API_KEY' in empty.env));
    });

    it('quotes arguments with spaces in the description', () => {
        const spec = buildLaunch({ kind: 'python', argv: ['/My Envs/python'], source: 'interpreter' }, { baseEnv: {} });
        assert.equal(describeLaunch(spec), "'/My Envs/python' -m megawatt serve");
    });
});
