// Serving the champion on the whole stack: the official openai client asks the lineage about a dataset person
// before and after their deletion request is promoted, the adapter that answers is downloaded and its sha256
// checked, and a rollback changes the answering version on the very next request. The gate always promotes, so the
// versions asserted here do not depend on the tiny model's forgetting quality; what the answer says about the
// person is asserted from its log-probabilities.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { onnxExportsDir } from '../../src/config/config';
import { DEFAULT_LORA } from '../../src/lineages/domain/lineage';
import { ensureTinyExport, tinyModel } from '../audits/runtime/torch-reference';
import { ALWAYS_PROMOTE_GATE_POLICY, createLineage, knownSubjects, startE2eStack, STACK_START_HOOK_TIMEOUT_MS, submit, waitForFinal, type E2eStack } from './harness';

const lineage = 'serving-e2e';
const BASE_MODEL_ID = 'tiny-llava';

interface EvalLine { modality: string; subjectId: string; question: string; options: Record<string, string>; answer: string }

interface Answer {
  version: string | null;
  adapterSha256: string | null;
  body: { lethe: { version: number; adapterSha256: string | null } };
  text: string;
  /** Probability of the right letter as the first answer token (0 when it is not among the 20 most likely). */
  pRight: number;
}

describe('the champion answers, on the whole stack', { timeout: 20 * 60_000 }, () => {
  let e2e: E2eStack;
  let subject: string;
  let artifacts: string;
  let model: OpenAI;
  let servingToken: string;
  let question: EvalLine;

  const ask = async (): Promise<Answer> => {
    const content = `${question.question}\n${Object.entries(question.options).map(([k, v]) => `${k}. ${v}`).join('\n')}\nAnswer with the option's letter from the given choices directly.`;
    const { data, response } = await model.chat.completions.create({
      model: lineage, messages: [{ role: 'user', content }], temperature: 0, max_tokens: 4, logprobs: true, top_logprobs: 20,
    }).withResponse();
    const first = data.choices[0].logprobs!.content![0];
    const right = first.top_logprobs.find((t) => t.token.trim() === question.answer);
    return {
      version: response.headers.get('lethe-model-version'),
      adapterSha256: response.headers.get('lethe-adapter-sha256'),
      body: data as unknown as Answer['body'],
      text: data.choices[0].message.content ?? '',
      pRight: right ? Math.exp(right.logprob) : 0,
    };
  };
  const get = (url: string, token = servingToken) => fetch(url.startsWith('http') ? url : `${e2e.stack.baseUrl}${url}`, { headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    [subject] = knownSubjects(1);
    // The export the lineage's first request would make, made before the stack starts (it blocks this process a
    // while): the chat can answer before any training, and the workflow reuses it.
    artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-serving-e2e-'));
    ensureTinyExport(tinyModel(), DEFAULT_LORA, { id: BASE_MODEL_ID, outputRoot: onnxExportsDir(artifacts) });
    e2e = await startE2eStack(lineage, { LETHE_ARTIFACTS_DIR: artifacts });
    await createLineage(e2e.gql, lineage, { baseModelId: BASE_MODEL_ID, gatePolicy: ALWAYS_PROMOTE_GATE_POLICY });
    const issued = await e2e.gql.ok('mutation { createApiToken(role: SERVING, owner: "model-server") { token } }');
    servingToken = issued.createApiToken.token;
    model = new OpenAI({ baseURL: `${e2e.stack.baseUrl}/v1`, apiKey: servingToken, maxRetries: 0 });
    const lines = fs.readFileSync(path.join(tinyModel().datasetDir, 'lethe', 'eval', 'people.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalLine);
    question = lines.find((l) => l.subjectId === subject && l.modality === 'text')!;
  }, { timeout: STACK_START_HOOK_TIMEOUT_MS });
  after(async () => {
    await e2e?.stop();
    if (artifacts) fs.rmSync(artifacts, { recursive: true, force: true });
  });

  it('answers from version 0, then from the promoted version that forgot the person, whose adapter downloads with its sha256; a rollback answers from version 0 again at once', async () => {
    const { gql } = e2e;
    const before0 = await ask();
    assert.equal(before0.version, '0');
    assert.equal(before0.adapterSha256, 'none');
    assert.equal(before0.text.trim().slice(0, 1), question.answer, `version 0 knows ${subject}: ${JSON.stringify(before0.text)}`);

    const request = await submit(gql, lineage, 'serve-1', subject);
    const done = await waitForFinal(gql, request.id, 12 * 60_000);
    assert.equal(done.status, 'COMPLETED', `request: ${done.statusReason}`);
    assert.deepEqual(done.modelVersion, { number: 1, status: 'PROMOTED' });
    const v1 = (await gql.ok('query ($l: String!) { modelLineage(name: $l) { champion { number adapterSha256 } } }', { l: lineage })).modelLineage.champion;
    assert.equal(v1.number, 1);
    assert.match(v1.adapterSha256, /^[0-9a-f]{64}$/);

    const after1 = await ask();
    assert.equal(after1.version, '1', 'the promoted version answers, with no restart');
    assert.equal(after1.adapterSha256, v1.adapterSha256);
    assert.deepEqual([after1.body.lethe.version, after1.body.lethe.adapterSha256], [1, v1.adapterSha256]);
    assert.ok(after1.pRight < before0.pRight, `the right answer about ${subject} is less likely after the deletion: ${after1.pRight} vs ${before0.pRight}`);

    // The hand-off to an external server: manifest, then the adapter, checked against the manifest's sha256.
    const manifest = (await (await get(`/models/${lineage}/champion`)).json()) as Record<string, unknown>;
    assert.equal(manifest.version, 1);
    assert.equal(manifest.baseModelId, BASE_MODEL_ID);
    assert.deepEqual(manifest.lora, DEFAULT_LORA);
    assert.equal(manifest.adapterSha256, v1.adapterSha256);
    const download = await get(manifest.adapterUrl as string);
    assert.equal(download.status, 200);
    const weights = Buffer.from(await download.arrayBuffer());
    assert.equal(createHash('sha256').update(weights).digest('hex'), manifest.adapterSha256, 'the downloaded bytes are the audited adapter');
    assert.equal(download.headers.get('lethe-adapter-sha256'), manifest.adapterSha256);
    assert.equal(download.headers.get('repr-digest'), `sha-256=:${Buffer.from(manifest.adapterSha256 as string, 'hex').toString('base64')}:`);
    const config = (await (await get(manifest.adapterConfigUrl as string)).json()) as { r?: number; peft_type?: string; base_model_name_or_path?: string };
    assert.deepEqual([config.peft_type, config.r], ['LORA', DEFAULT_LORA.rank], 'the peft config a server loads beside the weights');
    assert.equal(config.base_model_name_or_path, BASE_MODEL_ID, 'the base model by its id, not by a server path');
    const requester = (await gql.ok('mutation { createApiToken(role: REQUESTER, owner: "dpo@example.com") { token } }')).createApiToken.token;
    assert.equal((await get(manifest.adapterUrl as string, requester)).status, 403, 'a REQUESTER may not download adapters');

    await gql.ok('mutation ($l: String!) { rollbackModel(lineage: $l, toVersion: 0, reason: "e2e: serving follows a rollback") { championVersion } }', { l: lineage });
    const afterRollback = await ask();
    assert.equal(afterRollback.version, '0', 'the rollback answers on the next request');
    assert.equal(afterRollback.text, before0.text);
    assert.equal(afterRollback.pRight, before0.pRight, 'the same artifact gives the same answer');
    assert.equal(((await (await get(`/models/${lineage}/champion`)).json()) as { version: number }).version, 0);
    assert.equal((await get(manifest.adapterUrl as string)).status, 404, 'a rolled-back version is not handed out');
  });
});
