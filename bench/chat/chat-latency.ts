// Chat completion latency on the tiny LLaVA on loopback: the real service (embedded Postgres, the API), the official
// openai client, the champion's runtime (version 0 of a lineage over the tiny model's ONNX export). Sequential
// requests, so each latency is one request's, not a queue's.
//   npm run bench:chat [-- --requests 50]
// Prints a table and one JSON line.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import OpenAI from 'openai';
import { onnxExportsDir } from '../../src/config/config';
import { DEFAULT_LORA } from '../../src/lineages/domain/lineage';
import { ensureTinyExport, tinyModel } from '../../test/audits/runtime/torch-reference';
import { startTestApp } from '../../test/support/app';
import { RecordingQueue, recordingQueueModule } from '../../test/support/recording-queue';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Scenario {
  name: string;
  request: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
}

async function main(): Promise<void> {
  const requests = Number(arg('requests', '50'));
  const tiny = tinyModel();
  const artifacts = fs.mkdtempSync(path.join(os.tmpdir(), 'lethe-bench-chat-'));
  ensureTinyExport(tiny, DEFAULT_LORA, { id: 'tiny-llava', outputRoot: onnxExportsDir(artifacts) });
  const t = await startTestApp({ orchestration: recordingQueueModule(new RecordingQueue()), env: { LETHE_ARTIFACTS_DIR: artifacts } });
  try {
    await t.operator.ok('mutation ($input: CreateModelLineageInput!) { createModelLineage(input: $input) { name } }',
      { input: { name: 'bench', baseModelPath: tiny.modelDir, baseModelId: 'tiny-llava', datasetPath: tiny.datasetDir } });
    const token = (await t.operator.ok('mutation { createApiToken(role: SERVING, owner: "bench") { token } }')).createApiToken.token;
    const client = new OpenAI({ baseURL: `${t.baseUrl}/v1`, apiKey: token, maxRetries: 0 });
    const people = fs.readFileSync(path.join(tiny.datasetDir, 'lethe', 'eval', 'people.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const text = people.find((p) => p.modality === 'text');
    const image = people.find((p) => p.modality === 'multimodal');
    const portrait = `data:image/png;base64,${fs.readFileSync(path.join(tiny.datasetDir, 'lethe', image.image)).toString('base64')}`;
    const options = (q: { question: string; options: Record<string, string> }) =>
      `${q.question}\n${Object.entries(q.options).map(([k, v]) => `${k}. ${v}`).join('\n')}\nAnswer with the option's letter from the given choices directly.`;
    const scenarios: Scenario[] = [
      { name: 'text question, greedy letter', request: { model: 'bench', messages: [{ role: 'user', content: options(text) }], temperature: 0 } },
      { name: 'image + question, greedy letter', request: { model: 'bench', temperature: 0, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: portrait } }, { type: 'text', text: options(image) }] }] } },
      // The tiny model ends its answers after the letter: min_tokens (vLLM's extension) makes it write 32 tokens,
      // the per-token cost of a decoder without a key-value cache.
      { name: 'free text, 32 sampled tokens', request: { model: 'bench', messages: [{ role: 'user', content: 'Tell me about this world.' }], temperature: 1, seed: 1, max_tokens: 32, min_tokens: 32 } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming },
    ];
    const rows = [];
    for (const scenario of scenarios) {
      for (let i = 0; i < 3; i++) await client.chat.completions.create(scenario.request); // warm-up: open the runtime
      const latencies: number[] = [];
      let tokens = 0;
      for (let i = 0; i < requests; i++) {
        const t0 = performance.now();
        const answer = await client.chat.completions.create(scenario.request);
        latencies.push(performance.now() - t0);
        tokens += answer.usage!.completion_tokens;
      }
      latencies.sort((a, b) => a - b);
      rows.push({
        scenario: scenario.name,
        requests,
        p50Ms: +percentile(latencies, 50).toFixed(1),
        p99Ms: +percentile(latencies, 99).toFixed(1),
        completionTokensPerRequest: +(tokens / requests).toFixed(1),
      });
    }
    const header = ['scenario', 'requests', 'p50 ms', 'p99 ms', 'tokens/answer'];
    const lines = rows.map((r) => [r.scenario, String(r.requests), String(r.p50Ms), String(r.p99Ms), String(r.completionTokensPerRequest)]);
    const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
    const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(fmt(header));
    for (const l of lines) console.log(fmt(l));
    console.log(JSON.stringify({ bench: 'chat', machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? '?'}`, node: process.version, rows }));
  } finally {
    await t.stop();
    fs.rmSync(artifacts, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
