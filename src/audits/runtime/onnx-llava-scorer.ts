// Multiple-choice scoring and text generation of a LLaVA version on onnxruntime-node: the graphs
// export_onnx wrote, with the version's LoRA tensors fed as inputs on every run (zeros for version 0).
// The audit scores with it and the chat endpoint generates with it, so what answers is what was audited.
//
// Per batch: prompts -> token ids (the single <image> token expanded to numImageTokens positions)
// -> LEFT padding -> embed graph; images -> vision graph; image features merged into the
// embeddings here; -> decoder graph -> last-position logits of the option-letter tokens.
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { AdapterRef, EvalItem, McScorer, OPTION_LETTERS, OptionLetter, rightOptionScore, ScoredItem } from '../domain/eval-item';
import type { FreeFormAnswer, FreeFormQuestion } from '../domain/free-form';
import * as fs from 'node:fs';
import { loadLoraFeeds } from './adapter';
import { RuntimeEvalItem } from './eval-items';
import { checkGraphAgainstManifest, GraphName, OnnxManifest, readManifest } from './manifest';
import { DecodingOptions, TokenChooser, TokenLogprob } from './generation';
import { loadPreprocessors, Preprocessors } from './preprocessing';
import { IMAGE_TOKEN, mcPrompt, openPrompt } from './prompt';
import { AuditRuntimeError } from './runtime-error';

export type ExecutionProvider = 'cpu' | 'cuda';

export interface OpenScorerOptions {
  /** Directory of an ONNX export (manifest.json + graphs). */
  exportDir: string;
  /** The llava-hf model directory (tokenizer and image processor files). */
  modelDir: string;
  /** The candidate's adapter; null = version 0 (zero LoRA tensors = the base model). */
  adapter: AdapterRef | null;
  /** CPU by default; CUDA falls back to CPU with a logged warning when unavailable. */
  executionProvider?: ExecutionProvider;
  /** Questions per forward pass (default 32). */
  batchSize?: number;
  /** Where warnings go (default console.warn). */
  log?: (message: string) => void;
}

export interface ScoreOptions {
  batchSize?: number;
}

/** An item to score: an EvalItem, with its image as an absolute path for multimodal questions. */
export type ScorableItem = EvalItem & Partial<Pick<RuntimeEvalItem, 'imagePath'>>;

/** What to generate from: a prompt holding one IMAGE_TOKEN per image, and the images in that order. */
export interface GenerationInput {
  prompt: string;
  /** Image files, or the bytes of PNG / JPEG images. */
  images: (string | Uint8Array)[];
}

/** A token with its text and log-probability (OpenAI's `logprobs`). */
export interface TokenText extends TokenLogprob {
  text: string;
}

export interface Generation {
  text: string;
  /** The generated tokens (the end-of-sequence token left out), each with the most likely alternatives at its position. */
  tokens: (TokenText & { top: TokenText[] })[];
  /** Prompt length in tokens, image positions included. */
  promptTokens: number;
  /** stop: the model ended the answer; length: maxTokens was reached. */
  finishReason: 'stop' | 'length';
}

const DEFAULT_BATCH_SIZE = 32;
const GRAPHS: GraphName[] = ['vision', 'embed', 'decoder'];

interface EncodedItem {
  index: number;
  ids: number[];
  imagePath: string | null;
  /** First of the numImageTokens image positions in ids (-1 for text-only). */
  imageAt: number;
}

async function createAllSessions(exportDir: string, manifest: OnnxManifest, provider: ExecutionProvider): Promise<Record<GraphName, ort.InferenceSession>> {
  const sessions: Partial<Record<GraphName, ort.InferenceSession>> = {};
  try {
    for (const graph of GRAPHS) {
      sessions[graph] = await ort.InferenceSession.create(path.join(exportDir, manifest.graphs[graph]), {
        executionProviders: [provider],
        graphOptimizationLevel: 'all',
      });
    }
  } catch (e) {
    await Promise.all(Object.values(sessions).map((s) => s.release()));
    throw e;
  }
  return sessions as Record<GraphName, ort.InferenceSession>;
}

async function createSessions(exportDir: string, manifest: OnnxManifest, provider: ExecutionProvider,
  log: (m: string) => void): Promise<{ sessions: Record<GraphName, ort.InferenceSession>; provider: ExecutionProvider }> {
  if (provider === 'cuda') {
    try {
      return { sessions: await createAllSessions(exportDir, manifest, 'cuda'), provider: 'cuda' };
    } catch (e) {
      log(`CUDA execution provider unavailable (${(e as Error).message.split('\n')[0]}); falling back to CPU`);
    }
  }
  try {
    return { sessions: await createAllSessions(exportDir, manifest, 'cpu'), provider: 'cpu' };
  } catch (e) {
    throw new AuditRuntimeError('MANIFEST_GRAPH_MISMATCH', `cannot load the graphs of ${exportDir}: ${(e as Error).message}`, 'graphs');
  }
}

