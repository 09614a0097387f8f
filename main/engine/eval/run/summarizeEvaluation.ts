/**
 * The report of an evaluation, computed from its per-question records only (no number is typed in
 * anywhere else): per method × model the dataset's official scores, retrieval recall, cost per
 * question, repair / boost / simulation rates, executability and program-complexity distributions,
 * and a paired comparison of every two cells on the main metric.
 */
import type { MetricKey, ScoreSummary } from '../scoring/EvalScore.ts';
import { summarizeScores } from '../scoring/scoreQuestion.ts';
import { mcnemarTest, type McNemarResult } from '../statistics/mcnemarTest.ts';
import { evalMethodLabel, type EvalConfig, type EvalRecord } from './EvalRecord.ts';
import type { OracleRecallReport } from './measureOracleRecall.ts';
import { GIVEN_SUB_QUESTIONS_OPTION } from '../../strategies/givenSubQuestions.ts';

/** min / median / max / mean of the values present; null when there are none. */
export interface Distribution {
  n: number;
  min: number;
  median: number;
  max: number;
  mean: number;
}

/** One row of the report: a method with a model. */
export interface EvalCellSummary {
  configKey: string;
  method: string;
  /** The method as reports name it: its id, with "(oracle decomposition)" for an oracle run (evalMethodLabel). */
  label: string;
  model: string;
  options: Record<string, unknown>;
  /** Questions of the sample with a record. */
  questions: number;
  /**
   * An oracle-decomposition run: of its questions, those given the gold sub-questions and those run
   * as usual (no gold decomposition). Null for an ordinary run.
   */
  oracle: { given: number; without: number } | null;
  /** Runs that failed (their error recorded; scored as missing). */
  errors: number;
  /** The official scores (summarizeScores), one summary per scoring rule present. */
  scores: ScoreSummary[];
  /** The main metric's value (EM, else accuracy) of the first rule; null when absent. */
  primary: number | null;
  llmCallsPerQuestion: number;
  promptTokensPerQuestion: number;
  completionTokensPerQuestion: number;
  tokensPerQuestion: number;
  /** Some of the token counts are estimates (replay, or a server that reports no usage). */
  tokensEstimated: boolean;
  secondsPerQuestion: number;
  retriesPerQuestion: number;
  /** Questions on which the method wrote a program (program figures present). */
  programQuestions: number;
  /** Of those: the share repaired at least once; the share whose final program ran; the share that ended in an exception. Null without programs. */
  repairRate: number | null;
  executableRate: number | null;
  exceptionRate: number | null;
  /** Questions with a `boosts` figure (PyRAG) and the share boosted at least once; null when none has one. */
  boostRate: number | null;
  /** Questions with a `simulatedCalls` figure (Chain-of-Code) and the share with a simulated call; null when none. */
  simulatedRate: number | null;
  cyclomaticComplexity: Distribution | null;
  maxStackDepth: Distribution | null;
  /** Iterations used per question, where the method reports them (EVAL_ITERATION_FIGURES); null when none does. */
  iterations: Distribution | null;
}

/**
 * The figures that count a method's iterations, first present wins: ICRAG's refinement rounds
 * (`iterations`), PROGRAM's pruning and ITER-RETGEN's retrieve-generate `rounds`, IRCoT's reasoning
 * `steps`, Self-Ask's `followUps`.
 */
export const EVAL_ITERATION_FIGURES = ['iterations', 'rounds', 'steps', 'followUps'] as const;

/**
 * Two cells compared question by question on the main metric (EM or accuracy: 0 or 1 per question),
 * so the questions A won are McNemar's b and those B won its c.
 */
export interface EvalComparison {
  /** `label` as in EvalCellSummary. */
  a: { method: string; label: string; model: string };
  b: { method: string; label: string; model: string };
  metric: MetricKey;
  /** Questions both have a record for. */
  questions: number;
  aWins: number;
  bWins: number;
  ties: number;
  /** McNemar's test on the discordant questions: exact binomial p, and the chi-square version from 25 of them. */
  mcnemar: McNemarResult;
}

export interface EvalReport {
  dataset: { name: string; kind: string; format: string; path: string; total: number; notes: string[] };
  sample: { limit: number | null; seed: number | null; questions: number };
  corpus: string | null;
  /** The main metric of the first cell: 'em' for answer-string datasets, else 'accuracy'. */
  primaryMetric: MetricKey;
  cells: EvalCellSummary[];
  comparisons: EvalComparison[];
  /** Measurements of the plan not yet made (the evaluation was stopped); 0 when complete. */
  missing: number;
  /** The retrieval ceiling of the gold decomposition (measureOracleRecall); null when not measured. */
  oracle: OracleRecallReport | null;
}

export interface SummarizeEvaluationOptions {
  dataset: EvalReport['dataset'];
  sample: EvalReport['sample'];
  corpus: string | null;
  /** The configs of the plan, in row order; records of other configs are ignored. */
  configs: readonly { configKey: string; config: EvalConfig }[];
  /** The sample's item ids; records of other items are ignored. */
  itemIds: readonly string[];
  /** The oracle-decomposition ceiling, when measured. Default: null. */
  oracle?: OracleRecallReport | null;
}

