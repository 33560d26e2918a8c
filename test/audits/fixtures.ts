// Hand-made tiny eval sets with known answers, and a scorer built from fixed answers: the pure
// metric and gate code is tested against these; the real model is tested in audit-activity-e2e.
import { EvalItem, McScorer, Modality, OPTION_LETTERS, OptionLetter, ScoredItem } from '../../src/audits/domain/eval-item';

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
export function contentScorer(knows: (item: EvalItem) => boolean, log: EvalItem[][] = []): McScorer {
  return {
    async score(items) {
      log.push(items);
      return items.map((item): ScoredItem => {
        const predicted = knows(item) ? item.answer : OPTION_LETTERS.find((l) => l !== item.answer)!;
        return { id: item.id, logits: logitsFor(predicted), predicted, correct: predicted === item.answer };
      });
    },
    async close() {},
  };
}
