/**
 * End to end against the real server: the launch command, initializationOptions and
 * workspace/configuration answers that the extension builds (the same pure modules), over stdio
 * with vscode-jsonrpc, no VS Code. Run with `npm run test:e2e`; it needs a Python 3.11+ with
 * Megawatt installed: $MEGAWATT_PYTHON, else `python3`. Skipped when there is none.
 */

import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
    createMessageConnection,
    MessageConnection,
    StreamMessageReader,
    StreamMessageWriter,
} from 'vscode-languageserver-protocol/node';
import { collidingCommands, missingServerCommands } from '../src/common/commands';
import { chooseLauncher } from '../src/common/interpreter';
import { buildLaunch, describeLaunch } from '../src/common/launch';
import { answerConfigurationItem, buildInitializationOptions, ConfigInspector, InitializationOptions } from '../src/common/settings';
import { checkVersion, parseProbe, probeScript } from '../src/common/version';

const SOURCE = `import logging

log = logging.getLogger(__name__)


def smallest(values):
    return sorted(values)[0]


def render(rows):
    out = ""
    for row in rows:
        out += str(row)
        log.info("row %s" % row)
    return out
`;

interface Diagnostic {
    code?: string | number;
    message: string;
    source?: string;
}

describe('the extension against `megawatt serve`', () => {
    const interpreter = process.env.MEGAWATT_PYTHON ? [process.env.MEGAWATT_PYTHON] : [];
    const launcher = chooseLauncher({ path: [], interpreter, platform: process.platform });
    let skip: string | undefined;
    let folder: string;
    let proc: ChildProcess;
    let connection: MessageConnection;
    let options: InitializationOptions;
    const diagnostics = new Map<string, Diagnostic[]>();
    const configurationRequests: unknown[] = [];
    let stderr = '';

    before(() => {
        folder = mkdtempSync(join(tmpdir(), 'megawatt-e2e-'));
        let probe;
        try {
            probe = parseProbe(execFileSync(launcher.argv[0], [...launcher.argv.slice(1), '-c', probeScript()], { cwd: folder, encoding: 'utf8' }));
        } catch {
            probe = undefined;
        }
        const verdict = checkVersion(launcher.argv.join(' '), probe);
        if (!verdict.ok) {
            skip = verdict.message;
            return;
        }
        writeFileSync(join(folder, 'slow.py'), SOURCE);
        writeFileSync(join(folder, 'pyproject.toml'), '[project]\nname = "e2e"\n');

        const settings: Record<string, unknown> = { select: ['sort-for-extreme', 'quadratic-concat'], hotThreshold: 0.05 };
        const inspect: ConfigInspector = (key) => ({ workspaceFolderValue: settings[key] });
        options = buildInitializationOptions(
            [{ uri: pathToFileURL(folder).toString(), workspaceFolder: folder, inspect }],
            { inspect: () => undefined, workspaceFolder: folder },
            { trusted: true },
        ).value;

        const spec = buildLaunch(launcher, { cwd: folder, baseEnv: process.env, apiKey: 'sk-ant-e2e-not-a-key' });
        process.stdout.write(`server: ${describeLaunch(spec)}\n`);
        proc = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: 'pipe' });
        proc.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        connection = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
        connection.onRequest('workspace/configuration', (params: { items: Array<{ scopeUri?: string; section?: string }> }) => {
            configurationRequests.push(params);
            return params.items.map((item) => answerConfigurationItem(options, item) ?? null);
        });
        connection.onRequest('client/registerCapability', () => null);
        connection.onRequest('window/workDoneProgress/create', () => null);
        connection.onRequest('window/showDocument', () => ({ success: true }));
        connection.onRequest('workspace/codeLens/refresh', () => null);
        connection.onRequest('workspace/inlayHint/refresh', () => null);
        connection.onRequest('workspace/diagnostic/refresh', () => null);
        connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: Diagnostic[] }) => {
            diagnostics.set(params.uri, params.diagnostics);
        });
        connection.listen();
    });

    after(async () => {
        if (skip === undefined && connection !== undefined) {
            try {
                await connection.sendRequest('shutdown');
                await connection.sendNotification('exit');
            } catch {
                // already gone
            }
            connection.dispose();
            proc.kill();
        }
        if (folder !== undefined) {
            rmSync(folder, { recursive: true, force: true });
        }
    });

    it('starts, advertises the server commands and none of the extension\'s own', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        const result = (await connection.sendRequest('initialize', {
            processId: process.pid,
            rootUri: pathToFileURL(folder).toString(),
            workspaceFolders: [{ uri: pathToFileURL(folder).toString(), name: 'e2e' }],
            initializationOptions: options,
            capabilities: {
                workspace: { configuration: true, workspaceFolders: true, didChangeConfiguration: { dynamicRegistration: true } },
                textDocument: { publishDiagnostics: { relatedInformation: true }, synchronization: { dynamicRegistration: false } },
                window: { workDoneProgress: true, showDocument: { support: true } },
            },
        })) as { capabilities: { executeCommandProvider?: { commands: string[] } }; serverInfo?: { name: string } };
        const commands = result.capabilities.executeCommandProvider?.commands;
        process.stdout.write(`commands: ${(commands ?? []).join(', ')}\n`);
        assert.deepEqual(missingServerCommands(commands), []);
        assert.deepEqual(collidingCommands(commands), []);
        await connection.sendNotification('initialized', {});
    });

    it('pulls workspace/configuration for section megawatt and gets the folder settings', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        for (let i = 0; i < 50 && configurationRequests.length === 0; i++) {
            await new Promise((r) => setTimeout(r, 100));
        }
        assert.ok(configurationRequests.length > 0, 'the server asked for configuration');
    });

    it('publishes diagnostics for an opened file, as the folder settings select', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        const uri = pathToFileURL(join(folder, 'slow.py')).toString();
        await connection.sendNotification('textDocument/didOpen', {
            textDocument: { uri, languageId: 'python', version: 1, text: SOURCE },
        });
        for (let i = 0; i < 150 && !(diagnostics.get(uri)?.length); i++) {
            await new Promise((r) => setTimeout(r, 100));
        }
        const codes = (diagnostics.get(uri) ?? []).map((d) => String(d.code));
        process.stdout.write(`diagnostics: ${codes.join(', ')}\n`);
        assert.ok(codes.includes('sort-for-extreme'), `sort-for-extreme in ${codes.join(', ')}\n${stderr}`);
        assert.ok(!codes.includes('logging-eager-format'), 'megawatt.select was applied');
    });

    it('takes didChangeConfiguration in the initializationOptions shape, then runs a command', async (t) => {
        if (skip !== undefined) {
            t.skip(skip);
            return;
        }
        await connection.sendNotification('workspace/didChangeConfiguration', { settings: options });
        const loaded = await connection.sendRequest('workspace/executeCommand', { command: 'megawatt.reloadProfiles', arguments: [] });
        assert.equal(typeof loaded, 'number');
        assert.ok(!stderr.includes('sk-ant-e2e-not-a-key'), 'the API key never reaches the log');
    });
});
