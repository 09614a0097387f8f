/**
 * Scores one question under its dataset's official rule; summarizeScores turns many into averages.
 * A runner calls scoreQuestion as each question finishes and summarizeScores at the end.
 */
import type { EvalItem } from '../datasets/EvalItem.ts';
import {
  hotpotAnswerMaxScore,
  hotpotAnswerScore,
  musiqueAnswerMaxScore,
  type AnswerScore,
} from './answerScores.ts';
import {
  METRIC_INFO,
  type EvalPrediction,
  type MetricKey,
  type MetricSummary,
  type QuestionScore,
  type ScoreSummary,
  type ScoringRule,
} from './EvalScore.ts';
import { multipleChoiceScore } from './multipleChoiceScore.ts';
import {
  bbhScore,
  gsm8kScore,
  pubMedQaAccuracyAndMacroF1,
  toPubMedQaLabel,
  toStrategyQaBoolean,
  type PubMedQaLabel,
} from './reasoningScores.ts';
import { jointScore, paragraphRecall, supportingFactScore } from './supportingFactScores.ts';

/** The official rule for an item: by its dataset, and multiple choice wherever it has options. */
export function scoringRuleFor(item: EvalItem): ScoringRule {
  if (item.input.options && item.input.options.length > 0) return 'multiple-choice';
  switch (item.dataset) {
    case 'hotpotqa':
    case '2wikimultihopqa':
    case 'musique':
    case 'gsm8k':
    case 'bbh':
    case 'pubmedqa':
    case 'strategyqa':
      return item.dataset;
    case 'bamboogle':
    case 'flashrag':
    case 'custom':
      return 'golden-answers';
  }
}

export interface ScoreQuestionOptions {
  /**
   * Score supporting facts (HotpotQA, 2Wiki): SP metrics for every question of the rule, 0 where the
   * prediction has none, and HotpotQA's joint metrics. Default: whether this prediction has any.
   * Set it for every question when any prediction of the set has supporting facts, as the official
   * script averages SP over all questions.
   */
  withSupportingFacts?: boolean;
  /** Score supporting-paragraph recall (0 where no titles were retrieved). Default: whether this prediction has retrieved titles. */
  withRetrieval?: boolean;
}

/**
 * Scores `prediction` (undefined or a null answer: missing, every answer metric 0) for `item` under
 * scoringRuleFor(item):
 * - hotpotqa: em, f1, precision, recall (yes/no/noanswer rule); with supporting facts sp_* and joint_*;
 * - 2wikimultihopqa: the same answer rule, max over golds; with supporting facts sp_* (titles
 *   lowercased, as the official script does); no joint (it needs evidence predictions);
 * - musique: em, f1, max over answer and aliases, empty-token rule;
 * - golden-answers (Bamboogle, FlashRAG, custom): em, f1, precision, recall, max over golden answers;
 * - gsm8k: accuracy (official `####` string rule) and numeric_equal (not official);
 * - bbh: accuracy (exact match after "So the answer is");
 * - pubmedqa: accuracy (macro_f1 comes from summarizeScores); strategyqa, multiple-choice: accuracy.
 * Where the item has gold supporting titles and retrieval is scored: paragraph_recall and
 * paragraph_all_found.
 */
