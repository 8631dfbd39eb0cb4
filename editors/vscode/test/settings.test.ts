import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
    affectsLaunch,
    answerConfigurationItem,
    buildInitializationOptions,
    ConfigInspector,
    folderForUri,
    InspectedValue,
    resolveScope,
    SETTING_KEYS,
} from '../src/common/settings';

/** A fake `WorkspaceConfiguration.inspect` over per-key layers, with package.json's defaults. */
function inspector(layers: Record<string, InspectedValue>): ConfigInspector {
    const defaults: Record<string, unknown> = {
        interpreter: [],
        path: [],
        profiles: [],
        pathMap: {},
        hotThreshold: 0.02,
        select: [],
        ignore: [],
        profileCommand: [],
        'llm.enabled': false,
        'llm.model': '',
        showNotifications: 'onError',
    };
    return (key) => ({ defaultValue: defaults[key], ...(layers[key] ?? {}) });
}

const env = { userHome: '/home/ada', env: { PROFILES: '/data/prof' }, trusted: true };

describe('resolveScope', () => {
    it('sends only the editor-only settings when nothing is set, so pyproject.toml applies', () => {
        const { value, problems } = resolveScope({ inspect: inspector({}), workspaceFolder: '/p' }, 'folder', env);
        assert.deepEqual(value, { interpreter: [], path: [], llm: { enabled: false }, showNotifications: 'onError' });
        assert.deepEqual(problems, []);
    });

    it('takes the folder value over the workspace value over the user value', () => {
        const inspect = inspector({
            hotThreshold: { globalValue: 0.1, workspaceValue: 0.2, workspaceFolderValue: 0.3 },
            select: { globalValue: ['memoize'], workspaceValue: ['loop-invariant'] },
            ignore: { globalValue: ['deepcopy-in-hot-path'] },
        });
        const { value } = resolveScope({ inspect, workspaceFolder: '/p' }, 'folder', env);
        assert.equal(value.hotThreshold, 0.3);
        assert.deepEqual(value.select, ['loop-invariant']);
        assert.deepEqual(value.ignore, ['deepcopy-in-hot-path']);
    });

    it('takes only user values at the global level', () => {
        const inspect = inspector({ hotThreshold: { globalValue: 0.1, workspaceValue: 0.2, workspaceFolderValue: 0.3 } });
        const { value } = resolveScope({ inspect }, 'global', env);
        assert.equal(value.hotThreshold, 0.1);
    });

    it('nests llm.* settings and drops an empty model name', () => {
        const on = resolveScope(
            { inspect: inspector({ 'llm.enabled': { globalValue: true }, 'llm.model': { globalValue: 'claude-sonnet-4-6' } }) },
            'global',
            env,
        ).value;
        assert.deepEqual(on.llm, { enabled: true, model: 'claude-sonnet-4-6' });
        const empty = resolveScope({ inspect: inspector({ 'llm.model': { globalValue: '' } }) }, 'global', env).value;
        assert.deepEqual(empty.llm, { enabled: false });
    });

    it('substitutes variables in paths, the path map and the profile command, per folder', () => {
        const inspect = inspector({
            interpreter: { globalValue: ['${workspaceFolder}/.venv/bin/python'] },
            profiles: { workspaceFolderValue: ['${env:PROFILES}', '${userHome}/p.prof'] },
            pathMap: { workspaceValue: { '/app': '${workspaceFolder}/src' } },
            profileCommand: { workspaceValue: ['python', '${workspaceFolder}/bench.py'] },
            select: { workspaceValue: ['${workspaceFolder}'] },
        });
        const { value } = resolveScope({ inspect, workspaceFolder: '/w/a' }, 'folder', env);
        assert.deepEqual(value.interpreter, ['/w/a/.venv/bin/python']);
        assert.deepEqual(value.profiles, ['/data/prof', '/home/ada/p.prof']);
        assert.deepEqual(value.pathMap, { '/app': '/w/a/src' });
        assert.deepEqual(value.profileCommand, ['python', '/w/a/bench.py']);
        // skill ids are not paths: no substitution
        assert.deepEqual(value.select, ['${workspaceFolder}']);
    });

    it("fills the interpreter from the Python extension only when the setting is empty", () => {
        const fromExtension = resolveScope({ inspect: inspector({}), pythonInterpreter: ['/env/bin/python'] }, 'global', env).value;
        assert.deepEqual(fromExtension.interpreter, ['/env/bin/python']);
        const fromSetting = resolveScope(
            { inspect: inspector({ interpreter: { globalValue: ['/usr/bin/python3.12'] } }), pythonInterpreter: ['/env/bin/python'] },
            'global',
            env,
        ).value;
        assert.deepEqual(fromSetting.interpreter, ['/usr/bin/python3.12']);
    });

    it('ignores values of the wrong type, reports them, and falls through to the next layer', () => {
        const inspect = inspector({
            hotThreshold: { workspaceValue: 'hot', globalValue: 0.05 },
            showNotifications: { globalValue: 'sometimes' },
            pathMap: { workspaceValue: { '/app': 3 } },
            interpreter: { workspaceValue: '/single/python' },
        });
        const { value, problems } = resolveScope({ inspect, workspaceFolder: '/p' }, 'folder', env);
        assert.equal(value.hotThreshold, 0.05);
        assert.equal(value.showNotifications, 'onError');
        assert.equal(value.pathMap, undefined);
        assert.deepEqual(value.interpreter, ['/single/python']); // a lone string is a one-item list
        assert.equal(problems.length, 3);
        assert.match(problems[0], /^megawatt\.pathMap \(workspace setting\): expected an object/);
        assert.ok(problems.some((p) => p.startsWith('megawatt.hotThreshold (workspace setting): expected a number')));
    });

    it('uses only user values for program-naming settings in an untrusted workspace', () => {
        const inspect = inspector({
            interpreter: { workspaceValue: ['/evil/python'], globalValue: ['/usr/bin/python3'] },
            path: { workspaceFolderValue: ['/evil/megawatt'] },
            profileCommand: { workspaceValue: ['rm', '-rf', '/'] },
            hotThreshold: { workspaceValue: 0.5 },
        });
        const { value } = resolveScope({ inspect, workspaceFolder: '/p' }, 'folder', { ...env, trusted: false });
        assert.deepEqual(value.interpreter, ['/usr/bin/python3']);
        assert.deepEqual(value.path, []);
        assert.equal(value.profileCommand, undefined);
        assert.equal(value.hotThreshold, 0.5);
    });

    it("declares limited support for untrusted workspaces, restricting exactly the restricted settings", async () => {
        const { readFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
            capabilities: { untrustedWorkspaces: { supported: unknown; description: string; restrictedConfigurations: string[] } };
        };
        const untrusted = pkg.capabilities.untrustedWorkspaces;
        assert.equal(untrusted.supported, 'limited');
        assert.equal(
            untrusted.description,
            'In a restricted window Megawatt shows profiles and opportunities but runs no tests and asks no model for fixes.',
        );
        const restricted = SETTING_KEYS.filter((s) => s.restricted).map((s) => `megawatt.${s.key}`);
        assert.deepEqual([...untrusted.restrictedConfigurations].sort(), restricted.sort());
        for (const key of ['megawatt.interpreter', 'megawatt.path', 'megawatt.profileCommand', 'megawatt.llm.enabled']) {
            assert.ok(untrusted.restrictedConfigurations.includes(key), key);
        }
    });

    it('covers every setting in package.json', async () => {
        const { readFileSync } = await import('node:fs');
        const { join } = await import('node:path');
        // out/test/test/settings.test.js → package.json three levels up
        const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
            contributes: { configuration: { properties: Record<string, { scope?: string }> } };
        };
        const contributed = Object.keys(pkg.contributes.configuration.properties)
            .filter((k) => k !== 'megawatt.trace.server')
            .map((k) => k.replace(/^megawatt\./, ''));
        assert.deepEqual(contributed.sort(), SETTING_KEYS.map((s) => s.key).sort());
        for (const [key, property] of Object.entries(pkg.contributes.configuration.properties)) {
            assert.ok(property.scope, `${key} has an explicit scope`);
        }
    });
});

