// The model API on the real service with the real tiny LLaVA (its ONNX export, no training): the official openai
// client against /v1, who may call it, what it refuses and how, and the lineage's serving kind. Promotion, rollback
// and adapter downloads of trained versions run on the whole stack in test/e2e/serving.test.ts.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { openScorer } from '../../src/audits/runtime';
import { onnxExportsDir } from '../../src/config/config';
import { DEFAULT_LORA } from '../../src/lineages/domain/lineage';
import { ensureTinyExport, tinyModel } from '../audits/runtime/torch-reference';
import { START_HOOK_TIMEOUT_MS } from '../support/postgres';
import { startTestApp, TestApp } from '../support/app';
import { RecordingQueue, recordingQueueModule } from '../support/recording-queue';

const LINEAGE = 'chat';
const BASE_MODEL_ID = 'tiny-llava';

interface EvalLine { id: string; modality: string; subjectId: string; question: string; options: Record<'A' | 'B' | 'C' | 'D', string>; answer: string; image: string | null }

function mcText(item: EvalLine): string {
  return `${item.question}\n${Object.entries(item.options).map(([k, v]) => `${k}. ${v}`).join('\n')}\nAnswer with the option's letter from the given choices directly.`;
}

async function tokenFor(t: TestApp, role: string): Promise<string> {
  const data = await t.operator.ok(`mutation { createApiToken(role: ${role}, owner: "${role.toLowerCase()}@test") { token role } }`);
  assert.equal(data.createApiToken.role, role);
  return data.createApiToken.token;
}

