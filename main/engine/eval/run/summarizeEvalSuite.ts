/**
 * The report of an evaluation over several datasets: each dataset's own report (summarizeEvaluation)
 * and the method × dataset table in the papers' layout — one row per method (× model), one column
 * group per dataset with its headline metrics, the best of each column marked.
 */
import path from 'node:path';
import { METRIC_INFO, type MetricKey } from '../scoring/EvalScore.ts';
import type { EvalCellSummary, EvalReport } from './summarizeEvaluation.ts';

/** The metrics a dataset shows in the method × dataset table, those its scores carry, in this order. */
export const EVAL_TABLE_METRICS: readonly MetricKey[] = ['em', 'f1', 'accuracy', 'macro_f1'];

/** One column of the method × dataset table: one metric of one dataset. */
export interface EvalTableColumn {
  /** Index of the dataset in EvalSuiteReport.datasets. */
  dataset: number;
  /** The dataset's name, with its file name where two datasets share a name (datasetLabels). */
  datasetName: string;
  metric: MetricKey;
  label: string;
  /** The column's highest value, marked in the reports; null unless at least two rows have a value and they differ. */
  best: number | null;
}

/** One row: a method with a model. */
export interface EvalTableRow {
  method: string;
  /** The method as reports name it ("pyrag (oracle decomposition)" for an oracle run). */
  label: string;
  model: string;
  /** Per column, the row's value in [0, 1]; null where the row was not evaluated or has no such metric. */
  values: (number | null)[];
  /** Per dataset, the index of this row's cell in that dataset's report `cells`; null when not evaluated there. */
  cells: (number | null)[];
}

export interface EvalDatasetTable {
  columns: EvalTableColumn[];
  rows: EvalTableRow[];
}

export interface EvalSuiteReport {
  /** One report per dataset, in the order given. */
  datasets: EvalReport[];
  table: EvalDatasetTable;
  /** Measurements not yet made over all datasets; 0 when complete. */
  missing: number;
}

/** The suite report of per-dataset reports (see the module doc). */
export function summarizeEvalSuite(reports: readonly EvalReport[]): EvalSuiteReport {
  const rows: EvalTableRow[] = [];
  const rowOf = (cell: EvalCellSummary): EvalTableRow => {
    // By label: an oracle-decomposition run is a row of its own, beside the method's own run.
    let row = rows.find((other) => other.label === cell.label && other.model === cell.model);
    if (!row) {
      row = {
        method: cell.method,
        label: cell.label,
        model: cell.model,
        values: [],
        cells: reports.map(() => null),
      };
      rows.push(row);
    }
    return row;
  };
  reports.forEach((report, datasetIndex) =>
    report.cells.forEach((cell, cellIndex) => (rowOf(cell).cells[datasetIndex] = cellIndex)),
  );

  const names = datasetLabels(reports);
  const columns: EvalTableColumn[] = [];
  reports.forEach((report, datasetIndex) => {
    const present = new Set(
      report.cells.flatMap((cell) => cell.scores.flatMap((summary) => summary.metrics.map((m) => m.key))),
    );
    for (const metric of EVAL_TABLE_METRICS) {
      if (!present.has(metric)) continue;
      const values = rows.map((row) => {
        const index = row.cells[datasetIndex];
        return index === null || index === undefined ? null : cellMetric(report.cells[index]!, metric);
      });
      rows.forEach((row, rowIndex) => row.values.push(values[rowIndex]!));
      const known = values.filter((value): value is number => value !== null);
      columns.push({
        dataset: datasetIndex,
        datasetName: names[datasetIndex]!,
        metric,
        label: METRIC_INFO[metric].label,
        // Nothing stands out when every row scores the same.
        best: known.length > 1 && Math.max(...known) > Math.min(...known) ? Math.max(...known) : null,
      });
    }
  });
  return {
    datasets: [...reports],
    table: { columns, rows },
    missing: reports.reduce((sum, report) => sum + report.missing, 0),
  };
}

/** Each report's dataset name, with its file's base name added where two datasets share a name. */
export function datasetLabels(reports: readonly EvalReport[]): string[] {
  return reports.map(({ dataset }) =>
    reports.filter((other) => other.dataset.name === dataset.name).length > 1
      ? `${dataset.name} (${path.basename(dataset.path)})`
      : dataset.name,
  );
}

/** A cell's value of `metric` from the first scoring rule that has it; null when none does. */
export function cellMetric(cell: EvalCellSummary, metric: MetricKey): number | null {
  for (const summary of cell.scores) {
    const found = summary.metrics.find((m) => m.key === metric);
    if (found) return found.value;
  }
  return null;
}
