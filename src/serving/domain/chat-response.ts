// OpenAI chat-completion bodies (whole and streamed chunks) from a generation, each naming the version and
// adapter that produced it (also sent as headers: SERVED_BY_HEADERS).
import type { Generation, TokenText } from '../../audits/runtime';

/** Which champion answered: what every model response names. */
export interface ServedBy {
  lineage: string;
  version: number;
  /** null for version 0, the base model without adapter. */
  adapterSha256: string | null;
}

export const SERVED_BY_HEADERS = { version: 'Lethe-Model-Version', adapterSha256: 'Lethe-Adapter-Sha256' } as const;

export function servedByHeaders(servedBy: ServedBy): Record<string, string> {
  return { [SERVED_BY_HEADERS.version]: String(servedBy.version), [SERVED_BY_HEADERS.adapterSha256]: servedBy.adapterSha256 ?? 'none' };
}

/** OpenAI's system_fingerprint: the backend configuration that answered. */
function fingerprint(servedBy: ServedBy): string {
  return `${servedBy.lineage}@v${servedBy.version}${servedBy.adapterSha256 ? `-${servedBy.adapterSha256.slice(0, 12)}` : ''}`;
}

interface Envelope {
  id: string;
  created: number;
  servedBy: ServedBy;
  seed: number;
}

function common(e: Envelope) {
  return {
    id: e.id,
    created: e.created,
    model: e.servedBy.lineage,
    system_fingerprint: fingerprint(e.servedBy),
    lethe: { ...e.servedBy, seed: e.seed },
  };
}

function logprobEntry(t: TokenText) {
  return { token: t.text, logprob: t.logprob, bytes: [...Buffer.from(t.text, 'utf8')] };
}

function logprobsOf(tokens: Generation['tokens']) {
  return { content: tokens.map((t) => ({ ...logprobEntry(t), top_logprobs: t.top.map(logprobEntry) })), refusal: null };
}

function usage(g: Generation) {
  return { prompt_tokens: g.promptTokens, completion_tokens: g.tokens.length, total_tokens: g.promptTokens + g.tokens.length };
}

export function completionBody(e: Envelope, g: Generation, withLogprobs: boolean) {
  return {
    ...common(e),
    object: 'chat.completion',
    choices: [{
      index: 0,
      message: { role: 'assistant', content: g.text, refusal: null },
      logprobs: withLogprobs ? logprobsOf(g.tokens) : null,
      finish_reason: g.finishReason,
    }],
    usage: usage(g),
  };
}

type Delta = { role?: 'assistant'; content?: string };

export function chunkBody(e: Envelope, delta: Delta, finishReason: Generation['finishReason'] | null = null) {
  return { ...common(e), object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

/** The last chunk of a stream that asked for usage: no choices. */
export function usageChunkBody(e: Envelope, g: Generation) {
  return { ...common(e), object: 'chat.completion.chunk', choices: [], usage: usage(g) };
}
