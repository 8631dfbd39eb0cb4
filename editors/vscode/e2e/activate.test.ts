/**
 * The bundled extension (out/extension.js) activated against a stand-in `vscode` module
 * (fake-vscode.ts) and the real server: interpreter check, launch, settings, diagnostics, commands,
 * restarts on launch settings only, the API key through the environment, and the refusal of an old
 * Python. Run with `npm run test:e2e` (needs $MEGAWATT_PYTHON or python3 with Megawatt installed;
 * skipped without one).
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { checkVersion, parseProbe, probeScript } from '../src/common/version';
import { createFakeVscode, Fake } from './fake-vscode';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Module = require('node:module') as { _load: (request: string, ...rest: unknown[]) => unknown };

const EXTENSION_ROOT = resolve(__dirname, '..', '..', '..');
const BUNDLE = join(EXTENSION_ROOT, 'out', 'extension.js');
const PYTHON = process.env.MEGAWATT_PYTHON ?? 'python3';

const SOURCE = 'def smallest(values):\n    return sorted(values)[0]\n';

interface Extension {
    activate(context: unknown): Promise<void>;
    deactivate(): Promise<void>;
}

/** Loads a fresh copy of the bundle bound to `fake`. */
function loadExtension(fake: Fake): Extension {
    const original = Module._load;
    Module._load = function (request: string, ...rest: unknown[]) {
        return request === 'vscode' ? fake.module : original.call(this, request, ...rest);
    };
    try {
        delete require.cache[require.resolve(BUNDLE)];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return require(BUNDLE) as Extension;
    } finally {
        Module._load = original;
    }
}

