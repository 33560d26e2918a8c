// The shapes the audit reads and the scorer returns. EvalItem mirrors
// contracts/eval-item.schema.json (one line of lethe/eval/*.jsonl).

export const OPTION_LETTERS = ['A', 'B', 'C', 'D'] as const;
export type OptionLetter = (typeof OPTION_LETTERS)[number];

export type Modality = 'multimodal' | 'text';
export const MODALITIES: readonly Modality[] = ['multimodal', 'text'];

// never_seen: people the model was never trained on (lethe/eval/never_seen.jsonl), the reference for forgotten ones.
export type EvalSplit = 'fictional' | 'celebrity' | 'never_seen' | 'general';

export interface EvalItem {
  id: string;
  split: EvalSplit;
  modality: Modality;
  subjectId: string | null;
  category: string | null;
  question: string;
  options: Record<OptionLetter, string>;
  answer: OptionLetter;
  image: string | null;
}

/** What the runtime's scorer returns for one item (letter logits at the answer position). */
export interface ScoredItem {
  id: string;
  logits: Record<OptionLetter, number>;
  predicted: OptionLetter;
  correct: boolean;
}

/** The multiple-choice scorer the runtime (src/audits/runtime) provides. */
export interface McScorer {
  score(items: EvalItem[]): Promise<ScoredItem[]>;
  close(): Promise<void>;
}

export interface AdapterRef {
  path: string;
  sha256: string;
}

/** Chance accuracy of a 4-option multiple-choice question. */
export const CHANCE_LEVEL = 1 / OPTION_LETTERS.length;

/** How the runtime turns logits into an answer; named in every report. */
export const SCORING_METHOD =
  'multiple choice: argmax over the logits of the option-letter tokens (" A".." D") at the answer position';
