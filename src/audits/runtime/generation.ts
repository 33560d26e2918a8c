// Decoding rules of the runtime's one generation path (OnnxLlavaScorer.generate): how the next token is
// chosen from the last position's logits. Greedy at temperature 0; otherwise sampled from the tempered,
// nucleus-cut distribution with a seeded PRNG, so that the same seed gives the same answer.
import { random } from '../../common/seeded-random';

export interface DecodingOptions {
  /** Tokens to generate at most (stops earlier at the end-of-sequence token). */
  maxTokens: number;
  /** The end-of-sequence token is not chosen before this many tokens (0: whenever the model picks it). */
  minTokens: number;
  /** 0 = greedy (argmax); above 0 samples from softmax(logits / temperature). */
  temperature: number;
  /** Nucleus sampling: only the most likely tokens whose probabilities add up to topP. 1 = all. */
  topP: number;
  /** Seeds the sampler; unused when greedy. */
  seed: number;
  /** How many alternatives to report beside each chosen token's log-probability (0 = none). */
  topLogprobs: number;
}

export interface TokenLogprob {
  tokenId: number;
  logprob: number;
}

export interface GeneratedToken extends TokenLogprob {
  /** The most likely tokens at this position, best first (topLogprobs of them). */
  top: TokenLogprob[];
}

/** Log-probabilities of the untempered distribution (what OpenAI's `logprobs` report). */
export function logSoftmax(logits: Float32Array): Float64Array {
  let max = -Infinity;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  return Float64Array.from(logits, (v) => v - logZ);
}

/** Token ids in descending order of logprob; ties by lower id, as torch.argmax's first maximum. */
function ranked(logprobs: Float64Array): number[] {
  return Array.from(logprobs.keys()).sort((a, b) => logprobs[b] - logprobs[a] || a - b);
}

/** Chooses tokens one position at a time; one instance per generated sequence (it holds the PRNG). */
export class TokenChooser {
  private readonly next: () => number;

  constructor(private readonly options: DecodingOptions) {
    this.next = random(options.seed);
  }

  choose(logits: Float32Array): GeneratedToken {
    const logprobs = logSoftmax(logits);
    const order = ranked(logprobs);
    const tokenId = this.options.temperature === 0 ? order[0] : this.sample(logprobs, order);
    const top = order.slice(0, this.options.topLogprobs).map((id) => ({ tokenId: id, logprob: logprobs[id] }));
    return { tokenId, logprob: logprobs[tokenId], top };
  }

  private sample(logprobs: Float64Array, order: number[]): number {
    const { temperature, topP } = this.options;
    // Tempered probabilities in rank order, cut to the nucleus (at least one token).
    const tempered = order.map((id) => Math.exp((logprobs[id] - logprobs[order[0]]) / temperature));
    const total = tempered.reduce((a, b) => a + b, 0);
    let kept = 0;
    let mass = 0;
    while (kept < order.length && (kept === 0 || mass < topP)) mass += tempered[kept++] / total;
    const keptMass = tempered.slice(0, kept).reduce((a, b) => a + b, 0);
    let u = this.next() * keptMass;
    for (let i = 0; i < kept; i++) {
      u -= tempered[i];
      if (u < 0) return order[i];
    }
    return order[kept - 1];
  }
}
