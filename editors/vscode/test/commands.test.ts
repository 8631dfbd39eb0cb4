import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CLIENT_COMMANDS, collidingCommands, interpretResult, missingServerCommands, SERVER_COMMANDS } from '../src/common/commands';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
    contributes: { commands: Array<{ command: string; title: string }> };
};
const SERVER_IDS = [
    'megawatt.recordProfile',
    'megawatt.reloadProfiles',
    'megawatt.scanWorkspace',
    'megawatt.showSkill',
    'megawatt.showLastRequest',
];

describe('command ids', () => {
    it('maps each palette command to its server command', () => {
        assert.deepEqual(Object.values(SERVER_COMMANDS).sort(), [...SERVER_IDS].sort());
        for (const [clientId, serverId] of Object.entries(SERVER_COMMANDS)) {
            assert.equal(clientId, serverId.replace(/^megawatt\./, 'megawatt.client.'));
        }
    });

    it("never contributes an id the server advertises (vscode-languageclient registers those itself)", () => {
        const contributed = pkg.contributes.commands.map((c) => c.command);
        for (const id of SERVER_IDS) {
            assert.ok(!contributed.includes(id), `${id} is left to the language client`);
        }
        assert.deepEqual(contributed.sort(), [...CLIENT_COMMANDS, ...Object.keys(SERVER_COMMANDS)].sort());
    });

    it('names the palette titles the brief asks for', () => {
        const titles = Object.fromEntries(pkg.contributes.commands.map((c) => [c.command, c.title]));
        assert.equal(titles['megawatt.client.recordProfile'], 'Record profile');
        assert.equal(titles['megawatt.client.scanWorkspace'], 'Scan workspace');
        assert.equal(titles['megawatt.setApiKey'], 'Set Anthropic API key');
    });

    it('detects collisions and missing server commands', () => {
        assert.deepEqual(collidingCommands([...SERVER_IDS, 'megawatt.restart']), ['megawatt.restart']);
        assert.deepEqual(collidingCommands(undefined), []);
        assert.deepEqual(missingServerCommands(['megawatt.scanWorkspace', 'megawatt.showSkill']), [
            'megawatt.recordProfile',
            'megawatt.reloadProfiles',
            'megawatt.showLastRequest',
        ]);
    });
});

describe('interpretResult', () => {
    it('opens markdown for {markdown}, plain text for {text}', () => {
        assert.deepEqual(interpretResult({ markdown: '## x' }), { kind: 'text', text: '## x', language: 'markdown' });
        assert.deepEqual(interpretResult({ text: 'report' }), { kind: 'text', text: 'report', language: 'plaintext' });
    });

    it('opens a {uri}', () => {
        assert.deepEqual(interpretResult({ uri: 'file:///w/.megawatt/profiles/run.prof', markdown: 'x' }), {
            kind: 'uri',
            uri: 'file:///w/.megawatt/profiles/run.prof',
        });
    });

    it('shows nothing for anything else, such as the path or count the server returns', () => {
        for (const r of [null, undefined, '', '/w/.megawatt/report.md', 3, [], { ok: true }, { uri: '' }]) {
            assert.deepEqual(interpretResult(r), { kind: 'none' });
        }
    });
});
