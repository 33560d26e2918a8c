// loadEvalItems: the canonical lethe/eval/*.jsonl view, validated line by line.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { AuditRuntimeError, loadEvalItems } from '../../../src/audits/runtime';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-eval-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const item = (id: string, split: string, modality: string, extra: Record<string, unknown> = {}) => ({
  id, split, modality, subjectId: split === 'general' ? null : 's1', category: split === 'general' ? 'colour' : null,
  question: `q ${id}`, options: { A: 'a', B: 'b', C: 'c', D: 'd' }, answer: 'C',
  image: modality === 'multimodal' ? `images/${id}.png` : null, ...extra,
});

function dataset(name: string, files: Record<string, unknown[] | string>): string {
  const dir = path.join(root, name);
  fs.mkdirSync(path.join(dir, 'lethe', 'eval'), { recursive: true });
  for (const [file, rows] of Object.entries(files)) {
    const text = typeof rows === 'string' ? rows : rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    fs.writeFileSync(path.join(dir, 'lethe', 'eval', file), text);
  }
  return dir;
}

function rejects(fn: () => unknown, reason: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof AuditRuntimeError && e.reason === reason && (!message || message.test(e.message)));
}

describe('loadEvalItems', () => {
  it('reads every jsonl file, resolves images against lethe/ and filters by split', () => {
    const dir = dataset('ok', {
      'people.jsonl': [item('p1', 'fictional', 'multimodal'), item('p2', 'fictional', 'text')],
      'general.jsonl': [item('g1', 'general', 'multimodal')],
    });
    const all = loadEvalItems(dir);
    assert.deepEqual(all.map((i) => i.id).sort(), ['g1', 'p1', 'p2']);
    assert.equal(all.find((i) => i.id === 'p1')!.imagePath, path.join(dir, 'lethe', 'images', 'p1.png'));
    assert.equal(all.find((i) => i.id === 'p2')!.imagePath, null);
    assert.deepEqual(loadEvalItems(dir, 'general').map((i) => i.id), ['g1']);
  });

  it('fails on an empty eval set, a missing view or a split with no items', () => {
    rejects(() => loadEvalItems(dataset('empty', { 'people.jsonl': '\n' })), 'EVAL_SET_EMPTY');
    rejects(() => loadEvalItems(path.join(root, 'nowhere')), 'EVAL_SET_EMPTY');
    rejects(() => loadEvalItems(dataset('nogeneral', { 'people.jsonl': [item('p1', 'fictional', 'text')] }), 'general'), 'EVAL_SET_EMPTY');
  });

  it('names the file, line and field of an invalid item', () => {
    const dir = dataset('bad', { 'people.jsonl': [item('p1', 'fictional', 'text'), item('p2', 'fictional', 'text', { answer: 'E' })] });
    rejects(() => loadEvalItems(dir), 'EVAL_ITEM_INVALID', /people\.jsonl:2 at answer/);
    rejects(() => loadEvalItems(dataset('json', { 'people.jsonl': '{"id": \n' })), 'EVAL_ITEM_INVALID', /people\.jsonl:1 is not JSON/);
    rejects(() => loadEvalItems(dataset('noimg', { 'people.jsonl': [item('p1', 'fictional', 'multimodal', { image: null })] })),
      'EVAL_ITEM_INVALID', /has no image/);
    rejects(() => loadEvalItems(dataset('dup', { 'people.jsonl': [item('p1', 'fictional', 'text'), item('p1', 'fictional', 'text')] })),
      'EVAL_ITEM_INVALID', /duplicate item id p1/);
  });

  it('reads never-seen people only when lethe/subjects.json marks them NEVER_SEEN', () => {
    const subjects = (knowledge: string) => JSON.stringify({ datasetId: 'x', subjects: [{ id: 'n1', name: 'Nobody', knowledge }] });
    const withSubjects = (name: string, doc: string | null) => {
      const dir = dataset(name, { 'people.jsonl': [item('p1', 'fictional', 'text')], 'never_seen.jsonl': [item('n1-t', 'never_seen', 'text', { subjectId: 'n1' })] });
      if (doc !== null) fs.writeFileSync(path.join(dir, 'lethe', 'subjects.json'), doc);
      return dir;
    };
    const ok = withSubjects('ns-ok', subjects('NEVER_SEEN'));
    assert.deepEqual(loadEvalItems(ok).map((i) => [i.id, i.split]).sort(), [['n1-t', 'never_seen'], ['p1', 'fictional']], 'beside the others');
    assert.deepEqual(loadEvalItems(ok, 'never_seen').map((i) => i.subjectId), ['n1']);
    rejects(() => loadEvalItems(withSubjects('ns-known', subjects('FINETUNED'))), 'EVAL_ITEM_INVALID', /never_seen\.jsonl:1: never_seen item n1-t is about "n1", not a NEVER_SEEN subject/);
    rejects(() => loadEvalItems(withSubjects('ns-none', null)), 'EVAL_ITEM_INVALID', /need .*subjects\.json/);
    rejects(() => loadEvalItems(withSubjects('ns-bad', subjects('MAYBE'))), 'EVAL_ITEM_INVALID', /subjects\.json at subjects\.0\.knowledge/);
  });
});