describe('the model API (/v1) on the tiny LLaVA', { timeout: 10 * 60_000 }, () => {
  let t: TestApp;
  let serving: OpenAI;
  let servingToken: string;
  let item: EvalLine;
  let portrait: string;
  let artifacts: string;

  before(async () => {
    const tiny = tinyModel();
    // What the lineage's first request would export, where the service looks for it (before the app starts:
    // the export blocks this process for a while).
    artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-serving-'));
    ensureTinyExport(tiny, DEFAULT_LORA, { id: BASE_MODEL_ID, outputRoot: onnxExportsDir(artifacts) });
    t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()), env: { LETHE_ARTIFACTS_DIR: artifacts } });
    await t.operator.ok('mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }',
      { input: { name: LINEAGE, baseModelPath: tiny.modelDir, baseModelId: BASE_MODEL_ID, datasetPath: tiny.datasetDir } });
    servingToken = await tokenFor(t, 'SERVING');
    serving = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: servingToken, maxRetries: 0 });
    const dataset = tiny.datasetDir;
    const lines = fs.readFileSync(path.join(dataset, 'lethe', 'eval', 'people.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EvalLine);
    item = lines.find((l) => l.modality === 'text')!;
    const imageOf = lines.find((l) => l.modality === 'multimodal' && l.subjectId === item.subjectId)!;
    portrait = `data:image/png;base64,${fs.readFileSync(path.join(dataset, 'lethe', imageOf.image!)).toString('base64')}`;
  }, { timeout: START_HOOK_TIMEOUT_MS });
  after(async () => {
    await t?.stop();
    if (artifacts) fs.rmSync(artifacts, { recursive: true, force: true });
  });

  it('lists the lineages with the version that answers', async () => {
    const models = await serving.models.list();
    const entry = models.data.find((m) => m.id === LINEAGE) as unknown as { lethe: { version: number; adapterSha256: string | null } };
    assert.ok(entry, 'the lineage is a model');
    assert.deepEqual(entry.lethe, { lineage: LINEAGE, version: 0, adapterSha256: null });
  });

  it('answers greedily as the audit scores: the letter the scorer picks, naming version 0 in header and body', async () => {
    const { data, response } = await serving.chat.completions.create({
      model: LINEAGE, messages: [{ role: 'user', content: mcText(item) }], temperature: 0, max_tokens: 8, logprobs: true, top_logprobs: 4,
    }).withResponse();
    assert.equal(response.headers.get('lethe-model-version'), '0');
    assert.equal(response.headers.get('lethe-adapter-sha256'), 'none');
    assert.deepEqual((data as unknown as { lethe: object }).lethe, { lineage: LINEAGE, version: 0, adapterSha256: null, seed: (data as unknown as { lethe: { seed: number } }).lethe.seed });
    const first = data.choices[0].logprobs!.content![0];
    assert.equal(first.top_logprobs.length, 4);
    assert.equal(first.token, first.top_logprobs[0].token, 'greedy takes the most likely token');
    // The audit's scorer on the same export, version 0: its predicted letter is the chat's first token.
    const scorer = await openScorer({ exportDir: findOnly(onnxExportsDir(t.config.artifactsDir)), modelDir: tinyModel().modelDir, adapter: null });
    try {
      const [scored] = await scorer.score([{ ...item, modality: 'text', category: null, split: 'fictional' } as never]);
      assert.equal(data.choices[0].message.content!.trim().slice(0, 1), scored.predicted);
    } finally {
      await scorer.close();
    }
    assert.ok(data.usage!.prompt_tokens > 10 && data.usage!.completion_tokens >= 1);
  });

  it('samples reproducibly with a seed, and streams an answer about an image sent as a data URL', async () => {
    const ask = (seed: number) => serving.chat.completions.create({ model: LINEAGE, messages: [{ role: 'user', content: 'Who is this person?' }], temperature: 1.2, seed, max_tokens: 12 });
    const [a, b] = [await ask(7), await ask(7)];
    assert.equal(a.choices[0].message.content, b.choices[0].message.content, 'same seed, same answer');
    const long = await serving.chat.completions.create({ model: LINEAGE, messages: [{ role: 'user', content: 'Who is this person?' }], temperature: 1, seed: 3, max_tokens: 6, min_tokens: 6 } as never) as OpenAI.ChatCompletion;
    assert.deepEqual([long.usage!.completion_tokens, long.choices[0].finish_reason], [6, 'length'], 'min_tokens keeps the end of sequence out');
    const messages = [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url: portrait } }, { type: 'text' as const, text: 'What is this person\'s occupation?' }] }];
    const whole = await serving.chat.completions.create({ model: LINEAGE, messages, temperature: 0, max_tokens: 12 });
    const stream = await serving.chat.completions.create({ model: LINEAGE, messages, temperature: 0, max_tokens: 12, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let finish: string | null = null;
    let usage: unknown = null;
    let version: unknown;
    for await (const chunk of stream) {
      version = (chunk as unknown as { lethe: { version: number } }).lethe.version;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, whole.choices[0].message.content, 'the stream carries the same greedy answer');
    assert.equal(finish, whole.choices[0].finish_reason);
    assert.deepEqual(usage, whole.usage);
    assert.equal(version, 0);
    assert.ok(whole.usage!.prompt_tokens > 16, 'the image takes its 16 positions in the prompt');
  });

  it('refuses bad input naming the field, an unknown model, and a prompt beyond the context', async () => {
    const refused = async (body: object, status: number, field?: string) => {
      const err = await serving.chat.completions.create({ model: LINEAGE, messages: [{ role: 'user', content: 'hi' }], ...body } as never).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof OpenAI.APIError, `refused: ${JSON.stringify(body).slice(0, 100)}`);
      assert.equal(err.status, status, JSON.stringify(err.error));
      if (field) assert.equal((err.error as { field?: string }).field, field);
    };
    await refused({ max_tokens: 0 }, 400, 'max_tokens');
    await refused({ temperature: 3 }, 400, 'temperature');
    await refused({ n: 2 }, 400, 'n');
    await refused({ max_tokens: 4, min_tokens: 5 }, 400, 'min_tokens');
    await refused({ top_logprobs: 2 }, 400, 'top_logprobs');
    await refused({ messages: [] }, 400, 'messages');
    await refused({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }, 400, 'messages[0].content[0].image_url.url');
    await refused({ messages: [{ role: 'user', content: 'see <image> here' }] }, 400, 'messages[0].content');
    await refused({ max_tokens: 4000 }, 400, 'messages');
    await refused({ model: 'nope' }, 404, 'model');
  });

  it('SERVING may call the model endpoints only; REQUESTER and AUDITOR may not call them', async () => {
    const graphql = await t.operator.withToken(servingToken).request('{ modelLineage(name: "chat") { name } }');
    assert.equal(graphql.status, 403);
    assert.equal(graphql.errors?.[0].extensions?.code, 'FORBIDDEN');
    const report = await fetch(`${t.baseUrl}/reports/requests/00000000-0000-0000-0000-000000000000.json`, { headers: { authorization: `Bearer ${servingToken}` } });
    assert.equal(report.status, 403, 'a route without @Roles is not for SERVING');
    for (const role of ['REQUESTER', 'AUDITOR']) {
      const client = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: await tokenFor(t, role), maxRetries: 0 });
      await assert.rejects(client.models.list(), (e: unknown) => e instanceof OpenAI.PermissionDeniedError, role);
    }
    const anonymous = await fetch(`${t.baseUrl}/v1/models`);
    assert.equal(anonymous.status, 401);
    const operator = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: t.operator.token!, maxRetries: 0 });
    assert.ok((await operator.models.list()).data.some((m) => m.id === LINEAGE), 'OPERATOR may call the model too');
  });

  it('version 0 has no adapter to hand over; its manifest says so', async () => {
    const headers = { authorization: `Bearer ${servingToken}` };
    const manifest = (await (await fetch(`${t.baseUrl}/models/${LINEAGE}/champion`, { headers })).json()) as Record<string, unknown>;
    assert.equal(manifest.version, 0);
    assert.equal(manifest.servingKind, 'ONNX_RUNTIME');
    assert.equal(manifest.adapterSha256, null);
    assert.equal(manifest.adapterUrl, null);
    assert.deepEqual(manifest.lora, DEFAULT_LORA);
    const download = await fetch(`${t.baseUrl}/models/${LINEAGE}/versions/0/adapter.safetensors`, { headers });
    assert.equal(download.status, 404);
  });

  it('createModelLineage refuses a serving kind that cannot load the LoRA targets, naming the field', async () => {
    const create = 'mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { servingKind lora } }';
    const paths = { baseModelPath: tinyModel().modelDir, datasetPath: tinyModel().datasetDir };
    const refused = await t.operator.fails(create, { input: { name: 'vllm-bad', servingKind: 'VLLM', ...paths } });
    assert.deepEqual([refused.code, refused.field], ['BAD_USER_INPUT', 'input.lora.targets']);
    assert.match(refused.message, /VLLM/);
    const ok = await t.operator.ok(create, { input: { name: 'vllm-ok', servingKind: 'VLLM', lora: { targets: 'llm' }, ...paths } });
    assert.equal(ok.createModelLineage.servingKind, 'VLLM');
    const dflt = await t.operator.ok('{ modelLineage(name: "chat") { servingKind } }');
    assert.equal(dflt.modelLineage.servingKind, 'ONNX_RUNTIME');
  });
});

function findOnly(root: string): string {
  const dirs = fs.readdirSync(root).filter((d) => !d.startsWith('.'));
  assert.equal(dirs.length, 1, `one export under ${root}`);
  return path.join(root, dirs[0]);
}
