// datasetSubjects shows how the model knows each dataset person, never-seen people included.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestApp, TestApp, writeDataset, writeModelDir } from '../support/app';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

const CREATE_LINEAGE = `mutation($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }`;
const SUBJECTS = `query($lineage: String!) { datasetSubjects(lineage: $lineage, first: 10) { totalCount edges { node { id name knowledge } } } }`;
const SUBMIT = `mutation($input: SubmitDeletionRequestInput!) { submitDeletionRequest(input: $input) { id status subjectName } }`;

describe('datasetSubjects: FINETUNED, PRETRAINED and NEVER_SEEN people (embedded Postgres, real app)', () => {
  let t: TestApp;

  before(async () => {
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()) });
    const dataset = writeDataset(path.join(t.postgres.dir, 'dataset'), [
      { id: 'c001', name: 'Cy Celebrity', knowledge: 'PRETRAINED' },
      { id: 'n001', name: 'Nia Neverseen', knowledge: 'NEVER_SEEN' },
      { id: 'p001', name: 'Ada Fictional', knowledge: 'FINETUNED' },
    ]);
    await t.operator.ok(CREATE_LINEAGE, { input: { name: 'main', baseModelPath: writeModelDir(path.join(t.postgres.dir, 'model')), datasetPath: dataset } });
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => t?.stop());

  it('lists every person with the way the model knows them', async () => {
    const page = (await t.operator.ok(SUBJECTS, { lineage: 'main' })).datasetSubjects;
    assert.equal(page.totalCount, 3);
    assert.deepEqual(page.edges.map((e: { node: { id: string; knowledge: string } }) => [e.node.id, e.node.knowledge]),
      [['c001', 'PRETRAINED'], ['n001', 'NEVER_SEEN'], ['p001', 'FINETUNED']]);
  });

  it('accepts a deletion request for a never-seen person: they are a person too', async () => {
    const input = { lineage: 'main', idempotencyKey: 'never-seen-1', legalBasis: 'GDPR Art. 17(1)(a)', subject: { datasetSubjectId: 'n001' } };
    const request = (await t.operator.ok(SUBMIT, { input })).submitDeletionRequest;
    assert.equal(request.status, 'RECEIVED', 'stored; the outbox queues it');
    assert.equal(request.subjectName, 'Nia Neverseen');
  });

  it('refuses a dataset whose subjects name another kind of knowledge, naming the field', async () => {
    const dataset = writeDataset(path.join(t.postgres.dir, 'odd-dataset'), [
      { id: 'x1', name: 'Xi Odd', knowledge: 'FORGOTTEN' as 'NEVER_SEEN' },
    ]);
    const failure = await t.operator.fails(CREATE_LINEAGE, { input: { name: 'odd', baseModelPath: path.join(t.postgres.dir, 'model'), datasetPath: dataset } });
    assert.equal(failure.code, 'BAD_USER_INPUT');
    assert.equal(failure.field, 'input.datasetPath');
    assert.match(failure.message, /knowledge FINETUNED\|PRETRAINED\|NEVER_SEEN/);
  });
});