export function scoreQuestion(
  item: EvalItem,
  prediction: EvalPrediction | undefined,
  options: ScoreQuestionOptions = {},
): QuestionScore {
  const rule = scoringRuleFor(item);
  const golds = item.gold.answers;
  const raw = prediction?.answer;
  const missing = raw === undefined || raw === null;
  const text = missing ? '' : typeof raw === 'boolean' ? (raw ? 'yes' : 'no') : String(raw);
  const metrics: Partial<Record<MetricKey, number>> = {};
  let extracted: string | null | undefined;
  const withSupportingFacts = options.withSupportingFacts ?? prediction?.supportingFacts !== undefined;
  const withRetrieval = options.withRetrieval ?? prediction?.retrievedTitles !== undefined;

  const putAnswer = (score: AnswerScore, withPrecisionRecall: boolean): void => {
    metrics.em = missing ? 0 : score.em;
    metrics.f1 = missing ? 0 : score.f1;
    if (withPrecisionRecall) {
      metrics.precision = missing ? 0 : score.precision;
      metrics.recall = missing ? 0 : score.recall;
    }
  };

  switch (rule) {
    case 'hotpotqa':
    case '2wikimultihopqa': {
      const answer =
        rule === 'hotpotqa' ? hotpotAnswerScore(text, golds[0] ?? '') : hotpotAnswerMaxScore(text, golds);
      putAnswer(answer, true);
      if (withSupportingFacts) {
        const predicted = prediction?.supportingFacts;
        const sp = predicted
          ? supportingFactScore(predicted, item.gold.supportingFacts ?? [], {
              lowercaseTitles: rule === '2wikimultihopqa',
            })
          : { em: 0, f1: 0, precision: 0, recall: 0 };
        metrics.sp_em = sp.em;
        metrics.sp_f1 = sp.f1;
        metrics.sp_precision = sp.precision;
        metrics.sp_recall = sp.recall;
        if (rule === 'hotpotqa') {
          // The official script scores joint only when both the answer and the facts were predicted.
          const joint =
            !missing && predicted ? jointScore(answer, sp) : { em: 0, f1: 0, precision: 0, recall: 0 };
          metrics.joint_em = joint.em;
          metrics.joint_f1 = joint.f1;
          metrics.joint_precision = joint.precision;
          metrics.joint_recall = joint.recall;
        }
      }
      break;
    }
    case 'musique':
      putAnswer(musiqueAnswerMaxScore(text, golds), false);
      break;
    case 'golden-answers':
      putAnswer(hotpotAnswerMaxScore(text, golds), true);
      break;
    case 'gsm8k': {
      const score = gsm8kScore(text, golds[0] ?? '');
      metrics.accuracy = missing ? 0 : score.correct;
      metrics.numeric_equal = missing ? 0 : score.numericEqual;
      extracted = missing ? null : score.extracted;
      break;
    }
    case 'bbh': {
      const score = bbhScore(text, golds[0] ?? '');
      metrics.accuracy = missing ? 0 : score.correct;
      extracted = missing ? null : score.extracted;
      break;
    }
    case 'pubmedqa': {
      const label = missing ? null : toPubMedQaLabel(text);
      metrics.accuracy = label !== null && label === golds[0] ? 1 : 0;
      extracted = label;
      break;
    }
    case 'strategyqa': {
      const value = missing ? null : toStrategyQaBoolean(typeof raw === 'boolean' ? raw : text);
      extracted = value === null ? null : value ? 'yes' : 'no';
      metrics.accuracy = extracted !== null && extracted === golds[0] ? 1 : 0;
      break;
    }
    case 'multiple-choice': {
      const score = multipleChoiceScore(text, golds[0] ?? '', item.input.options ?? []);
      metrics.accuracy = missing ? 0 : score.correct;
      extracted = missing ? null : score.chosen;
      break;
    }
  }

  const goldTitles = item.gold.supportingTitles;
  if (withRetrieval && goldTitles && goldTitles.length > 0) {
    const recall = paragraphRecall(goldTitles, prediction?.retrievedTitles ?? []);
    metrics.paragraph_recall = recall.recall;
    metrics.paragraph_all_found = recall.allFound;
  }

  return {
    id: item.id,
    rule,
    missing,
    prediction: missing ? null : text,
    ...(extracted !== undefined ? { extracted } : {}),
    golds: [...golds],
    metrics,
  };
}

/** The order metrics are listed in. */
const METRIC_ORDER = Object.keys(METRIC_INFO) as MetricKey[];

/**
 * Averages question scores, one summary per rule present (in first-seen order). Each metric is the
 * mean over the questions that carry it — every question of the rule for the answer metrics, since
 * a missing prediction scores 0 — except PubMedQA's macro_f1, computed over all its questions from
 * the extracted labels (see pubMedQaAccuracyAndMacroF1).
 */
export function summarizeScores(scores: readonly QuestionScore[]): ScoreSummary[] {
  const byRule = new Map<ScoringRule, QuestionScore[]>();
  for (const score of scores) {
    const group = byRule.get(score.rule) ?? [];
    group.push(score);
    byRule.set(score.rule, group);
  }
  return [...byRule].map(([rule, group]) => {
    const metrics: MetricSummary[] = [];
    for (const key of METRIC_ORDER) {
      const values = group.flatMap((score) => (score.metrics[key] === undefined ? [] : [score.metrics[key]]));
      if (values.length > 0)
        metrics.push({ key, ...METRIC_INFO[key], value: mean(values), questions: values.length });
      if (key === 'accuracy' && rule === 'pubmedqa') {
        const { macroF1 } = pubMedQaAccuracyAndMacroF1(
          group.map((score) => ({
            gold: score.golds[0] as PubMedQaLabel,
            predicted: (score.extracted ?? null) as PubMedQaLabel | null,
          })),
        );
        metrics.push({ key: 'macro_f1', ...METRIC_INFO.macro_f1, value: macroF1, questions: group.length });
      }
    }
    const missing = group.filter((score) => score.missing).length;
    return { rule, questions: group.length, answered: group.length - missing, missing, metrics };
  });
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}
