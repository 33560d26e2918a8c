// Probe questions for a person described inline (a deletion request's profile: name, facts, images)
// rather than a dataset person: the eval set has no questions about them, so the audit builds its own
// from what the requester gave. Pure: no I/O, deterministic from a seed.
//
// Each fact becomes a 4-option question (its true answer and three distractors of the same kind: the
// dataset's right answers to questions of the same wording, else the profile's other answers), asked
// text-only and with each image; each image also asks who the person is (the name vs three dataset names).
// The forgetting rules compare the forgotten with never-seen people, so the reference must be asked the
// same way: `neverSeenProbeProfiles` turns every NEVER_SEEN dataset person into such a profile (their
// never_seen questions with the right answers as facts, their portrait as image), and the same builder
// makes their probes.
import { random } from '../../common/seeded-random';
import { EvalItem, OPTION_LETTERS, OptionLetter } from './eval-item';

/** Subject ids of inline profiles in an audit's scope and tallies: `profile:<requestId>`. */
export const PROFILE_SUBJECT_PREFIX = 'profile:';
/** Subject ids of the never-seen people asked with probes (the profiles' reference): `probe:<datasetSubjectId>`. */
export const PROBE_REFERENCE_PREFIX = 'probe:';
/** The training data's (and the eval set's) wording of the name question. */
export const NAME_QUESTION = 'Who is this person?';
/** Seed of every probe set; mixed with each person's id so adding a profile does not move another's options. */
export const PROBE_SEED = 20240611;

export function profileSubjectId(requestId: string): string {
  return `${PROFILE_SUBJECT_PREFIX}${requestId}`;
}

/** Whether a subject id names probe questions (an inline profile or its never-seen reference), not dataset questions. */
export function isProbeSubjectId(id: string): boolean {
  return id.startsWith(PROFILE_SUBJECT_PREFIX) || id.startsWith(PROBE_REFERENCE_PREFIX);
}

export interface ProbeProfile {
  subjectId: string;
  name: string;
  facts: Array<{ question: string; answer: string }>;
  /** Absolute image paths. */
  images: string[];
}

export interface ProbeSubject {
  id: string;
  name: string;
  knowledge: string;
  /** Absolute path of the portrait, or null. */
  portrait: string | null;
}

/** What the builder draws distractors and reference people from: the dataset's eval items and subjects. */
export interface ProbeWorld {
  evalItems: EvalItem[];
  subjects: ProbeSubject[];
}

/** An eval item built in memory, its image already an absolute path. */
export interface ProbeItem extends EvalItem {
  imagePath: string | null;
}

