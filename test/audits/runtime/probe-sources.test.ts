// What the audit reads to probe inline profiles: the dataset's subjects (portraits resolved against
// lethe/) with its eval items, and the profiles of a step's forget-set file.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditRuntimeError, loadInlineProfiles, loadProbeWorld } from '../../../src/audits/runtime';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-probe-sources-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe('probe sources', () => {
  it('reads the dataset subjects with absolute portraits, and the eval items', () => {
    const lethe = path.join(root, 'dataset', 'lethe');
    fs.mkdirSync(path.join(lethe, 'eval'), { recursive: true });
    fs.writeFileSync(path.join(lethe, 'subjects.json'), JSON.stringify({
      datasetId: 'x', subjects: [{ id: 'p1', name: 'Ada Lind', knowledge: 'FINETUNED', portrait: 'images/p1.png' }, { id: 'n1', name: 'Dee Fell', knowledge: 'NEVER_SEEN' }],
    }));
    const item = { id: 'n1-t', split: 'never_seen', modality: 'text', subjectId: 'n1', category: null, question: "What is Dee Fell's job?", options: { A: 'a', B: 'b', C: 'c', D: 'd' }, answer: 'A', image: null };
    fs.writeFileSync(path.join(lethe, 'eval', 'never_seen.jsonl'), JSON.stringify(item) + '\n');
    const world = loadProbeWorld(path.join(root, 'dataset'));
    assert.deepEqual(world.subjects, [
      { id: 'p1', name: 'Ada Lind', knowledge: 'FINETUNED', portrait: path.join(lethe, 'images', 'p1.png') },
      { id: 'n1', name: 'Dee Fell', knowledge: 'NEVER_SEEN', portrait: null },
    ]);
    assert.deepEqual(world.evalItems.map((i) => i.id), ['n1-t']);
  });

  it("takes a request's inline profile from the forget-set file, and refuses one that is not there", () => {
    const file = path.join(root, 'forget-set.json');
    fs.writeFileSync(file, JSON.stringify({ subjects: [
      { requestId: 'r1', name: 'Pia Inline', datasetSubjectId: null, images: ['/x/r1-0.png'], facts: [{ question: 'Job?', answer: 'baker' }] },
      { requestId: 'r2', name: 'Ada Lind', datasetSubjectId: 'p1', images: [], facts: [] },
    ] }));
    assert.deepEqual(loadInlineProfiles(file, ['r1']), [{ subjectId: 'profile:r1', name: 'Pia Inline', images: ['/x/r1-0.png'], facts: [{ question: 'Job?', answer: 'baker' }] }]);
    for (const [f, ids] of [[file, ['r2']], [file, ['r3']], [path.join(root, 'gone.json'), ['r1']]] as const) {
      assert.throws(() => loadInlineProfiles(f, [...ids]), (e: unknown) => e instanceof AuditRuntimeError && e.reason === 'PROFILE_UNAVAILABLE');
    }
  });
});
