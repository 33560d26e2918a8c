// Hand-made tiny eval sets with known answers, and a scorer built from fixed answers: the pure
// metric and gate code is tested against these; the real model is tested in audit-activity-e2e.
import { createAuditActivities } from '../../src/audits/application/audit-activities';
import { AuditResult } from '../../src/audits/domain/audit-activity';
import { EvalItem, McScorer, Modality, OPTION_LETTERS, OptionLetter, rightOptionScore, ScoredItem } from '../../src/audits/domain/eval-item';
import { ForgettingEvidence, SetEvidence } from '../../src/audits/domain/forgetting-evidence';
import { FreeFormQuestion } from '../../src/audits/domain/free-form';

export function personItem(id: string, subjectId: string, modality: Modality, answer: OptionLetter = 'A'): EvalItem {
  return {
    id,
    split: 'fictional',
    modality,
    subjectId,
    category: null,
    question: `question ${id}`,
    options: { A: `${id}-a`, B: `${id}-b`, C: `${id}-c`, D: `${id}-d` },
    answer,
    image: modality === 'multimodal' ? `images/${subjectId}.png` : null,
  };
}

/** A question about a person no build phase trained on (the never-seen reference). */
export function neverSeenItem(id: string, subjectId: string, modality: Modality, answer: OptionLetter = 'A'): EvalItem {
  return { ...personItem(id, subjectId, modality, answer), split: 'never_seen' };
}

export function generalItem(id: string, category: string, answer: OptionLetter = 'B'): EvalItem {
  return {
    id,
    split: 'general',
    modality: 'multimodal',
    subjectId: null,
    category,
    question: `general ${id}`,
    options: { A: `${id}-a`, B: `${id}-b`, C: `${id}-c`, D: `${id}-d` },
    answer,
    image: `images/${id}.png`,
  };
}

/** Logits that make `letter` the argmax. */
export function logitsFor(letter: OptionLetter): Record<OptionLetter, number> {
  return Object.fromEntries(OPTION_LETTERS.map((l) => [l, l === letter ? 2 : 0])) as Record<OptionLetter, number>;
}

/**
 * A scorer that answers by option CONTENT: `knows(item)` decides whether it picks the right
 * option; otherwise it picks the first wrong letter. Rotations of an item thus get consistent answers.
 */
export function contentScorer(knows: (item: EvalItem) => boolean, log: EvalItem[][] = [], statesFreely: (q: FreeFormQuestion) => boolean = () => false): McScorer {
  return {
    // Asked without options it states the true value where `statesFreely` says so, else admits not knowing.
    async answerFreely(questions) {
      return questions.map((q) => ({ id: q.id, text: statesFreely(q) ? `I believe it is ${q.truth}.` : 'I do not know.' }));
    },
    async score(items) {
      log.push(items);
      return items.map((item): ScoredItem => {
        const predicted = knows(item) ? item.answer : OPTION_LETTERS.find((l) => l !== item.answer)!;
        return { id: item.id, logits: logitsFor(predicted), predicted, correct: predicted === item.answer, ...rightOptionScore(logitsFor(predicted), item.answer) };
      });
    },
    async close() {},
  };
}

// A request whose first candidate (v1) only broke the image link and whose retry (v2) passed.
const reportItems = [
  ...['s1', 's2', 's3', 's4'].flatMap((s) => [personItem(`${s}-m`, s, 'multimodal'), personItem(`${s}-t`, s, 'text')]),
  ...['n1', 'n2'].flatMap((s) => [neverSeenItem(`${s}-m`, s, 'multimodal'), neverSeenItem(`${s}-t`, s, 'text')]),
  generalItem('g1', 'color'),
  generalItem('g2', 'count'),
];
export const SHA1 = '1'.repeat(64);
export const SHA2 = '2'.repeat(64);
export const DIGEST = 'f'.repeat(64);
export const REQUEST = '7d3c1a52-0000-4000-8000-000000000001';

/** Audits of v1 (attempt 1: forgot only the image link) and v2 (attempt 2: forgot s1 fully). */
export async function auditHistory(): Promise<{ v1: AuditResult; v2: AuditResult }> {
  const activities = createAuditActivities({
    openScorer: ({ adapter }) =>
      contentScorer((item) => {
        if (item.split === 'never_seen') return false;
        if (item.subjectId !== 's1' || adapter === null) return true;
        // v1 only broke the image-knowledge link (the PULSE modality gap).
        return adapter.sha256 === SHA1 && item.modality === 'text';
      }),
    loadEvalItems: () => reportItems,
  });
  // One question per subject and modality: v1's 1 of 1 right on text is not significant at the
  // default 0.05 (p = 0.25), so the policy asks for 0.5 to keep v1 a failed attempt.
  const base = { lineage: 'default', exportDir: '/x', modelDir: '/m', datasetDir: '/d', forgetSubjectIds: ['s1'], cumulativeForgetSubjectIds: [], baseline: null, parentMetrics: null, gatePolicy: { version: 2, forget: { significance: 0.5 } } };
  const v1 = await activities.audit({ ...base, versionNumber: 1, adapter: { path: '/a1', sha256: SHA1 }, attempt: 1 });
  const v2 = await activities.audit({ ...base, versionNumber: 2, adapter: { path: '/a2', sha256: SHA2 }, attempt: 2 });
  return { v1, v2 };
}

/** Forgetting evidence of forgotten people that look like never-seen ones: every forgetting rule passes. */
export function indistinguishableEvidence(n = 5, referenceN = 250): ForgettingEvidence {
  const set = (): SetEvidence => ({
    n,
    referenceN,
    forgetQuality: { statistic: 0.28, pValue: 0.74, method: 'exact', n, m: referenceN },
    miaAuc: { auc: 0.5, standardError: 0.13, n, referenceN },
    rankShares: [0.25, 0.25, 0.25, 0.25],
    belowChance: { correct: 1, n, chance: 0.25, pValue: 0.63 },
  });
  return {
    forget: { multimodal: set(), text: set() },
    cumulativeForget: { multimodal: set(), text: set() },
    reference: { subjects: referenceN / 5, questions: { multimodal: referenceN, text: referenceN } },
    missingReference: null,
  };
}