export interface ProbeSet {
  /** The profiles' probes (split 'profile'). */
  items: ProbeItem[];
  /** The never-seen people's probes (split 'never_seen', subject ids `probe:<id>`). */
  reference: ProbeItem[];
  /** Facts that could not be asked (fewer than three distractors of their kind), per profile. */
  skippedFacts: Record<string, number>;
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/**
 * The wording of a question with the person left out ("What is {person}'s occupation?"), so that
 * the text-only form (with the name) and the image form ("this person") are the same kind.
 */
export function questionKind(question: string, name: string): string {
  let q = norm(question);
  const n = norm(name);
  if (n) q = q.split(n).join('{person}');
  return q.split('this person').join('{person}');
}

function hashString(s: string): number {
  // FNV-1a: a stable 32-bit number per id (seeds must not depend on anything but the inputs).
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function shuffled<T>(values: readonly T[], rng: () => number): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Three distinct values from the tiers in order (each tier shuffled), none equal to `right`; null when there are too few. */
function distractors(right: string, tiers: string[][], rng: () => number): string[] | null {
  const taken = new Set([norm(right)]);
  const out: string[] = [];
  for (const tier of tiers) {
    for (const value of shuffled(tier, rng)) {
      if (out.length === OPTION_LETTERS.length - 1) return out;
      if (!value.trim() || taken.has(norm(value))) continue;
      taken.add(norm(value));
      out.push(value);
    }
  }
  return out.length === OPTION_LETTERS.length - 1 ? out : null;
}

function optionsOf(right: string, others: string[], rng: () => number): { options: Record<OptionLetter, string>; answer: OptionLetter } {
  const order = shuffled([right, ...others], rng);
  const options = Object.fromEntries(OPTION_LETTERS.map((letter, i) => [letter, order[i]])) as Record<OptionLetter, string>;
  return { options, answer: OPTION_LETTERS[order.indexOf(right)] };
}

/** The dataset's right answers per question kind, in eval order, each once. */
function answersByKind(world: ProbeWorld): Map<string, string[]> {
  const names = new Map(world.subjects.map((s) => [s.id, s.name]));
  const byKind = new Map<string, string[]>();
  for (const item of world.evalItems) {
    if (item.split === 'general' || item.subjectId === null) continue;
    const kind = questionKind(item.question, names.get(item.subjectId) ?? '');
    const answers = byKind.get(kind) ?? byKind.set(kind, []).get(kind)!;
    const right = item.options[item.answer];
    if (!answers.includes(right)) answers.push(right);
  }
  return byKind;
}

function probesOf(profile: ProbeProfile, split: 'profile' | 'never_seen', world: ProbeWorld, byKind: Map<string, string[]>, seed: number) {
  // Seeded by the person, not the request: the same person is asked the same probes whoever asks and whenever.
  const rng = random((seed ^ hashString(profile.name)) >>> 0);
  const items: ProbeItem[] = [];
  let skipped = 0;
  const item = (id: string, modality: EvalItem['modality'], question: string, image: string | null, right: string, others: string[]): ProbeItem => ({
    id: `${profile.subjectId}:${id}`, split, modality, subjectId: profile.subjectId, category: null, question,
    ...optionsOf(right, others, rng), image, imagePath: image,
  });
  profile.facts.forEach((fact, f) => {
    const ownOthers = profile.facts.filter((_, g) => g !== f).map((g) => g.answer);
    const others = distractors(fact.answer, [byKind.get(questionKind(fact.question, profile.name)) ?? [], ownOthers], rng);
    if (!others) {
      skipped += 1;
      return;
    }
    items.push(item(`fact-${f}-text`, 'text', fact.question, null, fact.answer, others));
    // Word for word with the image, as the unlearning step trains on it (gpu-worker data.py): the probe asks
    // what was unlearned; the name question below asks whether the image alone still says who it is.
    profile.images.forEach((image, i) => items.push(item(`fact-${f}-image-${i}`, 'multimodal', fact.question, image, fact.answer, others)));
  });
  if (profile.images.length > 0) {
    const otherNames = distractors(profile.name, [world.subjects.map((s) => s.name)], rng);
    if (otherNames) profile.images.forEach((image, i) => items.push(item(`name-image-${i}`, 'multimodal', NAME_QUESTION, image, profile.name, otherNames)));
  }
  return { items, skipped };
}

/**
 * Every NEVER_SEEN dataset person as a profile: their text-only never_seen questions with the right
 * answers as facts (the image questions are the same facts), their portrait as the one image.
 */
export function neverSeenProbeProfiles(world: ProbeWorld): ProbeProfile[] {
  return world.subjects
    .filter((s) => s.knowledge === 'NEVER_SEEN')
    .map((s) => ({
      subjectId: `${PROBE_REFERENCE_PREFIX}${s.id}`,
      name: s.name,
      facts: world.evalItems
        .filter((item) => item.split === 'never_seen' && item.subjectId === s.id && item.modality === 'text')
        .map((item) => ({ question: item.question, answer: item.options[item.answer] })),
      images: s.portrait ? [s.portrait] : [],
    }))
    .filter((p) => p.facts.length > 0 || p.images.length > 0);
}

/** The probes of `profiles` and of their never-seen reference, deterministic for a given seed and world. */
export function buildProbeSet(profiles: ProbeProfile[], world: ProbeWorld, seed: number = PROBE_SEED): ProbeSet {
  const byKind = answersByKind(world);
  const skippedFacts: Record<string, number> = {};
  const items = profiles.flatMap((p) => {
    const built = probesOf(p, 'profile', world, byKind, seed);
    skippedFacts[p.subjectId] = built.skipped;
    return built.items;
  });
  const reference = profiles.length === 0 ? [] : neverSeenProbeProfiles(world).flatMap((p) => probesOf(p, 'never_seen', world, byKind, seed).items);
  return { items, reference, skippedFacts };
}
