import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

// out/test/test/ → out/test/src/common
const common = join(__dirname, '..', 'src', 'common');

describe('src/common', () => {
    it('imports neither vscode nor vscode-languageclient, so it runs under plain Node', () => {
        const files = readdirSync(common).filter((f) => f.endsWith('.js'));
        assert.ok(files.length >= 6, `compiled modules found in ${common}`);
        for (const file of files) {
            const text = readFileSync(join(common, file), 'utf8');
            assert.doesNotMatch(text, /require\("vscode(-languageclient[^"]*)?"\)/, file);
        }
    });
});
