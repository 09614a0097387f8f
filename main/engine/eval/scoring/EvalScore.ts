/**
 * The types of evaluation scores: a method's prediction for one question, the question's score under
 * its dataset's official rule, and per-rule summaries.
 */

/** Which official rule scores a question. */
export type ScoringRule =
  | 'hotpotqa'
  | '2wikimultihopqa'
  | 'musique'
  | 'golden-answers'
  | 'gsm8k'
  | 'bbh'
  | 'pubmedqa'
  | 'strategyqa'
  | 'multiple-choice';

/** What a method produced for one question. */
export interface EvalPrediction {
  /** The answer (for GSM8K and BBH, the whole completion may be given: the rule extracts the answer). null: no answer. */
  answer: string | boolean | number | null;
  /** Predicted supporting facts `[title, sentence id]` (HotpotQA / 2Wiki), as they came. */
  supportingFacts?: readonly (readonly unknown[])[];
  /** Titles of the paragraphs the method retrieved, for supporting-paragraph recall. */
  retrievedTitles?: readonly string[];
}

/** Every metric a score can carry. */
export type MetricKey =
  | 'em'
  | 'f1'
  | 'precision'
  | 'recall'
  | 'sp_em'
  | 'sp_f1'
  | 'sp_precision'
  | 'sp_recall'
  | 'joint_em'
  | 'joint_f1'
  | 'joint_precision'
  | 'joint_recall'
  | 'accuracy'
  | 'numeric_equal'
  | 'macro_f1'
  | 'paragraph_recall'
  | 'paragraph_all_found';

/** How each metric is shown, and whether it is the dataset's official metric or an extra column. */
export const METRIC_INFO: Record<MetricKey, { label: string; official: boolean }> = {
  em: { label: 'EM', official: true },
  f1: { label: 'F1', official: true },
  precision: { label: 'precision', official: true },
  recall: { label: 'recall', official: true },
  sp_em: { label: 'SP EM', official: true },
  sp_f1: { label: 'SP F1', official: true },
  sp_precision: { label: 'SP precision', official: true },
  sp_recall: { label: 'SP recall', official: true },
  joint_em: { label: 'joint EM', official: true },
  joint_f1: { label: 'joint F1', official: true },
  joint_precision: { label: 'joint precision', official: true },
  joint_recall: { label: 'joint recall', official: true },
  accuracy: { label: 'accuracy', official: true },
  numeric_equal: { label: 'numeric equality (not the official rule)', official: false },
  macro_f1: { label: 'macro-F1', official: true },
  paragraph_recall: { label: 'supporting-paragraph recall (retrieval)', official: false },
  paragraph_all_found: { label: 'all supporting paragraphs retrieved', official: false },
};

/** One question's score. */
export interface QuestionScore {
  id: string;
  rule: ScoringRule;
  /** The predictions had no answer for this question: it scores 0 on every answer metric. */
  missing: boolean;
  /** The prediction as scored (a boolean as "yes"/"no"), null when missing. */
  prediction: string | null;
  /** What the rule extracted from the prediction: GSM8K's `####` number, BBH's answer, the PubMedQA / StrategyQA / option label; null when nothing valid. */
  extracted?: string | null;
  golds: string[];
  /** Per-question values in [0, 1]; which keys appear depends on the rule and on what the predictions carry. */
  metrics: Partial<Record<MetricKey, number>>;
}

/** One metric over a set of questions. */
export interface MetricSummary {
  key: MetricKey;
  label: string;
  /** Mean over `questions` (macro-F1: over the label classes), in [0, 1]. */
  value: number;
  official: boolean;
  /** How many questions it averages over (paragraph recall: those with gold supporting titles). */
  questions: number;
}

/** The questions of one rule, summarized. */
export interface ScoreSummary {
  rule: ScoringRule;
  questions: number;
  answered: number;
  missing: number;
  metrics: MetricSummary[];
}

/** A predictions file (or a run) scored against a dataset. */
export interface EvalScoreResult {
  dataset: string;
  questions: number;
  answered: number;
  /** Questions with no prediction: they score 0 and are listed in `missingIds`. */
  missing: number;
  missingIds: string[];
  /** Prediction ids that are not in the dataset (ignored). */
  unknownIds: string[];
  summaries: ScoreSummary[];
  perQuestion: QuestionScore[];
}
