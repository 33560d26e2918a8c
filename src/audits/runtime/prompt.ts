// The multiple-choice prompt, byte for byte as contracts/README.md defines it (and as the Python
// worker builds it in lethe_worker/prompts.py); contracts/vectors/prompts.json tests both.
import { OPTION_LETTERS, OptionLetter } from '../domain/eval-item';

export const IMAGE_TOKEN = '<image>';
const MC_INSTRUCTION = "Answer with the option's letter from the given choices directly.";

export function mcPrompt(question: string, options: Record<OptionLetter, string>, withImage: boolean): string {
  const image = withImage ? `${IMAGE_TOKEN}\n` : '';
  const lines = OPTION_LETTERS.map((letter) => `${letter}. ${options[letter]}`).join('\n');
  return `USER: ${image}${question}\n${lines}\n${MC_INSTRUCTION} ASSISTANT:`;
}
