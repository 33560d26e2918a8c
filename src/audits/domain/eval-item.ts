// The shapes the audit reads and the scorer returns. EvalItem mirrors
// contracts/eval-item.schema.json (one line of lethe/eval/*.jsonl).
import type { FreeFormAnswer, FreeFormQuestion } from './free-form';

export const OPTION_LETTERS = ['A', 'B', 'C', 'D'] as const;
export type OptionLetter = (typeof OPTION_LETTERS)[number];

export type Modality = 'multimodal' | 'text';
export const MODALITIES: readonly Modality[] = ['multimodal', 'text'];

// never_seen: people the model was never trained on (lethe/eval/never_seen.jsonl), the reference for forgotten ones.
// profile: probes about a request's inline profile, built in memory by the audit (profile-probes.ts), never in a file.
export type EvalSplit = 'fictional' | 'celebrity' | 'never_seen' | 'general' | 'profile';

/**
 * How a multiple-choice question is worded (src/audits/runtime/prompt.ts renders them). 'mmbench' is the wording every
 * training and unlearning example uses; an audit also asks forget questions in the others, which no unlearning
 * example uses: a model that forgot a prompt format, not the person, still answers there.
 */
export const PROMPT_FORMATS = ['mmbench', 'mllmu'] as const;
export type PromptFormat = (typeof PROMPT_FORMATS)[number];
export const DEFAULT_PROMPT_FORMAT: PromptFormat = 'mmbench';
/** The formats no unlearning example uses: the forgetting numbers are taken again in each. */
export const OTHER_PROMPT_FORMATS: readonly PromptFormat[] = PROMPT_FORMATS.filter((f) => f !== DEFAULT_PROMPT_FORMAT);

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
  /** Absent: DEFAULT_PROMPT_FORMAT. Set only on copies the audit makes in memory (never in a file). */
  promptFormat?: PromptFormat;
}

/** What the runtime's scorer returns for one item (letter logits at the answer position). */
export interface ScoredItem {
  id: string;
  logits: Record<OptionLetter, number>;
  predicted: OptionLetter;
  correct: boolean;
  /** Probability of the right option, the letter logits normalised by a softmax over the option letters only. */
  pRight: number;
  /** Where the right option ranks among the options: 1 = the model's first choice .. 4; a tie counts against it. */
  rank: number;
}

/** The multiple-choice scorer the runtime (src/audits/runtime) provides. */
export interface McScorer {
  score(items: EvalItem[]): Promise<ScoredItem[]>;
  /** Greedy answers to questions asked without options (free-form.ts); absent: the probe's numbers are missing. */
  answerFreely?(questions: FreeFormQuestion[], maxTokens: number): Promise<FreeFormAnswer[]>;
  close(): Promise<void>;
}

/**
 * pRight and rank of the right option from the letter logits. A tie ranks the right answer below the
 * options it ties with: no one can read the answer off such a model.
 */
export function rightOptionScore(logits: Record<OptionLetter, number>, answer: OptionLetter): Pick<ScoredItem, 'pRight' | 'rank'> {
  const values = OPTION_LETTERS.map((letter) => logits[letter]);
  const top = Math.max(...values);
  const total = values.reduce((sum, v) => sum + Math.exp(v - top), 0);
  const right = logits[answer];
  const rank = 1 + OPTION_LETTERS.filter((letter) => letter !== answer && logits[letter] >= right).length;
  return { pRight: Math.exp(right - top) / total, rank };
}

export interface AdapterRef {
  path: string;
  sha256: string;
}

/** Chance accuracy of a 4-option multiple-choice question. */
export const CHANCE_LEVEL = 1 / OPTION_LETTERS.length;

/** How the runtime turns logits into an answer; named in every report. */
export const SCORING_METHOD =
  'multiple choice: argmax over the logits of the option-letter tokens (" A".." D") at the answer position; pRight = the right letter\'s softmax over those four logits';