describe('buildInitializationOptions', () => {
    it("has ruff's shape: a settings list with the folder URI in each, and globalSettings", () => {
        const user = { hotThreshold: { globalValue: 0.1 }, 'llm.enabled': { globalValue: true } };
        const folderA = inspector({ ...user, hotThreshold: { globalValue: 0.1, workspaceFolderValue: 0.25 } });
        const folderB = inspector({ ...user, profiles: { workspaceFolderValue: ['${workspaceFolder}/prof'] } });
        const { value, problems } = buildInitializationOptions(
            [
                { uri: 'file:///w/a', workspaceFolder: '/w/a', inspect: folderA, pythonInterpreter: ['/w/a/.venv/bin/python'] },
                { uri: 'file:///w/b', workspaceFolder: '/w/b', inspect: folderB },
            ],
            { inspect: inspector(user), workspaceFolder: '/w/a', pythonInterpreter: ['/w/a/.venv/bin/python'] },
            env,
        );
        assert.deepEqual(problems, []);
        assert.deepEqual(value, {
            settings: [
                {
                    workspace: 'file:///w/a',
                    interpreter: ['/w/a/.venv/bin/python'],
                    path: [],
                    hotThreshold: 0.25,
                    llm: { enabled: true },
                    showNotifications: 'onError',
                },
                {
                    workspace: 'file:///w/b',
                    interpreter: [],
                    path: [],
                    profiles: ['/w/b/prof'],
                    hotThreshold: 0.1,
                    llm: { enabled: true },
                    showNotifications: 'onError',
                },
            ],
            globalSettings: {
                interpreter: ['/w/a/.venv/bin/python'],
                path: [],
                hotThreshold: 0.1,
                llm: { enabled: true },
                showNotifications: 'onError',
            },
            trusted: true,
        });
        // what goes over the wire is plain JSON
        assert.deepEqual(JSON.parse(JSON.stringify(value)), value);
    });

    it('tells the server whether the workspace is trusted', () => {
        const inspect = inspector({ 'llm.enabled': { globalValue: false, workspaceValue: true } });
        const folders = [{ uri: 'file:///w/a', workspaceFolder: '/w/a', inspect }];
        const trusted = buildInitializationOptions(folders, { inspect }, env).value;
        assert.equal(trusted.trusted, true);
        assert.equal(trusted.settings[0].llm.enabled, true);
        const restricted = buildInitializationOptions(folders, { inspect }, { ...env, trusted: false }).value;
        assert.equal(restricted.trusted, false);
        // a workspace cannot switch on sending its code to a model in a restricted window
        assert.equal(restricted.settings[0].llm.enabled, false);
        assert.equal(JSON.parse(JSON.stringify(restricted)).trusted, false);
    });

    it('works with no folder open', () => {
        const { value } = buildInitializationOptions([], { inspect: inspector({}) }, env);
        assert.deepEqual(value.settings, []);
        assert.deepEqual(value.globalSettings.interpreter, []);
    });

    it('reports a bad user value once, not once per folder', () => {
        const bad = inspector({ hotThreshold: { globalValue: 'x' } });
        const { problems } = buildInitializationOptions(
            [
                { uri: 'file:///a', workspaceFolder: '/a', inspect: bad },
                { uri: 'file:///b', workspaceFolder: '/b', inspect: bad },
            ],
            { inspect: bad },
            env,
        );
        assert.equal(problems.length, 2); // one per folder (with its path); the global one is folded in
        assert.ok(problems.every((p) => p.startsWith('megawatt.hotThreshold (user setting)')));
    });
});

