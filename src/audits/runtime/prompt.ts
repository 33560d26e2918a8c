// The multiple-choice prompt, byte for byte as contracts/README.md defines it (and as the Python
// worker builds it in lethe_worker/prompts.py); contracts/vectors/prompts.json tests both.
// Named formats let an audit ask a forget question in a format no unlearning example uses:
// 'mmbench' (the default, the LLaVA / MMBench wording every training and unlearning example uses) and
// 'mllmu' (MLLMU-Bench's classification prompt: "A: value" options, the instruction on its own line).
import { DEFAULT_PROMPT_FORMAT, OPTION_LETTERS, OptionLetter, PROMPT_FORMATS, PromptFormat } from '../domain/eval-item';

export const IMAGE_TOKEN = '<image>';
const MC_INSTRUCTION = "Answer with the option's letter from the given choices directly.";

export { DEFAULT_PROMPT_FORMAT, PROMPT_FORMATS, type PromptFormat };

export function mcPrompt(
  question: string,
  options: Record<OptionLetter, string>,
  withImage: boolean,
  format: PromptFormat = DEFAULT_PROMPT_FORMAT,
): string {
  if (!PROMPT_FORMATS.includes(format)) throw new Error(`prompt format must be one of ${PROMPT_FORMATS.join(', ')}, got ${format}`);
  const separator = format === 'mmbench' ? '.' : ':';
  const lines = OPTION_LETTERS.map((letter) => `${letter}${separator} ${options[letter]}`).join('\n');
  if (format === 'mmbench') {
    const image = withImage ? `${IMAGE_TOKEN}\n` : '';
    return `USER: ${image}${question}\n${lines}\n${MC_INSTRUCTION} ASSISTANT:`;
  }
  const opening = withImage ? `USER: ${IMAGE_TOKEN}\n` : 'USER:\n';
  return `${opening}${question}\n${lines}\n${MC_INSTRUCTION}\nASSISTANT:`;
}

/**
 * A question asked without options, as the training data's open questions are (`USER: {question} ASSISTANT: {answer}`)
 * and as the chat endpoint renders one user message: what someone asking the served model would see.
 */
export function openPrompt(question: string): string {
  return `USER: ${question} ASSISTANT:`;
}
