/**
 * The rows the evaluation charts are drawn from (renderer/src/eval/evalCharts.ts), taken from a
 * report and its records: one point per method × model (main score, seconds per question) and one
 * per question's final program (cyclomatic complexity, stack depth). The HTML report inlines them
 * and the app sends them to the Evaluate view, so both draw the same numbers.
 */
import type { EvalChartData } from '../../../../preload/contract.ts';
import { METRIC_INFO } from '../scoring/EvalScore.ts';
import type { EvalRecord } from './EvalRecord.ts';
import type { EvalReport } from './summarizeEvaluation.ts';

/** The chart rows of `report` and its `records` (records of other cells are ignored). */
export function evalChartData(report: EvalReport, records: readonly EvalRecord[]): EvalChartData {
  const label = evalCellLabeller(report);
  const labelOf = new Map(report.cells.map((cell) => [cell.configKey, label(cell)]));
  return {
    metricLabel: METRIC_INFO[report.primaryMetric].label,
    cells: report.cells.map((cell) => ({
      label: label(cell),
      primary: cell.primary,
      secondsPerQuestion: cell.secondsPerQuestion,
    })),
    programs: records.flatMap((record) => {
      const cellLabel = labelOf.get(record.configKey);
      const complexity = record.program?.cyclomaticComplexity;
      const depth = record.program?.maxStackDepth;
      if (cellLabel === undefined || typeof complexity !== 'number' || typeof depth !== 'number') return [];
      return [{ label: cellLabel, cyclomaticComplexity: complexity, maxStackDepth: depth }];
    }),
  };
}

/**
 * How the report names a cell: the method, with the model's file name after it when the report
 * compares models.
 */
export function evalCellLabeller(
  report: Pick<EvalReport, 'cells'>,
): (cell: { method: string; label?: string; model: string }) => string {
  const manyModels = report.cells.some((other) => other.model !== report.cells[0]?.model);
  return (cell) => {
    const name = cell.label ?? cell.method;
    return manyModels ? `${name} · ${shortModel(cell.model)}` : name;
  };
}

/** A model spec shortened for tables and legends: the file name of a path, the spec otherwise. */
export function shortModel(spec: string): string {
  const base =
    spec
      .replace(/^(replay|llama):/, '')
      .split(/[\\/]/)
      .at(-1) ?? spec;
  return base.length > 0 ? base : spec;
}
