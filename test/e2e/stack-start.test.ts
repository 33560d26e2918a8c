// A stack that cannot start says why: CI keeps only the test output, so the failure itself must carry the
// API's exits and the children's last lines.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { describe, it } from 'node:test';
import { startE2eStack } from './harness';

describe('stack start-up', () => {
  it('fails with the API\'s exits and its last output when the API cannot take its port', { timeout: 120_000 }, async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const { port } = squatter.address() as net.AddressInfo;
    try {
      const error = await startE2eStack('port-taken', {}, { port, startTimeoutMs: 6000 }).then(
        () => assert.fail('the stack started on a port another process holds'),
        (err: Error) => err,
      );
      assert.match(error.message, /healthz not healthy after 6000 ms; the API exited [1-9]\d* time\(s\) \(1(, 1)*\)/);
      assert.match(error.message, /\[api\].*EADDRINUSE/);
      const logFile = /last lines of (\S+):/.exec(error.message)?.[1];
      assert.ok(logFile && fs.existsSync(logFile), 'the failed stack keeps its log for a look');
      fs.rmSync(logFile.replace(/\/stack\.log$/, ''), { recursive: true, force: true });
    } finally {
      squatter.close();
    }
  });
});
