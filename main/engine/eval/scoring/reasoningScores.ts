/**
 * The answer rules of the reasoning and domain sets: GSM8K's `####` number, BBH's "So the answer is",
 * PubMedQA's yes/no/maybe label and StrategyQA's boolean.
 */
import { normalizeAnswer } from './normalizeAnswer.ts';

/** grade-school-math `dataset.py`: `ANS_RE = re.compile(r"#### (\-?[0-9\.\,]+)")`. */
const GSM8K_ANSWER = /#### (-?[0-9.,]+)/;

/**
 * GSM8K's official `extract_answer`: the first `#### <number>` of the text (exactly one space after
 * the hashes), commas removed; null (the script's "[invalid]") when there is none. The number is
 * kept as written, so "18.0" and "18." stay different from "18".
 */
export function extractGsm8kAnswer(text: string): string | null {
  const match = GSM8K_ANSWER.exec(text);
  return match ? match[1]!.trim().replace(/,/g, '') : null;
}

/** Any number in a text, commas allowed as thousands separators. */
const ANY_NUMBER = /-?(?:\d[\d,]*(?:\.\d+)?|\.\d+)/g;

/** GSM8K per question: the official string rule and, beside it, numeric equality. */
export interface Gsm8kScore {
  /** Official: the extracted `####` number equals the gold string. */
  correct: number;
  /**
   * Not official: the `####` number, or failing that the last number in the text, equals the gold
   * as a number (so "18.0", "$18" and a bare "18" count).
   */
  numericEqual: number;
  /** The `####` number the official rule extracted, null when none. */
  extracted: string | null;
}

/** Scores a GSM8K completion against the gold number (the text after `#### ` of the gold solution). */
export function gsm8kScore(prediction: string, gold: string): Gsm8kScore {
  const extracted = extractGsm8kAnswer(prediction);
  const candidate = extracted ?? [...prediction.matchAll(ANY_NUMBER)].at(-1)?.[0].replace(/,/g, '') ?? null;
  const value = candidate === null || candidate === '' ? Number.NaN : Number(candidate);
  const goldValue = Number(gold.replace(/,/g, ''));
  return {
    correct: extracted !== null && extracted === gold ? 1 : 0,
    numericEqual: Number.isFinite(value) && value === goldValue ? 1 : 0,
    extracted,
  };
}

const BBH_ANSWER_PHRASE = 'So the answer is';

/**
 * BBH's answer: the text after the last "So the answer is" up to the end of that line, trimmed, one
 * trailing period dropped ("So the answer is (B)." → "(B)"). A prediction without the phrase is
 * taken whole (trimmed, trailing period dropped), so a predictions file may hold bare answers.
 */
export function extractBbhAnswer(prediction: string): string {
  const at = prediction.lastIndexOf(BBH_ANSWER_PHRASE);
  const rest =
    at === -1
      ? prediction.trim()
      : (prediction
          .slice(at + BBH_ANSWER_PHRASE.length)
          .trim()
          .split('\n')[0] ?? '');
  return rest.trim().replace(/\.$/, '').trim();
}

/** BBH: exact (case-sensitive) match of the extracted answer with the target. */
export function bbhScore(prediction: string, target: string): { correct: number; extracted: string } {
  const extracted = extractBbhAnswer(prediction);
  return { correct: extracted === target ? 1 : 0, extracted };
}

export const PUBMEDQA_LABELS = ['yes', 'no', 'maybe'] as const;
export type PubMedQaLabel = (typeof PUBMEDQA_LABELS)[number];

/**
 * A PubMedQA prediction as a label: the prediction after the official answer normalization must be
 * exactly `yes`, `no` or `maybe` ("Yes." is yes); anything else is null, an invalid label that counts
 * as wrong. (The official script compares raw labels and demands one per test PMID.)
 */
export function toPubMedQaLabel(prediction: string): PubMedQaLabel | null {
  const normalized = normalizeAnswer(prediction);
  return (PUBMEDQA_LABELS as readonly string[]).includes(normalized) ? (normalized as PubMedQaLabel) : null;
}

/**
 * Accuracy and macro-F1 over yes/no/maybe, as the official `evaluation.py` computes them with
 * scikit-learn (`accuracy_score`, `f1_score(average='macro')`): the macro average runs over the labels
 * that occur among the golds or the predictions; a class's F1 is 0 when it has no true positives.
 * An invalid prediction (null) is wrong and counts against its gold class's recall only.
 */
export function pubMedQaAccuracyAndMacroF1(
  pairs: readonly { gold: PubMedQaLabel; predicted: PubMedQaLabel | null }[],
): { accuracy: number; macroF1: number } {
  if (pairs.length === 0) return { accuracy: 0, macroF1: 0 };
  const present = PUBMEDQA_LABELS.filter((label) =>
    pairs.some((p) => p.gold === label || p.predicted === label),
  );
  let correct = 0;
  for (const pair of pairs) if (pair.gold === pair.predicted) correct++;
  const f1s = present.map((label) => {
    const truePositives = pairs.filter((p) => p.gold === label && p.predicted === label).length;
    if (truePositives === 0) return 0;
    const precision = truePositives / pairs.filter((p) => p.predicted === label).length;
    const recall = truePositives / pairs.filter((p) => p.gold === label).length;
    return (2 * precision * recall) / (precision + recall);
  });
  return { accuracy: correct / pairs.length, macroF1: f1s.reduce((a, b) => a + b, 0) / f1s.length };
}

/**
 * A StrategyQA prediction as a boolean: JSON true/false as is; a string that normalizes to `yes` or
 * `true` is true, `no` or `false` is false; anything else is null (wrong).
 */
export function toStrategyQaBoolean(prediction: string | boolean): boolean | null {
  if (typeof prediction === 'boolean') return prediction;
  const normalized = normalizeAnswer(prediction);
  if (normalized === 'yes' || normalized === 'true') return true;
  if (normalized === 'no' || normalized === 'false') return false;
  return null;
}