function readContextLength(modelDir: string): number | null {
  try {
    const config = JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { text_config?: { max_position_embeddings?: unknown } };
    const n = config.text_config?.max_position_embeddings;
    return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function argmaxLetter(logits: Record<OptionLetter, number>): OptionLetter {
  // First maximum wins, as Python's max() in the torch scorer.
  return OPTION_LETTERS.reduce((best, letter) => (logits[letter] > logits[best] ? letter : best), OPTION_LETTERS[0]);
}

export class OnnxLlavaScorer implements McScorer {
  private readonly pixelCache = new Map<string, Float32Array>();

  private constructor(
    readonly manifest: OnnxManifest,
    /** The provider the sessions actually run on. */
    readonly executionProvider: ExecutionProvider,
    private readonly sessions: Record<GraphName, ort.InferenceSession>,
    private readonly loraFeeds: Record<'vision' | 'decoder', Record<string, ort.Tensor>>,
    private readonly preprocessors: Preprocessors,
    private readonly batchSize: number,
    /** The language model's context (max_position_embeddings of config.json); null when the config has none. */
    readonly contextLength: number | null,
  ) {}

  /** Validates manifest, adapter (sha256 first) and graphs before anything is scored. */
  static async open(options: OpenScorerOptions): Promise<OnnxLlavaScorer> {
    const log = options.log ?? ((m: string) => console.warn(`[audits/runtime] ${m}`));
    const manifest = readManifest(options.exportDir);
    const tensors = loadLoraFeeds(options.adapter, manifest.loraInputs);
    const loraFeeds: Record<'vision' | 'decoder', Record<string, ort.Tensor>> = { vision: {}, decoder: {} };
    for (const spec of manifest.loraInputs) {
      loraFeeds[spec.graph][spec.name] = new ort.Tensor('float32', tensors.get(spec.name)!, spec.shape);
    }
    const preprocessors = await loadPreprocessors(options.modelDir);
    const { sessions, provider } = await createSessions(options.exportDir, manifest, options.executionProvider ?? 'cpu', log);
    try {
      for (const graph of GRAPHS) checkGraphAgainstManifest(manifest, graph, sessions[graph]);
    } catch (e) {
      await Promise.all(GRAPHS.map((g) => sessions[g].release()));
      throw e;
    }
    return new OnnxLlavaScorer(manifest, provider, sessions, loraFeeds, preprocessors, options.batchSize ?? DEFAULT_BATCH_SIZE,
      readContextLength(options.modelDir));
  }

  async score(items: ScorableItem[], opts: ScoreOptions = {}): Promise<ScoredItem[]> {
    if (items.length === 0) throw new AuditRuntimeError('EVAL_SET_EMPTY', 'no items to score');
    const encoded = items.map((item, index) => this.encode(item, index));
    // Similar lengths together: less padding per batch. Results go back in input order.
    const order = [...encoded].sort((a, b) => a.ids.length - b.ids.length || a.index - b.index);
    const batchSize = opts.batchSize ?? this.batchSize;
    const results = new Array<ScoredItem>(items.length);
    for (let start = 0; start < order.length; start += batchSize) {
      const batch = order.slice(start, start + batchSize);
      const logits = await this.optionLogits(batch);
      batch.forEach((enc, row) => {
        const item = items[enc.index];
        const predicted = argmaxLetter(logits[row]);
        results[enc.index] = { id: item.id, logits: logits[row], predicted, correct: predicted === item.answer, ...rightOptionScore(logits[row], item.answer) };
      });
    }
    return results;
  }

  /**
   * Generates an answer to one prompt, token by token (the decoder graph has no key-value cache: each step
   * runs it over the whole sequence). onText receives the new text as it is decoded (streaming).
   */
  async generate(input: GenerationInput, options: DecodingOptions, onText?: (delta: string) => void): Promise<Generation> {
    const { imageTokenId, numImageTokens, hiddenSize } = this.manifest;
    const raw = this.preprocessors.encode(input.prompt);
    const positions = raw.flatMap((id, i) => (id === imageTokenId ? [i] : []));
    if (positions.length !== input.images.length) {
      throw new AuditRuntimeError('IMAGE_TOKEN_MISMATCH',
        `the prompt tokenises to ${positions.length} image tokens (${IMAGE_TOKEN}) for ${input.images.length} images`);
    }
    const ids: number[] = [];
    const imageAt: number[] = [];
    for (const id of raw) {
      if (id !== imageTokenId) {
        ids.push(id);
        continue;
      }
      imageAt.push(ids.length);
      for (let k = 0; k < numImageTokens; k++) ids.push(imageTokenId);
    }
    if (this.contextLength !== null && ids.length + options.maxTokens > this.contextLength) {
      throw new AuditRuntimeError('PROMPT_TOO_LONG',
        `the prompt is ${ids.length} tokens (images count ${numImageTokens} each) and ${options.maxTokens} more are asked for; ` +
        `the model's context is ${this.contextLength}`, 'maxTokens');
    }
    const embeds = new Float32Array((ids.length + options.maxTokens) * hiddenSize);
    embeds.set((await this.run('embed', { input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]) })).data as Float32Array);
    const features = await this.imageFeatures(input.images);
    imageAt.forEach((at, i) => embeds.set(features[i], at * hiddenSize));
    const chooser = new TokenChooser(options);
    const tokens: Generation['tokens'] = [];
    let length = ids.length;
    let emitted = '';
    let finishReason: Generation['finishReason'] = 'length';
    const flush = (final: boolean) => {
      const text = this.preprocessors.decode(tokens.map((t) => t.tokenId));
      // A character split over byte tokens decodes to U+FFFD until its last byte arrives.
      if (!final && text.endsWith('\uFFFD')) return;
      if (text.length > emitted.length && text.startsWith(emitted)) onText?.(text.slice(emitted.length));
      emitted = text;
    };
    while (tokens.length < options.maxTokens) {
      const logits = await this.run('decoder', {
        inputs_embeds: new ort.Tensor('float32', embeds.subarray(0, length * hiddenSize), [1, length, hiddenSize]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(length).fill(1n), [1, length]),
        ...this.loraFeeds.decoder,
      });
      const last = logits.data as Float32Array;
      // Below minTokens the end of sequence is masked out, as vLLM's min_tokens does (logprobs then leave it out too).
      if (tokens.length < options.minTokens) last[this.preprocessors.eosTokenId] = -Infinity;
      const next = chooser.choose(last);
      if (next.tokenId === this.preprocessors.eosTokenId) {
        finishReason = 'stop';
        break;
      }
      const withText = (t: TokenLogprob): TokenText => ({ ...t, text: this.preprocessors.decode([t.tokenId]) });
      tokens.push({ ...withText(next), top: next.top.map(withText) });
      flush(false);
      if (tokens.length === options.maxTokens) break;
      const embedded = await this.run('embed', { input_ids: new ort.Tensor('int64', BigInt64Array.of(BigInt(next.tokenId)), [1, 1]) });
      embeds.set(embedded.data as Float32Array, length * hiddenSize);
      length++;
    }
    flush(true);
    return { text: emitted, tokens, promptTokens: ids.length, finishReason };
  }

  /** The audit's free-form probe (free-form.ts): greedy answers on the same generation path as the chat endpoint. */
  async answerFreely(questions: FreeFormQuestion[], maxTokens: number): Promise<FreeFormAnswer[]> {
    const greedy: DecodingOptions = { maxTokens, minTokens: 0, temperature: 0, topP: 1, seed: 0, topLogprobs: 0 };
    const answers: FreeFormAnswer[] = [];
    for (const q of questions) answers.push({ id: q.id, text: (await this.generate({ prompt: openPrompt(q.question), images: [] }, greedy)).text });
    return answers;
  }

  async close(): Promise<void> {
    await Promise.all(GRAPHS.map((g) => this.sessions[g].release()));
  }

  private encode(item: ScorableItem, index: number): EncodedItem {
    const withImage = item.modality === 'multimodal';
    const imagePath = withImage ? item.imagePath ?? null : null;
    if (withImage && !imagePath) {
      throw new AuditRuntimeError('IMAGE_NOT_FOUND', `multimodal item ${item.id} has no resolved imagePath (load items with loadEvalItems)`, 'imagePath');
    }
    const prompt = mcPrompt(item.question, item.options, withImage, item.promptFormat);
    const ids = this.preprocessors.encode(prompt);
    const { imageTokenId, numImageTokens } = this.manifest;
    const positions = ids.flatMap((id, i) => (id === imageTokenId ? [i] : []));
    // The prompt holds exactly one <image> token (none for text-only); the question text must not
    // produce another, or features would land in the wrong place.
    if (positions.length !== (withImage ? 1 : 0)) {
      throw new AuditRuntimeError('IMAGE_TOKEN_MISMATCH',
        `item ${item.id}: prompt tokenises to ${positions.length} image tokens (id ${imageTokenId}), expected ${withImage ? 1 : 0}`);
    }
    if (!withImage) return { index, ids, imagePath, imageAt: -1 };
    const at = positions[0];
    const expanded = [...ids.slice(0, at), ...new Array<number>(numImageTokens).fill(imageTokenId), ...ids.slice(at + 1)];
    return { index, ids: expanded, imagePath, imageAt: at };
  }

  /** Files are cached by path (the audit asks about the same portraits many times); bytes are not. */
  private async pixelsOf(image: string | Uint8Array): Promise<Float32Array> {
    const cached = typeof image === 'string' ? this.pixelCache.get(image) : undefined;
    if (cached) return cached;
    const { data, dims } = await this.preprocessors.pixels(image);
    const size = this.manifest.imageSize;
    if (dims.length !== 3 || dims[1] !== size || dims[2] !== size) {
      const what = typeof image === 'string' ? image : 'an image';
      throw new AuditRuntimeError('MODEL_DIR_INVALID',
        `image processor gives pixel values [${dims.join(', ')}] for ${what}; the vision graph takes [3, ${size}, ${size}]`);
    }
    if (typeof image === 'string') this.pixelCache.set(image, data);
    return data;
  }

  private async run(graph: GraphName, feeds: Record<string, ort.Tensor>): Promise<ort.Tensor> {
    try {
      const out = await this.sessions[graph].run(feeds);
      return out[this.sessions[graph].outputNames[0]];
    } catch (e) {
      throw new AuditRuntimeError('EXECUTION_FAILED', `${graph} graph failed: ${(e as Error).message}`);
    }
  }

  /** Image features of these images, one [numImageTokens * hidden] block per image, in order. */
  private async imageFeatures(paths: (string | Uint8Array)[]): Promise<Float32Array[]> {
    if (paths.length === 0) return [];
    const size = this.manifest.imageSize;
    const plane = 3 * size * size;
    const pixels = new Float32Array(paths.length * plane);
    for (let i = 0; i < paths.length; i++) pixels.set(await this.pixelsOf(paths[i]), i * plane);
    const features = await this.run('vision', {
      pixel_values: new ort.Tensor('float32', pixels, [paths.length, 3, size, size]),
      ...this.loraFeeds.vision,
    });
    const [n, tokens, hidden] = features.dims;
    if (n !== paths.length || tokens !== this.manifest.numImageTokens || hidden !== this.manifest.hiddenSize) {
      throw new AuditRuntimeError('IMAGE_TOKEN_MISMATCH',
        `vision graph returned [${features.dims.join(', ')}] for ${paths.length} images; the prompts hold ` +
        `${this.manifest.numImageTokens} image positions of width ${this.manifest.hiddenSize} each`);
    }
    const data = features.data as Float32Array;
    const block = tokens * hidden;
    return paths.map((_, i) => data.subarray(i * block, (i + 1) * block));
  }

  private async optionLogits(batch: EncodedItem[]): Promise<Record<OptionLetter, number>[]> {
    const { padTokenId, hiddenSize, vocabSize, optionTokenIds } = this.manifest;
    const width = Math.max(...batch.map((e) => e.ids.length));
    const ids = new BigInt64Array(batch.length * width).fill(BigInt(padTokenId));
    const mask = new BigInt64Array(batch.length * width);
    batch.forEach((enc, row) => {
      const offset = row * width + (width - enc.ids.length); // left padding
      enc.ids.forEach((id, i) => {
        ids[offset + i] = BigInt(id);
        mask[offset + i] = 1n;
      });
    });
    const features = await this.imageFeatures(batch.flatMap((e) => (e.imagePath ? [e.imagePath] : [])));
    const embedded = await this.run('embed', { input_ids: new ort.Tensor('int64', ids, [batch.length, width]) });
    const embeds = embedded.data as Float32Array;
    let image = 0;
    batch.forEach((enc, row) => {
      if (enc.imageAt < 0) return;
      const first = row * width + (width - enc.ids.length) + enc.imageAt;
      embeds.set(features[image++], first * hiddenSize); // the expanded block is contiguous
    });
    const logits = await this.run('decoder', {
      inputs_embeds: new ort.Tensor('float32', embeds, [batch.length, width, hiddenSize]),
      attention_mask: new ort.Tensor('int64', mask, [batch.length, width]),
      ...this.loraFeeds.decoder,
    });
    const data = logits.data as Float32Array;
    return batch.map((_, row) => {
      const out = {} as Record<OptionLetter, number>;
      for (const letter of OPTION_LETTERS) out[letter] = data[row * vocabSize + optionTokenIds[letter]];
      return out;
    });
  }
}

/** The factory the audit activity uses. */
export function openScorer(options: OpenScorerOptions): Promise<OnnxLlavaScorer> {
  return OnnxLlavaScorer.open(options);
}