describe('workspace/configuration answers', () => {
    const options = buildInitializationOptions(
        [
            { uri: 'file:///w/a', workspaceFolder: '/w/a', inspect: inspector({ hotThreshold: { workspaceFolderValue: 0.3 } }) },
            { uri: 'file:///w/a/nested', workspaceFolder: '/w/a/nested', inspect: inspector({ hotThreshold: { workspaceFolderValue: 0.4 } }) },
        ],
        { inspect: inspector({ hotThreshold: { globalValue: 0.1 }, 'llm.model': { globalValue: 'm' } }) },
        env,
    ).value;

    it('finds the folder by longest prefix, including notebook cells', () => {
        const folders = ['file:///w/a', 'file:///w/a/nested'];
        assert.equal(folderForUri(folders, 'file:///w/a/x.py'), 'file:///w/a');
        assert.equal(folderForUri(folders, 'file:///w/a/nested/y.py'), 'file:///w/a/nested');
        assert.equal(folderForUri(folders, 'file:///w/ab/z.py'), undefined);
        assert.equal(folderForUri(folders, 'vscode-notebook-cell:/w/a/nb.ipynb#W0sZmlsZQ%3D%3D'), 'file:///w/a');
        assert.equal(folderForUri(folders, 'file:///w/a/'), 'file:///w/a');
    });

    it("matches the server's spelling of a folder URI (Python's Path.as_uri) to VS Code's", () => {
        assert.equal(folderForUri(['file:///c%3A/src/my%20proj'], 'file:///C:/src/my%20proj'), 'file:///c%3A/src/my%20proj');
        assert.equal(folderForUri(['file:///home/ada/caf%C3%A9'], 'file:///home/ada/café/x.py'), 'file:///home/ada/caf%C3%A9');
    });

    it("answers section megawatt with the scope's settings, and the global ones without a folder", () => {
        assert.equal((answerConfigurationItem(options, { section: 'megawatt', scopeUri: 'file:///w/a/x.py' }) as { hotThreshold: number }).hotThreshold, 0.3);
        assert.equal((answerConfigurationItem(options, { section: 'megawatt', scopeUri: 'file:///w/a/nested/x.py' }) as { hotThreshold: number }).hotThreshold, 0.4);
        assert.equal((answerConfigurationItem(options, { section: 'megawatt', scopeUri: 'untitled:Untitled-1' }) as { hotThreshold: number }).hotThreshold, 0.1);
        assert.equal((answerConfigurationItem(options, { section: 'megawatt' }) as { hotThreshold: number }).hotThreshold, 0.1);
    });

    it('answers sub-sections, null for unknown keys, and leaves other sections to VS Code', () => {
        assert.deepEqual(answerConfigurationItem(options, { section: 'megawatt.llm' }), { enabled: false, model: 'm' });
        assert.equal(answerConfigurationItem(options, { section: 'megawatt.llm.enabled' }), false);
        assert.equal(answerConfigurationItem(options, { section: 'megawatt.nope' }), null);
        assert.equal(answerConfigurationItem(options, { section: 'python' }), undefined);
        assert.equal(answerConfigurationItem(options, { section: 'megawattx' }), undefined);
        assert.equal(answerConfigurationItem(options, {}), undefined);
    });
});

describe('affectsLaunch', () => {
    it('is true for interpreter and path only', () => {
        assert.equal(affectsLaunch((s) => s === 'megawatt.interpreter'), true);
        assert.equal(affectsLaunch((s) => s === 'megawatt.path'), true);
        assert.equal(affectsLaunch((s) => s === 'megawatt.hotThreshold' || s === 'megawatt'), false);
    });
});