/** The report of `records` (see the module doc). */
export function summarizeEvaluation(
  records: readonly EvalRecord[],
  options: SummarizeEvaluationOptions,
): EvalReport {
  const inSample = new Set(options.itemIds);
  const byConfig = new Map<string, EvalRecord[]>();
  for (const record of records) {
    if (!inSample.has(record.itemId)) continue;
    const list = byConfig.get(record.configKey) ?? [];
    list.push(record);
    byConfig.set(record.configKey, list);
  }
  const cells = options.configs.map(({ configKey, config }) =>
    summarizeCell(configKey, config, byConfig.get(configKey) ?? []),
  );
  const primaryMetric: MetricKey = cells
    .flatMap((cell) => cell.scores[0]?.metrics ?? [])
    .some((metric) => metric.key === 'em')
    ? 'em'
    : 'accuracy';
  for (const cell of cells)
    cell.primary = cell.scores[0]?.metrics.find((metric) => metric.key === primaryMetric)?.value ?? null;

  const comparisons: EvalComparison[] = [];
  for (let i = 0; i < options.configs.length; i++)
    for (let j = i + 1; j < options.configs.length; j++) {
      const a = options.configs[i]!;
      const b = options.configs[j]!;
      comparisons.push(
        compareCells(
          a.config,
          b.config,
          byConfig.get(a.configKey) ?? [],
          byConfig.get(b.configKey) ?? [],
          primaryMetric,
        ),
      );
    }
  const made = cells.reduce((sum, cell) => sum + cell.questions, 0);
  return {
    dataset: options.dataset,
    sample: options.sample,
    corpus: options.corpus,
    primaryMetric,
    cells,
    comparisons,
    missing: options.configs.length * options.itemIds.length - made,
    oracle: options.oracle ?? null,
  };
}

function summarizeCell(
  configKey: string,
  config: EvalConfig,
  records: readonly EvalRecord[],
): EvalCellSummary {
  const programs = records.flatMap((record) => (record.program ? [record.program] : []));
  const figureRate = (key: string): number | null => {
    const values = records.flatMap((record) =>
      typeof record.figures[key] === 'number' ? [record.figures[key]] : [],
    );
    return values.length === 0 ? null : values.filter((value) => value > 0).length / values.length;
  };
  const rateOf = <T>(items: readonly T[], test: (item: T) => boolean): number | null =>
    items.length === 0 ? null : items.filter(test).length / items.length;
  const withExecutable = programs.filter((program) => program.executable !== null);
  const given = records.filter((record) => record.itemOptions?.[GIVEN_SUB_QUESTIONS_OPTION] !== undefined);
  return {
    configKey,
    method: config.method,
    label: evalMethodLabel(config),
    model: config.model,
    options: config.options,
    questions: records.length,
    oracle:
      config.oracle === 'decomposition'
        ? { given: given.length, without: records.length - given.length }
        : null,
    errors: records.filter((record) => record.error !== null).length,
    scores: summarizeScores(records.map((record) => record.score)),
    primary: null,
    llmCallsPerQuestion: meanOf(records, (record) => record.llmCalls),
    promptTokensPerQuestion: meanOf(records, (record) => record.promptTokens),
    completionTokensPerQuestion: meanOf(records, (record) => record.completionTokens),
    tokensPerQuestion: meanOf(records, (record) => record.promptTokens + record.completionTokens),
    tokensEstimated: records.some((record) => record.tokensEstimated),
    secondsPerQuestion: meanOf(records, (record) => record.seconds),
    retriesPerQuestion: meanOf(records, (record) => record.retries),
    programQuestions: programs.length,
    repairRate: rateOf(programs, (program) => program.repairs > 0),
    executableRate: rateOf(withExecutable, (program) => program.executable === true),
    exceptionRate: rateOf(programs, (program) => program.exceptionKind !== null),
    boostRate: figureRate('boosts'),
    simulatedRate: figureRate('simulatedCalls'),
    cyclomaticComplexity: distributionOf(programs.map((program) => program.cyclomaticComplexity)),
    maxStackDepth: distributionOf(programs.map((program) => program.maxStackDepth)),
    iterations: distributionOf(records.map(iterationsOf)),
  };
}

function compareCells(
  a: EvalConfig,
  b: EvalConfig,
  aRecords: readonly EvalRecord[],
  bRecords: readonly EvalRecord[],
  metric: MetricKey,
): EvalComparison {
  const bById = new Map(bRecords.map((record) => [record.itemId, record]));
  let aWins = 0;
  let bWins = 0;
  let ties = 0;
  for (const record of aRecords) {
    const other = bById.get(record.itemId);
    if (!other) continue;
    const x = record.score.metrics[metric] ?? 0;
    const y = other.score.metrics[metric] ?? 0;
    if (x > y) aWins++;
    else if (y > x) bWins++;
    else ties++;
  }
  return {
    a: { method: a.method, label: evalMethodLabel(a), model: a.model },
    b: { method: b.method, label: evalMethodLabel(b), model: b.model },
    metric,
    questions: aWins + bWins + ties,
    aWins,
    bWins,
    ties,
    mcnemar: mcnemarTest(aWins, bWins),
  };
}

/** A record's iterations: the first EVAL_ITERATION_FIGURES figure that is a number; null when none is. */
export function iterationsOf(record: EvalRecord): number | null {
  for (const key of EVAL_ITERATION_FIGURES) {
    const value = record.figures[key];
    if (typeof value === 'number') return value;
  }
  return null;
}

/** The distribution of the non-null values; null when there are none. */
export function distributionOf(values: readonly (number | null)[]): Distribution | null {
  const present = values.filter((value): value is number => value !== null).sort((x, y) => x - y);
  if (present.length === 0) return null;
  const middle = Math.floor(present.length / 2);
  const median = present.length % 2 === 1 ? present[middle]! : (present[middle - 1]! + present[middle]!) / 2;
  return {
    n: present.length,
    min: present[0]!,
    median,
    max: present.at(-1)!,
    mean: present.reduce((sum, value) => sum + value, 0) / present.length,
  };
}

function meanOf<T>(items: readonly T[], value: (item: T) => number): number {
  if (items.length === 0) return 0;
  let sum = 0;
  for (const item of items) sum += value(item);
  return sum / items.length;
}
