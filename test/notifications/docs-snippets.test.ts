// The verification snippets in docs/webhooks.md, run as a subscriber would copy them, against
// signatures the service makes: the documentation cannot drift from the scheme.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { signatureHeader } from '../../src/notifications/domain/notification-events';

const DOC = fs.readFileSync(path.resolve(__dirname, '../../../docs/webhooks.md'), 'utf8');

/** The fenced block right after `<!-- verify:<name> -->`. */
function snippet(name: string): string {
  const match = new RegExp(`<!-- verify:${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(DOC);
  assert.ok(match, `docs/webhooks.md has a ${name} snippet`);
  return match[1];
}

const secret = 'whsec_docs';
const body = '{"specversion":"1.0","id":"7","type":"lethe.request.completed","data":{"status":"COMPLETED"}}';
const now = () => Math.floor(Date.now() / 1000);
/** [header, body, expected]: a good signature, a changed body, another secret, a replay an hour old. */
const cases = (): Array<[string, string, boolean]> => [
  [signatureHeader(secret, body, now()), body, true],
  [signatureHeader(secret, body, now()), body.replace('"7"', '"8"'), false],
  [signatureHeader('whsec_other', body, now()), body, false],
  [signatureHeader(secret, body, now() - 3600), body, false],
];

describe('docs/webhooks.md verification snippets', () => {
  it('Node', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-doc-'));
    const file = path.join(dir, 'verify.js');
    fs.writeFileSync(file, `${snippet('node')}\nmodule.exports = verifyLetheSignature;\n`);
    const verify = require(file) as (secret: string, header: string, rawBody: string | Buffer) => boolean;
    fs.rmSync(dir, { recursive: true });
    for (const [header, raw, expected] of cases()) {
      assert.equal(verify(secret, header, raw), expected, `${header} over ${raw}`);
      assert.equal(verify(secret, header, Buffer.from(raw)), expected, 'a Buffer body too');
    }
  });

  it('Python', () => {
    const python = process.env.LETHE_PYTHON;
    assert.ok(python, 'LETHE_PYTHON must be set (npm test sets it)');
    const program = `${snippet('python')}\nimport json, sys\nfor header, raw, secret in json.load(sys.stdin):\n    print(verify_lethe_signature(secret, header, raw.encode()))\n`;
    const input = JSON.stringify(cases().map(([header, raw]) => [header, raw, secret]));
    const run = spawnSync(python, ['-c', program], { input, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(run.stdout.trim().split('\n'), cases().map(([, , expected]) => (expected ? 'True' : 'False')));
  });
});
