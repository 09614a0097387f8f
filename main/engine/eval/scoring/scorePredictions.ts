import type { EvalDataset } from '../datasets/EvalItem.ts';
import type { EvalPrediction, EvalScoreResult } from './EvalScore.ts';
import { scoreQuestion, summarizeScores } from './scoreQuestion.ts';

/**
 * Scores a whole set of predictions (keyed by question id) against a dataset, the way the official
 * scripts do: every question of the dataset counts, a missing prediction scores 0 and is listed;
 * supporting facts are scored for all questions as soon as any prediction has them, and
 * supporting-paragraph recall as soon as any prediction has retrieved titles. Predictions for ids
 * the dataset does not have are ignored and listed in `unknownIds`.
 */
export function scorePredictions(
  dataset: Pick<EvalDataset, 'name' | 'items'>,
  predictions: ReadonlyMap<string, EvalPrediction>,
): EvalScoreResult {
  const all = [...predictions.values()];
  const withSupportingFacts = all.some((p) => p.supportingFacts !== undefined);
  const withRetrieval = all.some((p) => p.retrievedTitles !== undefined);
  const perQuestion = dataset.items.map((item) =>
    scoreQuestion(item, predictions.get(item.id), { withSupportingFacts, withRetrieval }),
  );
  const ids = new Set(dataset.items.map((item) => item.id));
  const missingIds = perQuestion.filter((score) => score.missing).map((score) => score.id);
  return {
    dataset: dataset.name,
    questions: perQuestion.length,
    answered: perQuestion.length - missingIds.length,
    missing: missingIds.length,
    missingIds,
    unknownIds: [...predictions.keys()].filter((id) => !ids.has(id)),
    summaries: summarizeScores(perQuestion),
    perQuestion,
  };
}
