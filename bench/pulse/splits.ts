// Who is forgotten and who is retained in each PULSE setting, scaled to the dataset at hand.
// Pure functions of subject ids and a seed: the same seed always gives the same split.
import { random } from '../../src/common/seeded-random';
import type { Strategy } from './args';

export interface PeopleSplit {
  forget: string[];
  retain: string[];
}

/** PULSE's pre-trained setting: the 45 best-known of 153 celebrities, 20 forgotten and 25 retained. */
export const PULSE_PRETRAINED = { candidates: 153, selected: 45, forgotten: 20 } as const;

export function seededShuffle<T>(values: readonly T[], seed: number): T[] {
  const out = [...values];
  const next = random(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const byId = (a: string, b: string) => a.localeCompare(b);

/** Fine-tuned setting: a seeded half of the fictional people is forgotten, the other half retained. */
export function finetunedSplit(fictionalIds: readonly string[], seed: number, maxPeople: number | null = null): PeopleSplit {
  if (fictionalIds.length < 2) throw new RangeError(`finetuned setting: needs at least 2 fictional people, got ${fictionalIds.length}`);
  const shuffled = seededShuffle([...fictionalIds].sort(byId), seed);
  const half = Math.floor(shuffled.length / 2);
  const cap = (ids: string[]) => (maxPeople === null ? ids : ids.slice(0, maxPeople));
  return { forget: cap(shuffled.slice(0, half)).sort(byId), retain: cap(shuffled.slice(half)).sort(byId) };
}

/**
 * How many of the best-known celebrities to select and forget, keeping PULSE's proportions
 * (45/153 selected, 20/45 of those forgotten); at least one forgotten and one retained.
 */
export function pretrainedCounts(candidateCount: number): { selected: number; forgotten: number } {
  if (candidateCount < 2) throw new RangeError(`pretrained setting: needs at least 2 celebrities, got ${candidateCount}`);
  const selected = Math.max(2, Math.round((candidateCount * PULSE_PRETRAINED.selected) / PULSE_PRETRAINED.candidates));
  const forgotten = Math.min(selected - 1, Math.max(1, Math.round((selected * PULSE_PRETRAINED.forgotten) / PULSE_PRETRAINED.selected)));
  return { selected, forgotten };
}

/**
 * Pre-trained setting: `rankedIds` are the celebrities best known first (selectPretrainedTargets);
 * the top ones are selected and split at random (seeded) into forget and retain.
 */
export function pretrainedSplit(rankedIds: readonly string[], seed: number, maxPeople: number | null = null): PeopleSplit {
  const { selected, forgotten } = pretrainedCounts(rankedIds.length);
  const chosen = seededShuffle(rankedIds.slice(0, selected), seed);
  const cap = (ids: string[]) => (maxPeople === null ? ids : ids.slice(0, maxPeople));
  return { forget: cap(chosen.slice(0, forgotten)).sort(byId), retain: cap(chosen.slice(forgotten)).sort(byId) };
}

/** Sustainability: the forget set in `rounds` parts of (nearly) equal size, in order. */
export function splitIntoParts(forget: readonly string[], rounds: number): string[][] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds: must be a positive integer, got ${rounds}`);
  if (forget.length < rounds) throw new RangeError(`rounds: ${rounds} parts need at least ${rounds} people to forget, got ${forget.length}`);
  const base = Math.floor(forget.length / rounds);
  const extra = forget.length % rounds;
  const parts: string[][] = [];
  let at = 0;
  for (let i = 0; i < rounds; i++) {
    const size = base + (i < extra ? 1 : 0);
    parts.push(forget.slice(at, at + size));
    at += size;
  }
  return parts;
}

/**
 * Training steps of one unlearn operation: `perRequest` for each request's worth of people it trains on.
 * With one cap for every operation, a batch of five requests (or a cumulative round) would see a fifth of
 * the steps per person that one sequential round sees; PULSE compares them at equal passes over the data.
 */
export function stepBudget(perRequest: number, trainOnPeople: number, peoplePerRequest: number): number {
  if (!(peoplePerRequest >= 1)) throw new RangeError(`peoplePerRequest: must be at least 1, got ${peoplePerRequest}`);
  return perRequest * Math.max(1, Math.ceil(trainOnPeople / peoplePerRequest));
}

export interface RoundPlan {
  round: number;
  /** The people of this deletion request. */
  requested: string[];
  /** Everyone forgotten so far, this request included. */
  cumulative: string[];
  /** Who this round's unlearn operation trains on. */
  trainOn: string[];
  /** Continue the previous round's adapter (sequential) or start from the base (cumulative). */
  continuesPrevious: boolean;
  /** Forgotten earlier: never used as retain data (unlearn's excludeFromRetain). */
  excludeFromRetain: string[];
}

/**
 * The unlearn operations of a sequence of requests. sequential: each round trains only on its
 * request, continuing the previous adapter. cumulative: each round trains a fresh adapter from
 * the base on the union of every request so far.
 */
export function planRounds(parts: readonly string[][], strategy: Strategy): RoundPlan[] {
  const plans: RoundPlan[] = [];
  let union: string[] = [];
  parts.forEach((part, i) => {
    const earlier = union;
    union = [...union, ...part];
    plans.push({
      round: i + 1,
      requested: [...part],
      cumulative: [...union],
      trainOn: strategy === 'sequential' ? [...part] : [...union],
      continuesPrevious: strategy === 'sequential' && i > 0,
      excludeFromRetain: [...earlier],
    });
  });
  return plans;
}
