// An OpenAI chat-completions request, checked and turned into what the runtime generates from: the prompt in the
// model's chat format (llava-hf's template: "USER: <image>\n... ASSISTANT:") and the images in order. Every refusal
// names the field at fault. No framework imports.
import { randomInt } from 'node:crypto';
import { InputError } from '../../common/errors';
import { decodeImage, MAX_IMAGES } from '../../requests/domain/submission';

/** The runtime's image placeholder (src/audits/runtime/prompt.ts); a caller's text may not contain it. */
export const IMAGE_PLACEHOLDER = '<image>';
/** OpenAI's own defaults for what a request leaves out. */
export const OPENAI_DEFAULTS = { temperature: 1, topP: 1 } as const;
/** OpenAI's bounds. */
const MAX_TEMPERATURE = 2;
const MAX_TOP_LOGPROBS = 20;
/** Whole conversation text, before tokenisation (the tiny model's context is far shorter; a 7B's is 4,096 tokens). */
const MAX_TEXT_CHARS = 100_000;

export interface ChatRequest {
  /** The lineage whose champion answers. */
  lineage: string;
  prompt: string;
  images: Uint8Array[];
  maxTokens: number;
  /** vLLM's extension: no end of sequence before this many tokens. */
  minTokens: number;
  temperature: number;
  topP: number;
  seed: number;
  stream: boolean;
  /** Usage in a last chunk before [DONE] (stream_options.include_usage). */
  streamUsage: boolean;
  logprobs: boolean;
  topLogprobs: number;
}

/** Parameters that would change the answer in ways this server does not implement: refused, not ignored. */
const UNSUPPORTED: Record<string, (v: unknown) => boolean> = {
  n: (v) => v !== 1,
  stop: () => true,
  tools: (v) => Array.isArray(v) && v.length > 0,
  tool_choice: (v) => v !== 'none',
  functions: () => true,
  response_format: (v) => (v as { type?: unknown })?.type !== 'text',
  presence_penalty: (v) => v !== 0,
  frequency_penalty: (v) => v !== 0,
  logit_bias: (v) => typeof v !== 'object' || Object.keys(v as object).length > 0,
};

const ROLE_PREFIX: Record<string, string> = { system: '', developer: '', user: 'USER: ', assistant: 'ASSISTANT: ' };
const EOS = '</s>';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function number(value: unknown, field: string, min: number, max: number, { integer = false, aboveMin = false } = {}): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && (!integer || Number.isInteger(value)) && (aboveMin ? value > min : value >= min) && value <= max;
  if (!ok) throw new InputError(field, `must be ${integer ? 'an integer' : 'a number'} ${aboveMin ? 'above' : 'from'} ${min} ${aboveMin ? 'and at most' : 'to'} ${max}, got ${JSON.stringify(value)}`);
  return value as number;
}

function boolean(value: unknown, field: string): boolean {
  if (value == null) return false;
  if (typeof value !== 'boolean') throw new InputError(field, 'must be true or false');
  return value;
}

function checkedText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new InputError(field, 'must be a string');
  if (value.includes(IMAGE_PLACEHOLDER)) throw new InputError(field, `must not contain ${IMAGE_PLACEHOLDER}: images are sent as image_url parts`);
  if (value.includes(EOS)) throw new InputError(field, `must not contain ${EOS}`);
  return value;
}

