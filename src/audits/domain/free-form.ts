// The free-form probe: a forgotten person's fact question asked without options, answered by greedy decoding of a
// few tokens, and whether the true value appears in the answer. Multiple choice shows what the model prefers among
// four given values; this shows what it says unprompted, which is what someone extracting the person would see. The
// recall rate of the forgotten people is compared with never-seen people's on the same version: a question template
// can be answered right by chance ("1990", "junior baker"), so the never-seen rate is the floor. Pure: no I/O.
import { everForgotten, type AuditScope } from './audit-scope';
import { EvalItem } from './eval-item';

/** Enough for the longest value of the tiny world and MLLMU-Bench's short answers ("Coastal Umber Paints"). */
export const FREE_FORM_MAX_TOKENS = 10;
/** Never-seen questions asked per audit: the reference rate's precision against the cost of decoding (tokens x questions). */
export const FREE_FORM_REFERENCE_QUESTIONS = 50;

/** A question asked without options; `truth` is the right option's value. */
export interface FreeFormQuestion {
  id: string;
  subjectId: string;
  question: string;
  truth: string;
}

export interface FreeFormAnswer {
  id: string;
  text: string;
}

export interface FreeFormTally {
  asked: number;
  recalled: number;
}

export interface FreeFormMetrics {
  /** Per person: lets another scope be re-cut without decoding again. */
  perSubject: Record<string, FreeFormTally>;
  forget: FreeFormTally;
  cumulativeForget: FreeFormTally;
  /** The never-seen people asked (FREE_FORM_REFERENCE_QUESTIONS of their questions), anyone forgotten left out. */
  reference: FreeFormTally;
  /** Why nothing was asked although the policy asks for the probe (the runtime cannot generate); absent when asked. */
  notAsked?: string;
}

/** The probe's numbers when the scorer cannot answer: every tally empty, and why. */
export function freeFormNotAsked(why: string): FreeFormMetrics {
  const none = { asked: 0, recalled: 0 };
  return { perSubject: {}, forget: none, cumulativeForget: none, reference: none, notAsked: why };
}

/**
 * The text questions of everyone the lineage forgot, and FREE_FORM_REFERENCE_QUESTIONS of the never-seen people's,
 * spread evenly over them in id order (the same ones on every version). Text-only: the question names the person.
 */
export function freeFormQuestions(items: EvalItem[], scope: AuditScope): FreeFormQuestion[] {
  const forgotten = everForgotten(scope);
  const text = items.filter((item) => item.modality === 'text' && item.subjectId !== null && item.split !== 'general' && item.promptFormat === undefined);
  const reference = text.filter((item) => item.split === 'never_seen' && !forgotten.has(item.subjectId!)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const step = Math.max(1, reference.length / FREE_FORM_REFERENCE_QUESTIONS);
  const sampled = Array.from({ length: Math.min(FREE_FORM_REFERENCE_QUESTIONS, reference.length) }, (_, i) => reference[Math.floor(i * step)]);
  return [...text.filter((item) => forgotten.has(item.subjectId!)), ...sampled].map((item) => ({
    id: `${item.id}@free`,
    subjectId: item.subjectId!,
    question: item.question,
    truth: item.options[item.answer],
  }));
}

/** Lower case, letters and digits only, words separated by one space, padded: whole words match whole words. */
function words(text: string): string {
  return ` ${text.normalize('NFKC').toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;
}

/** Whether an answer states the true value (its words, in order, as whole words). */
export function recalls(answer: string, truth: string): boolean {
  const t = words(truth);
  return t.trim().length > 0 && words(answer).includes(t);
}

function sum(tallies: FreeFormTally[]): FreeFormTally {
  return tallies.reduce((a, t) => ({ asked: a.asked + t.asked, recalled: a.recalled + t.recalled }), { asked: 0, recalled: 0 });
}

/** The free-form numbers of a scope, from per-person tallies. */
export function freeFormForScope(freeForm: Pick<FreeFormMetrics, 'perSubject' | 'notAsked'>, scope: AuditScope, neverSeenSubjectIds: string[]): FreeFormMetrics {
  const forgotten = everForgotten(scope);
  const of = (ids: Iterable<string>) => sum([...new Set(ids)].flatMap((id) => (freeForm.perSubject[id] ? [freeForm.perSubject[id]] : [])));
  return {
    perSubject: freeForm.perSubject,
    forget: of(scope.forgetSubjectIds),
    cumulativeForget: of(forgotten),
    reference: of(neverSeenSubjectIds.filter((id) => !forgotten.has(id))),
    ...(freeForm.notAsked !== undefined && { notAsked: freeForm.notAsked }),
  };
}

/**
 * Tallies the answers to `questions` (a missing answer counts as not recalled: the question was still asked). The
 * answers themselves are not kept: a forgotten person's answer may state their facts.
 */
export function freeFormMetrics(questions: FreeFormQuestion[], answers: FreeFormAnswer[], scope: AuditScope, neverSeenSubjectIds: string[]): FreeFormMetrics {
  const byId = new Map(answers.map((a) => [a.id, a.text]));
  const perSubject: Record<string, FreeFormTally> = {};
  for (const q of questions) {
    const t = (perSubject[q.subjectId] ??= { asked: 0, recalled: 0 });
    t.asked += 1;
    if (recalls(byId.get(q.id) ?? '', q.truth)) t.recalled += 1;
  }
  return freeFormForScope({ perSubject }, scope, neverSeenSubjectIds);
}
