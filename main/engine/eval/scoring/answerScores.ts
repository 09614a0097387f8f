/**
 * Answer EM and F1 as the official scripts compute them, one function per rule. They differ only in
 * edge cases, and those edge cases are the point: HotpotQA and 2WikiMultihopQA zero the F1 of a
 * yes/no/noanswer mismatch; MuSiQue takes the maximum over the answer and its aliases and calls two
 * empty answers a match; FlashRAG takes the maximum over `golden_answers`, skipping the golds that
 * trip the yes/no rule.
 */
import { answerTokens, normalizeAnswer } from './normalizeAnswer.ts';

/** EM, F1 and the token precision and recall behind the F1 (each in [0, 1]). */
export interface AnswerScore {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

const ZERO: AnswerScore = { em: 0, f1: 0, precision: 0, recall: 0 };
const SPECIAL_ANSWERS = new Set(['yes', 'no', 'noanswer']);

/** `exact_match_score`: 1 when the normalized strings are identical. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** Token overlap counted as a multiset intersection (`Counter(a) & Counter(b)`). */
export function sharedTokenCount(predictionTokens: readonly string[], goldTokens: readonly string[]): number {
  const counts = new Map<string, number>();
  for (const token of goldTokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  let shared = 0;
  for (const token of predictionTokens) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      shared++;
      counts.set(token, left - 1);
    }
  }
  return shared;
}

function tokenScore(
  predictionTokens: readonly string[],
  goldTokens: readonly string[],
  em: number,
): AnswerScore {
  const shared = sharedTokenCount(predictionTokens, goldTokens);
  if (shared === 0) return { ...ZERO, em };
  const precision = shared / predictionTokens.length;
  const recall = shared / goldTokens.length;
  return { em, f1: (2 * precision * recall) / (precision + recall), precision, recall };
}

/**
 * HotpotQA's `hotpot_evaluate_v1.py` (and 2WikiMultihopQA's copy of it) for one gold answer: when
 * either normalized side is `yes`, `no` or `noanswer` and the two differ, F1, precision and recall
 * are 0; otherwise token F1 with multiset overlap, 0 when nothing is shared.
 */
export function hotpotAnswerScore(prediction: string, gold: string): AnswerScore {
  const normalizedPrediction = normalizeAnswer(prediction);
  const normalizedGold = normalizeAnswer(gold);
  const em = normalizedPrediction === normalizedGold ? 1 : 0;
  if (
    (SPECIAL_ANSWERS.has(normalizedPrediction) || SPECIAL_ANSWERS.has(normalizedGold)) &&
    normalizedPrediction !== normalizedGold
  )
    return { ...ZERO, em };
  return tokenScore(answerTokens(prediction), answerTokens(gold), em);
}

/**
 * MuSiQue's `AnswerMetric` for one gold: EM on normalized strings; F1 over tokens where, if either
 * side has no tokens, F1 is 1 when both are empty and 0 otherwise. No yes/no rule.
 */
export function musiqueAnswerScore(prediction: string, gold: string): AnswerScore {
  const predictionTokens = answerTokens(prediction);
  const goldTokens = answerTokens(gold);
  const em = exactMatch(prediction, gold);
  if (predictionTokens.length === 0 || goldTokens.length === 0) {
    const both = predictionTokens.length === goldTokens.length ? 1 : 0;
    return { em, f1: both, precision: both, recall: both };
  }
  return tokenScore(predictionTokens, goldTokens, em);
}

/** MuSiQue: EM and F1 each the maximum over `answer` and every `answer_aliases` entry. */
export function musiqueAnswerMaxScore(prediction: string, golds: readonly string[]): AnswerScore {
  return maxEach(golds.map((gold) => musiqueAnswerScore(prediction, gold)));
}

/**
 * The HotpotQA score against each gold, each of EM, F1, precision and recall maximized separately.
 * This is FlashRAG's `ExactMatch` and `F1_Score` over `golden_answers` (flashrag/evaluator/metrics.py:
 * a gold that trips the yes/no/noanswer rule or shares no token contributes nothing), and also
 * 2WikiMultihopQA's `update_answer` over the gold and its aliases (the file gives one gold).
 */
export function hotpotAnswerMaxScore(prediction: string, golds: readonly string[]): AnswerScore {
  return maxEach(golds.map((gold) => hotpotAnswerScore(prediction, gold)));
}

function maxEach(scores: readonly AnswerScore[]): AnswerScore {
  const best = { ...ZERO };
  for (const score of scores) {
    best.em = Math.max(best.em, score.em);
    best.f1 = Math.max(best.f1, score.f1);
    best.precision = Math.max(best.precision, score.precision);
    best.recall = Math.max(best.recall, score.recall);
  }
  return best;
}
