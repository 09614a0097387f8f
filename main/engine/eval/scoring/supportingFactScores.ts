/**
 * HotpotQA's supporting-fact and joint scores (`update_sp` and the joint block of
 * hotpot_evaluate_v1.py), and supporting-paragraph recall of a retrieval.
 */
import { cleanText } from '../../corpus/cleanText.ts';
import type { SupportingFact } from '../datasets/EvalItem.ts';
import type { AnswerScore } from './answerScores.ts';

/** SP-EM, SP-F1 and the precision and recall behind them. */
export interface SupportingFactScore {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

/** Joint answer × supporting-fact scores. */
export interface JointScore {
  em: number;
  f1: number;
  precision: number;
  recall: number;
}

export interface SupportingFactScoreOptions {
  /** Lowercase titles on both sides before comparing, as 2WikiMultihopQA's `normalize_sp` does. Default: false (HotpotQA compares titles as they are). */
  lowercaseTitles?: boolean;
}

/**
 * Compares the predicted and gold supporting facts as sets of (title, sentence id) pairs: true
 * positives are predicted pairs in the gold set; SP-EM is 1 when there are no false positives and no
 * false negatives (so two empty sets match); precision and recall are 0 when their denominator is.
 * A sentence id is compared with its JSON type, as Python compares tuples: "0" is not 0.
 */
export function supportingFactScore(
  predicted: readonly (readonly unknown[])[],
  gold: readonly SupportingFact[],
  options: SupportingFactScoreOptions = {},
): SupportingFactScore {
  const key = (fact: readonly unknown[]): string =>
    JSON.stringify(
      options.lowercaseTitles && typeof fact[0] === 'string'
        ? [fact[0].toLowerCase(), ...fact.slice(1)]
        : fact,
    );
  const predictedSet = new Set(predicted.map(key));
  const goldSet = new Set(gold.map(key));
  let truePositives = 0;
  let falsePositives = 0;
  for (const fact of predictedSet) {
    if (goldSet.has(fact)) truePositives++;
    else falsePositives++;
  }
  let falseNegatives = 0;
  for (const fact of goldSet) if (!predictedSet.has(fact)) falseNegatives++;
  const precision = truePositives + falsePositives > 0 ? truePositives / (truePositives + falsePositives) : 0;
  const recall = truePositives + falseNegatives > 0 ? truePositives / (truePositives + falseNegatives) : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { em: falsePositives + falseNegatives === 0 ? 1 : 0, f1, precision, recall };
}

/** HotpotQA's joint scores: precision = answer precision × SP precision, likewise recall; F1 from those; EM = EM × SP-EM. */
export function jointScore(answer: AnswerScore, supportingFacts: SupportingFactScore): JointScore {
  const precision = answer.precision * supportingFacts.precision;
  const recall = answer.recall * supportingFacts.recall;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { em: answer.em * supportingFacts.em, f1, precision, recall };
}

/** Supporting-paragraph recall of one question's retrieval. */
export interface ParagraphRecall {
  /** Share of the distinct gold supporting titles found among the retrieved titles (0 with no gold titles). */
  recall: number;
  /** 1 when every gold supporting title was retrieved, else 0. */
  allFound: number;
}

/**
 * Supporting-paragraph recall: the share of the distinct gold supporting-paragraph titles that occur
 * among `retrievedTitles` (any rank, any number of times). Titles are compared after the corpus's
 * own cleanText, so a title read back from an ingested corpus matches the dataset's.
 */
export function paragraphRecall(
  goldTitles: readonly string[],
  retrievedTitles: readonly string[],
): ParagraphRecall {
  const gold = new Set(goldTitles.map((title) => cleanText(title)));
  if (gold.size === 0) return { recall: 0, allFound: 0 };
  const retrieved = new Set(retrievedTitles.map((title) => cleanText(title)));
  let found = 0;
  for (const title of gold) if (retrieved.has(title)) found++;
  return { recall: found / gold.size, allFound: found === gold.size ? 1 : 0 };
}
