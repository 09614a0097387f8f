/**
 * Multiple choice scored by option label: the prediction is mapped to one option's label and
 * compared with the gold label, so "(B)", "B", "b.", "The answer is (B)." and the text of option B
 * all count as B.
 */
import type { EvalOption } from '../datasets/EvalItem.ts';
import { normalizeAnswer } from './normalizeAnswer.ts';

/**
 * "answer is (b)", "Answer: B": a bracketed label in any case, or a bare one in capitals only, so that
 * "the answer is a dog" does not choose option A.
 */
const STATED_ANSWER =
  /[Aa]nswer(?:\s+is)?\s*[:=]?\s*(?:\(([A-Za-z0-9]{1,2})\)|([A-Z0-9]{1,2}))(?![A-Za-z0-9])/g;

/** "(b)", " B. ", "B)" → "B": the label without brackets, punctuation or spaces, upper-cased. */
export function normalizeOptionLabel(label: string): string {
  return label.replace(/[\s()[\].:]/g, '').toUpperCase();
}

/**
 * The label of the option a prediction chooses, or null when it names none (or several):
 * 1. the whole prediction is a label ("B", "(B)", "b.");
 * 2. else the last "answer is X" / "answer: X" in it, where X is a label: "(b)" or "B", not a bare "b";
 * 3. else the prediction equals one option's text after the official answer normalization;
 * 4. else exactly one distinct bracketed label "(X)" occurs in it.
 */
export function extractOptionLabel(prediction: string, options: readonly EvalOption[]): string | null {
  const labels = new Set(options.map((option) => normalizeOptionLabel(option.label)));
  const whole = normalizeOptionLabel(prediction.trim());
  if (labels.has(whole)) return whole;

  const stated = [...prediction.matchAll(STATED_ANSWER)]
    .map((match) => normalizeOptionLabel(match[1] ?? match[2]!))
    .filter((label) => labels.has(label));
  if (stated.length > 0) return stated[stated.length - 1]!;

  const normalized = normalizeAnswer(prediction);
  const byText = options.filter((option) => normalizeAnswer(option.text) === normalized && normalized !== '');
  if (byText.length === 1) return normalizeOptionLabel(byText[0]!.label);

  const bracketed = new Set(
    [...prediction.matchAll(/\(([A-Za-z0-9]{1,2})\)/g)]
      .map((match) => normalizeOptionLabel(match[1]!))
      .filter((label) => labels.has(label)),
  );
  return bracketed.size === 1 ? [...bracketed][0]! : null;
}

/** 1 when the prediction chooses the gold option (compared by normalized label), else 0; with the label it chose. */
export function multipleChoiceScore(
  prediction: string,
  goldLabel: string,
  options: readonly EvalOption[],
): { correct: number; chosen: string | null } {
  const chosen = extractOptionLabel(prediction, options);
  return { correct: chosen !== null && chosen === normalizeOptionLabel(goldLabel) ? 1 : 0, chosen };
}