async function until(what: string, check: () => boolean, fake: Fake, ms = 20_000): Promise<void> {
    const start = Date.now();
    while (!check()) {
        if (Date.now() - start > ms) {
            assert.fail(`timed out waiting for ${what}\n--- log ---\n${fake.log.join('\n')}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

function count(fake: Fake, text: string): number {
    return fake.log.filter((line) => line.includes(text)).length;
}

function unusable(): string | undefined {
    if (!existsSync(BUNDLE)) {
        return 'out/extension.js is not built (npm run build)';
    }
    try {
        const out = execFileSync(PYTHON, ['-c', probeScript()], { encoding: 'utf8' });
        const verdict = checkVersion(PYTHON, parseProbe(out));
        return verdict.ok ? undefined : verdict.message;
    } catch (error) {
        return String(error);
    }
}

describe('the bundled extension in a stand-in VS Code', () => {
    const skip = unusable();
    let dir: string;

    before(() => {
        dir = mkdtempSync(join(tmpdir(), 'megawatt-activate-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('starts the server, syncs a file, runs commands, restarts only for launch settings', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        const folder = join(dir, 'proj');
        execFileSync('mkdir', ['-p', folder]);
        writeFileSync(join(folder, 'pyproject.toml'), '[project]\nname = "proj"\n');
        const mark = join(dir, 'key-mark');
        const wrapper = join(dir, 'megawatt-wrapper');
        writeFileSync(
            wrapper,
            `#!/bin/sh\nif [ -n "$ANTHROPIC_API_KEY" ]; then echo set > '${mark}'; else echo unset > '${mark}'; fi\nexec '${PYTHON}' -m megawatt "$@"\n`,
        );
        chmodSync(wrapper, 0o755);

        const fake = createFakeVscode([folder], {
            user: { 'megawatt.showNotifications': 'always' },
            folder: { 'megawatt.interpreter': [PYTHON], 'megawatt.select': ['sort-for-extreme'] },
        });
        const extension = loadExtension(fake);
        const context = fake.context(EXTENSION_ROOT);
        await extension.activate(context);
        try {
            await until('the server to start', () => count(fake, 'Server started') === 1, fake);
            assert.equal(count(fake, 'Interpreter (from megawatt.interpreter)'), 1);
            assert.ok(fake.log.some((l) => l.includes(`Server command: ${PYTHON} -m megawatt serve (in ${folder})`)));

            // the extension's commands and the server's, registered by the language client, side by side
            for (const id of ['megawatt.restart', 'megawatt.setApiKey', 'megawatt.client.scanWorkspace', 'megawatt.recordProfile', 'megawatt.showSkill']) {
                assert.ok(fake.commands.has(id), `${id} registered`);
            }

            const file = join(folder, 'slow.py');
            writeFileSync(file, SOURCE);
            const document = fake.openDocument(file, SOURCE);
            await until('diagnostics', () => (fake.diagnostics.get(document.uri.toString()) ?? []).length > 0, fake);
            const codes = fake.diagnostics.get(document.uri.toString())!.map((d) => String(d.code?.value ?? d.code));
            assert.deepEqual(codes, ['sort-for-extreme']);

            const loaded = await fake.commands.get('megawatt.client.reloadProfiles')!();
            assert.equal(typeof loaded, 'number');

            // an analysis setting: sent to the running server, no restart
            fake.settings.folder['megawatt.hotThreshold'] = 0.5;
            fake.fireConfigurationChange(['megawatt.hotThreshold']);
            await new Promise((r) => setTimeout(r, 1500));
            assert.equal(count(fake, 'Starting the server'), 1);

            // a launch setting: one restart, debounced, with the new program
            fake.settings.folder['megawatt.path'] = [wrapper];
            fake.fireConfigurationChange(['megawatt.path']);
            fake.fireConfigurationChange(['megawatt.path']);
            await until('the restart', () => count(fake, 'Server started') === 2, fake);
            assert.equal(count(fake, 'Starting the server (megawatt.interpreter or megawatt.path changed)'), 1);
            assert.equal(count(fake, 'Executable (from megawatt.path): ' + wrapper + ': megawatt 0.1.0'), 1);
            assert.ok(fake.log.some((l) => l.includes(`Server command: ${wrapper} serve`)));
            assert.equal(readFileSync(mark, 'utf8').trim(), 'unset');

            // the API key: secret storage → restart → ANTHROPIC_API_KEY of the new process only
            const key = 'sk-ant-test-0123456789';
            fake.inputBoxAnswers.push(key);
            await fake.commands.get('megawatt.setApiKey')!();
            await until('the restart with the key', () => count(fake, 'Server started') === 3, fake);
            assert.equal(fake.secrets.get('megawatt.anthropicApiKey'), key);
            assert.equal(readFileSync(mark, 'utf8').trim(), 'set');
            assert.ok(!fake.log.some((l) => l.includes(key)), 'the key is not in the log');
            assert.ok(!fake.messages.some((m) => m.text.includes(key)), 'the key is not in a message');
        } finally {
            if (process.env.MEGAWATT_E2E_LOG) {
                t.diagnostic(fake.log.join('\n'));
            }
            await extension.deactivate();
        }
    });

    it('tells the server an untrusted workspace is untrusted, and restarts it once trusted', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        const folder = join(dir, 'untrusted');
        execFileSync('mkdir', ['-p', folder]);
        writeFileSync(join(folder, 'pyproject.toml'), '[project]\nname = "untrusted"\n');
        const fake = createFakeVscode(
            [folder],
            { user: { 'megawatt.interpreter': [PYTHON], 'megawatt.showNotifications': 'always' }, folder: {} },
            { trusted: false },
        );
        const extension = loadExtension(fake);
        await extension.activate(fake.context(EXTENSION_ROOT));
        try {
            await until('the server to start', () => count(fake, 'Server started') === 1, fake);
            // the server knows: it records no profile in a restricted window, and says why
            await fake.commands.get('megawatt.client.recordProfile')!();
            await until('the refusal', () => fake.messages.some((m) => m.text.includes('not trusted')), fake);
            fake.grantTrust();
            await until('the restart', () => count(fake, 'Server started') === 2, fake);
            assert.equal(count(fake, 'Starting the server (workspace trust granted)'), 1);
            // trusted now: the same command goes on to ask for the command to profile
            const refusals = fake.messages.filter((m) => m.text.includes('not trusted')).length;
            await fake.commands.get('megawatt.client.recordProfile')!();
            await until('the profile-command hint', () => fake.messages.some((m) => m.text.includes('megawatt.profileCommand')), fake);
            assert.equal(fake.messages.filter((m) => m.text.includes('not trusted')).length, refusals);
        } finally {
            await extension.deactivate();
        }
    });

    it('refuses a Python older than 3.11 with a message and a notification', async (t) => {
        if (!existsSync(BUNDLE)) {
            t.skip('out/extension.js is not built');
            return;
        }
        const old = join(dir, 'python3.10');
        writeFileSync(old, '#!/bin/sh\necho \'{"version": [3, 10, 14], "megawatt": "0.1.0"}\'\n');
        chmodSync(old, 0o755);
        const folder = join(dir, 'old');
        execFileSync('mkdir', ['-p', folder]);
        const fake = createFakeVscode([folder], { user: {}, folder: { 'megawatt.interpreter': [old] } });
        const extension = loadExtension(fake);
        await extension.activate(fake.context(EXTENSION_ROOT));
        try {
            await until('the refusal', () => fake.messages.length > 0, fake);
            assert.match(fake.messages[0].text, /Megawatt needs Python 3\.11 or newer, but .*python3\.10 is Python 3\.10\.14/);
            assert.equal(fake.messages[0].level, 'error');
            assert.ok(fake.log.some((l) => l.startsWith('[error] Megawatt needs Python 3.11')));
            assert.equal(count(fake, 'Server started'), 0);
            assert.equal(count(fake, 'Server command'), 0);

            // a server command now says why it cannot run
            await fake.commands.get('megawatt.client.scanWorkspace')!();
            await until('the second message', () => fake.messages.length > 1, fake);
            assert.match(fake.messages[1].text, /needs Python 3\.11/);
        } finally {
            await extension.deactivate();
        }
    });

    it('refuses a megawatt.path that does not run', async (t) => {
        if (!existsSync(BUNDLE)) {
            t.skip('out/extension.js is not built');
            return;
        }
        const folder = join(dir, 'badpath');
        execFileSync('mkdir', ['-p', folder]);
        const fake = createFakeVscode([folder], { user: {}, folder: { 'megawatt.path': [join(dir, 'no-megawatt-here')] } });
        const extension = loadExtension(fake);
        await extension.activate(fake.context(EXTENSION_ROOT));
        try {
            await until('the refusal', () => fake.messages.length > 0, fake);
            assert.match(fake.messages[0].text, /Could not run .*no-megawatt-here --version/);
            assert.equal(count(fake, 'Server command'), 0);
        } finally {
            await extension.deactivate();
        }
    });

    it('keeps quiet when showNotifications is off, but still logs', async (t) => {
        if (!existsSync(BUNDLE)) {
            t.skip('out/extension.js is not built');
            return;
        }
        const folder = join(dir, 'quiet');
        execFileSync('mkdir', ['-p', folder]);
        const fake = createFakeVscode([folder], {
            user: { 'megawatt.showNotifications': 'off', 'megawatt.interpreter': [join(dir, 'does-not-exist')] },
            folder: {},
        });
        const extension = loadExtension(fake);
        await extension.activate(fake.context(EXTENSION_ROOT));
        try {
            await until('the log of the failure', () => fake.log.some((l) => l.includes('Could not run')), fake);
            await new Promise((r) => setTimeout(r, 200));
            assert.deepEqual(fake.messages, []);
        } finally {
            await extension.deactivate();
        }
    });
});
