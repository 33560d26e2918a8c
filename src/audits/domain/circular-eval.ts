// CircularEval (MMBench): a question counts as answered only if the model picks the right
// content under every rotation of its options, which removes the bias toward one letter.
import { EvalItem, OPTION_LETTERS, OptionLetter } from './eval-item';

const ROTATION_SEPARATOR = '::circular-';

/** The 4 rotations of an item's options; rotation 0 is the item itself. */
export function circularRotations(item: EvalItem): EvalItem[] {
  const n = OPTION_LETTERS.length;
  const answerIndex = OPTION_LETTERS.indexOf(item.answer);
  return OPTION_LETTERS.map((_, shift) => {
    if (shift === 0) return item;
    // The option shown at letter i is the original option at letter (i + shift) mod n.
    const options = Object.fromEntries(
      OPTION_LETTERS.map((letter, i) => [letter, item.options[OPTION_LETTERS[(i + shift) % n]]]),
    ) as Record<OptionLetter, string>;
    const answer = OPTION_LETTERS[(answerIndex - shift + n) % n];
    return { ...item, id: `${item.id}${ROTATION_SEPARATOR}${shift}`, options, answer };
  });
}

/** The id of the item a rotation was made from (identity for a non-rotated id). */
export function originalItemId(scoredId: string): string {
  const at = scoredId.lastIndexOf(ROTATION_SEPARATOR);
  return at < 0 ? scoredId : scoredId.slice(0, at);
}
