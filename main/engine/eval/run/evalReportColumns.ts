import { METRIC_INFO, type MetricKey, type ScoringRule } from '../scoring/EvalScore.ts';
import type { Distribution, EvalCellSummary, EvalReport } from './summarizeEvaluation.ts';

/** One column of the method × model table, shared by the printed table, the CSV and the HTML report. */
export interface EvalReportColumn {
  /** Stable id: the CSV header. */
  id: string;
  /** What a reader sees; estimated figures say so. */
  label: string;
  /** The raw value (CSV, JSON); null when the cell has none. */
  value(cell: EvalCellSummary): number | string | null;
  /** As shown in the table and the HTML ("—" for null). */
  format(cell: EvalCellSummary): string;
  /** A higher value is better: the HTML marks the best of the column. */
  higherIsBetter?: boolean;
}

/** Metric columns (of the scoring rules) whose share is shown as a percentage. */
const RETRIEVAL_METRICS = new Set<MetricKey>(['paragraph_recall', 'paragraph_all_found']);

/**
 * The columns of `report`'s table: method (its label: "(oracle decomposition)" marks an oracle
 * run), model, questions, errors, the questions given gold sub-questions when a cell is an oracle
 * run; every official metric present
 * (prefixed with its rule when the dataset mixes rules), then the non-official ones (GSM8K's
 * numeric equality, retrieval recall), each labelled as such; cost per question (tokens marked
 * "estimated" when any count is); and the program and strategy rates and distributions, each only
 * when some cell has it.
 */
export function evalReportColumns(report: Pick<EvalReport, 'cells'>): EvalReportColumn[] {
  const columns: EvalReportColumn[] = [
    text('method', 'method', (cell) => cell.label),
    text('model', 'model', (cell) => cell.model),
    count('questions', 'questions', (cell) => cell.questions),
    count('errors', 'errors', (cell) => cell.errors),
  ];
  // An oracle-decomposition run says on how many questions the gold sub-questions were given.
  if (report.cells.some((cell) => cell.oracle !== null))
    columns.push({
      id: 'oracle_given',
      label: 'gold sub-questions given',
      value: (cell) => cell.oracle?.given ?? null,
      format: (cell) => (cell.oracle ? `${cell.oracle.given} of ${cell.questions}` : '—'),
    });

  const rules: ScoringRule[] = [];
  for (const cell of report.cells)
    for (const summary of cell.scores) if (!rules.includes(summary.rule)) rules.push(summary.rule);
  const metricKeys = (rule: ScoringRule): MetricKey[] => {
    const keys = new Set<MetricKey>();
    for (const cell of report.cells)
      for (const metric of cell.scores.find((summary) => summary.rule === rule)?.metrics ?? [])
        keys.add(metric.key);
    return (Object.keys(METRIC_INFO) as MetricKey[]).filter((key) => keys.has(key));
  };
  const metricColumn = (rule: ScoringRule, key: MetricKey): EvalReportColumn => {
    const value = (cell: EvalCellSummary): number | null =>
      cell.scores.find((summary) => summary.rule === rule)?.metrics.find((metric) => metric.key === key)
        ?.value ?? null;
    const prefix = rules.length > 1 ? `${rule} ` : '';
    const label = METRIC_INFO[key].label;
    return {
      id: `${rules.length > 1 ? `${rule}.` : ''}${key}`,
      label: `${prefix}${label}`,
      value,
      format: (cell) => formatShare(value(cell)),
      higherIsBetter: true,
    };
  };
  for (const official of [true, false])
    for (const rule of rules)
      for (const key of metricKeys(rule))
        if (METRIC_INFO[key].official === official && !(official && RETRIEVAL_METRICS.has(key)))
          columns.push(metricColumn(rule, key));

  const estimated = report.cells.some((cell) => cell.tokensEstimated);
  columns.push(
    number('llm_calls_per_question', 'LLM calls / question', (cell) => cell.llmCallsPerQuestion, 2),
    {
      ...number(
        'tokens_per_question',
        `tokens / question${estimated ? ' (~ estimated)' : ''}`,
        (cell) => cell.tokensPerQuestion,
        0,
      ),
      format: (cell) => `${cell.tokensEstimated ? '~' : ''}${cell.tokensPerQuestion.toFixed(0)}`,
    },
    // Also a column of its own for the CSV; a printed table may drop it (the "~" says it).
    text('tokens_estimated', 'tokens estimated', (cell) => (cell.tokensEstimated ? 'yes' : 'no')),
    number('seconds_per_question', 'seconds / question', (cell) => cell.secondsPerQuestion, 2),
  );
  const optional: EvalReportColumn[] = [
    rate('repair_rate', 'repaired', (cell) => cell.repairRate),
    rate('boost_rate', 'boosted', (cell) => cell.boostRate),
    rate('simulated_rate', 'simulated', (cell) => cell.simulatedRate),
    rate('executable_rate', 'executable', (cell) => cell.executableRate, true),
    rate('exception_rate', 'exception', (cell) => cell.exceptionRate),
    ...distribution('cyclomatic', 'cyclomatic complexity', (cell) => cell.cyclomaticComplexity),
    ...distribution('stack_depth', 'stack depth', (cell) => cell.maxStackDepth),
    ...distribution('iterations', 'iterations', (cell) => cell.iterations),
  ];
  for (const column of optional)
    if (report.cells.some((cell) => column.value(cell) !== null)) columns.push(column);
  return columns;
}

/** A share in [0, 1] as the table shows it: "62.5" (percent, one decimal); "—" for none. */
export function formatShare(value: number | null): string {
  return value === null ? '—' : (value * 100).toFixed(1);
}

/** A p-value to 3 decimals, or in exponent form when it would show as 0.000. */
export function formatPValue(value: number): string {
  return value >= 0.001 || value === 0 ? value.toFixed(3) : value.toExponential(1);
}

function text(id: string, label: string, value: (cell: EvalCellSummary) => string): EvalReportColumn {
  return { id, label, value, format: value };
}

function count(id: string, label: string, value: (cell: EvalCellSummary) => number): EvalReportColumn {
  return { id, label, value, format: (cell) => String(value(cell)) };
}

function number(
  id: string,
  label: string,
  value: (cell: EvalCellSummary) => number,
  digits: number,
): EvalReportColumn {
  return { id, label, value, format: (cell) => value(cell).toFixed(digits) };
}

function rate(
  id: string,
  label: string,
  value: (cell: EvalCellSummary) => number | null,
  higherIsBetter = false,
): EvalReportColumn {
  return {
    id,
    label: `${label} %`,
    value,
    format: (cell) => formatShare(value(cell)),
    ...(higherIsBetter ? { higherIsBetter } : {}),
  };
}

function distribution(
  id: string,
  label: string,
  value: (cell: EvalCellSummary) => Distribution | null,
): EvalReportColumn[] {
  return (['min', 'median', 'max'] as const).map((stat) => ({
    id: `${id}_${stat}`,
    label: `${label} ${stat}`,
    value: (cell) => value(cell)?.[stat] ?? null,
    format: (cell) => {
      const inner = value(cell)?.[stat];
      return inner === undefined ? '—' : Number.isInteger(inner) ? String(inner) : inner.toFixed(1);
    },
  }));
}