/** One message as the chat template writes it; images are collected in order. */
function renderMessage(message: unknown, field: string, images: Uint8Array[]): { text: string; role: string } {
  if (!isObject(message)) throw new InputError(field, 'must be an object with role and content');
  const role = message.role;
  if (typeof role !== 'string' || !(role in ROLE_PREFIX)) throw new InputError(`${field}.role`, `must be one of ${Object.keys(ROLE_PREFIX).join(', ')}`);
  const content = message.content;
  let body: string;
  if (typeof content === 'string') body = checkedText(content, `${field}.content`);
  else if (Array.isArray(content)) {
    let placeholders = '';
    let texts = '';
    content.forEach((part, j) => {
      const at = `${field}.content[${j}]`;
      if (!isObject(part)) throw new InputError(at, 'must be an object with a type');
      if (part.type === 'text') texts += checkedText(part.text, `${at}.text`);
      else if (part.type === 'image_url') {
        if (role !== 'user') throw new InputError(at, 'only user messages may carry images');
        const url = isObject(part.image_url) ? part.image_url.url : undefined;
        if (typeof url !== 'string' || !/^data:image\/(png|jpeg);base64,/.test(url)) {
          throw new InputError(`${at}.image_url.url`, 'must be a data URL of a PNG or JPEG image (data:image/png;base64,...); the server fetches nothing');
        }
        if (images.length === MAX_IMAGES) throw new InputError(`${at}.image_url.url`, `at most ${MAX_IMAGES} images in a conversation`);
        images.push(Buffer.from(decodeImage(url, `${at}.image_url.url`).data, 'base64'));
        placeholders += `${IMAGE_PLACEHOLDER}\n`;
      } else throw new InputError(`${at}.type`, 'must be text or image_url');
    });
    // The template writes a message's images first, then its text parts.
    body = placeholders + texts;
  } else throw new InputError(`${field}.content`, 'must be a string or an array of content parts');
  return { role, text: ROLE_PREFIX[role] + body + (role === 'assistant' ? EOS : '') };
}

/** `defaultMaxTokens`: config.chatMaxTokens. A sampled request without a seed gets a random one (reported back). */
export function parseChatRequest(body: unknown, defaultMaxTokens: number): ChatRequest {
  if (!isObject(body)) throw new InputError('body', 'must be a JSON object');
  for (const [key, refused] of Object.entries(UNSUPPORTED)) {
    if (body[key] != null && refused(body[key])) throw new InputError(key, 'is not supported by this server');
  }
  if (typeof body.model !== 'string' || body.model.trim() === '') throw new InputError('model', 'must name a model lineage (GET /v1/models lists them)');
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw new InputError('messages', 'must be a non-empty array');
  const images: Uint8Array[] = [];
  const rendered = body.messages.map((m, i) => renderMessage(m, `messages[${i}]`, images));
  if (rendered[rendered.length - 1].role === 'assistant') throw new InputError(`messages[${rendered.length - 1}].role`, 'the last message must not be the assistant\'s');
  const prompt = rendered.map((m) => m.text).join(' ') + ' ASSISTANT:';
  if (prompt.length > MAX_TEXT_CHARS) throw new InputError('messages', `the conversation is ${prompt.length} characters, at most ${MAX_TEXT_CHARS}`);
  const maxField = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = body[maxField] == null ? defaultMaxTokens : number(body[maxField], maxField, 1, 4096, { integer: true });
  const minTokens = body.min_tokens == null ? 0 : number(body.min_tokens, 'min_tokens', 0, maxTokens, { integer: true });
  const temperature = body.temperature == null ? OPENAI_DEFAULTS.temperature : number(body.temperature, 'temperature', 0, MAX_TEMPERATURE);
  const topP = body.top_p == null ? OPENAI_DEFAULTS.topP : number(body.top_p, 'top_p', 0, 1, { aboveMin: true });
  const seed = body.seed == null ? randomInt(2 ** 31) : number(body.seed, 'seed', -(2 ** 53), 2 ** 53, { integer: true });
  const logprobs = boolean(body.logprobs, 'logprobs');
  const topLogprobs = body.top_logprobs == null ? 0 : number(body.top_logprobs, 'top_logprobs', 0, MAX_TOP_LOGPROBS, { integer: true });
  if (topLogprobs > 0 && !logprobs) throw new InputError('top_logprobs', 'needs logprobs: true');
  const stream = boolean(body.stream, 'stream');
  if (stream && logprobs) throw new InputError('logprobs', 'is not available when streaming (stream: true)');
  if (body.stream_options != null && !isObject(body.stream_options)) throw new InputError('stream_options', 'must be an object');
  const streamUsage = boolean(isObject(body.stream_options) ? body.stream_options.include_usage : null, 'stream_options.include_usage');
  return { lineage: body.model.trim(), prompt, images, maxTokens, minTokens, temperature, topP, seed, stream, streamUsage, logprobs, topLogprobs };
}
