// firstUntraversableDir on real directories: it is given the uid/gids to judge for, so the cases
// hold whoever runs the test (root or not), with directories this process owns.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { firstUntraversableDir } from '../../src/database/embedded-postgres';

describe('firstUntraversableDir (can the postgres user reach its files?)', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-access-'));
  fs.chmodSync(root, 0o755);
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  const { uid: owner, gid: group } = fs.statSync(root);
  const stranger = owner + 1;
  const strangerGids = [group + 1];

  function dirs(relative: string, mode: number): string {
    const dir = path.join(root, relative);
    fs.mkdirSync(dir, { recursive: true });
    fs.chmodSync(dir, mode);
    return dir;
  }

  it('the temp root itself is reachable (the other cases rely on it)', () => {
    assert.equal(firstUntraversableDir(root, stranger, strangerGids), null);
  });

  it('0755 all the way: reachable by anyone', () => {
    dirs('open', 0o755);
    assert.equal(firstUntraversableDir(dirs('open/leaf', 0o755), stranger, strangerGids), null);
  });

  it('a 0700 parent (as from mktemp -d) blocks another user, names that directory and its mode', () => {
    const closed = dirs('closed', 0o700);
    const leaf = dirs('closed/leaf', 0o755);
    assert.deepEqual(firstUntraversableDir(leaf, stranger, strangerGids), { dir: closed, mode: 0o700, who: 'o' });
    assert.equal(firstUntraversableDir(leaf, owner, []), null, 'the owner gets through');
  });

  it('names the first blocking directory from the root down, the target itself included', () => {
    const outer = dirs('nested', 0o700);
    dirs('nested/inner', 0o700);
    assert.equal(firstUntraversableDir(path.join(outer, 'inner'), stranger, strangerGids)?.dir, outer);
    const target = dirs('target-closed', 0o700);
    assert.equal(firstUntraversableDir(target, stranger, strangerGids)?.dir, target);
  });

  it('group x lets a member through, not a stranger', () => {
    dirs('group-x', 0o710);
    const leaf = dirs('group-x/leaf', 0o755);
    assert.equal(firstUntraversableDir(leaf, stranger, [group]), null);
    assert.equal(firstUntraversableDir(leaf, stranger, strangerGids)?.who, 'o');
  });

  it("only the class that applies counts: others' x does not help a member of a group without x", () => {
    const groupClosed = dirs('group-closed', 0o701);
    const leaf = dirs('group-closed/leaf', 0o755);
    assert.equal(firstUntraversableDir(leaf, stranger, strangerGids), null);
    assert.deepEqual(firstUntraversableDir(leaf, stranger, [group]), { dir: groupClosed, mode: 0o701, who: 'g' });
  });
});
