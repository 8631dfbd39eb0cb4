import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { substituteDeep, substituteVariables } from '../src/common/variables';

const ctx = { workspaceFolder: '/work/proj', userHome: '/home/ada', env: { VENV: '/opt/venv', EMPTY: '' } };

describe('substituteVariables', () => {
    it('replaces the folder, its basename, the home and environment variables', () => {
        assert.equal(substituteVariables('${workspaceFolder}/.venv/bin/python', ctx), '/work/proj/.venv/bin/python');
        assert.equal(substituteVariables('${workspaceFolderBasename}.prof', ctx), 'proj.prof');
        assert.equal(substituteVariables('${userHome}/profiles', ctx), '/home/ada/profiles');
        assert.equal(substituteVariables('${env:VENV}/bin/python', ctx), '/opt/venv/bin/python');
    });

    it('replaces every occurrence in one string', () => {
        assert.equal(substituteVariables('${workspaceFolder}:${workspaceFolder}', ctx), '/work/proj:/work/proj');
    });

    it('turns an unset environment variable into the empty string', () => {
        assert.equal(substituteVariables('${env:NOPE}/x', ctx), '/x');
    });

    it('leaves variables it cannot resolve as written', () => {
        assert.equal(substituteVariables('${workspaceFolder}/x', { userHome: '/h' }), '${workspaceFolder}/x');
        assert.equal(substituteVariables('${config:python.path}', ctx), '${config:python.path}');
    });

    it('expands a leading ~ only', () => {
        assert.equal(substituteVariables('~/bin/python', ctx), '/home/ada/bin/python');
        assert.equal(substituteVariables('~', ctx), '/home/ada');
        assert.equal(substituteVariables('a~/b', ctx), 'a~/b');
        assert.equal(substituteVariables('~user/x', ctx), '~user/x');
    });

    it('handles Windows folder paths for the basename', () => {
        assert.equal(substituteVariables('${workspaceFolderBasename}', { workspaceFolder: 'C:\\src\\proj\\' }), 'proj');
    });
});

describe('substituteDeep', () => {
    it('substitutes in lists, object keys and values, and leaves other types alone', () => {
        assert.deepEqual(
            substituteDeep({ '/app': '${workspaceFolder}', n: 1, list: ['${userHome}', true] }, ctx),
            { '/app': '/work/proj', n: 1, list: ['/home/ada', true] },
        );
    });
});
