import path from 'node:path';
import { atomicWriteFileSync } from '../../util/atomicWrite.ts';
import { evalMethodLabel, type EvalRecord } from './EvalRecord.ts';
import { evalReportColumns } from './evalReportColumns.ts';
import { renderEvalSuiteHtml } from './renderEvalHtml.ts';
import { datasetLabels, type EvalSuiteReport } from './summarizeEvalSuite.ts';

/** The report files an evaluation writes into its output folder, beside results.jsonl. */
export const EVAL_REPORT_FILES = {
  json: 'report.json',
  csv: 'report.csv',
  tableCsv: 'table.csv',
  questionsCsv: 'questions.csv',
  html: 'report.html',
} as const;

export interface WriteEvalReportsOptions {
  /** When the report was made (shown in the HTML, written in the JSON). Default: now. */
  generatedAt?: Date;
}

/**
 * Writes the report of an evaluation (one dataset or several) into `outDir`, each file atomically
 * (a kill leaves the old report or the new one, never half of one):
 * - report.json: the suite report (EvalSuiteReport: one EvalReport per dataset and the method ×
 *   dataset table) plus `generatedAt` and the records of the samples;
 * - report.csv: one row per dataset × method × model, the table's columns (raw values; shares in [0, 1]);
 * - table.csv: the method × dataset table in the papers' layout (one row per method × model, a
 *   column per dataset and metric; raw values);
 * - questions.csv: one row per record (question, golds, prediction, every score, cost, run id, error);
 * - report.html: the self-contained HTML report (renderEvalSuiteHtml).
 * Returns the paths written.
 */
export function writeEvalReports(
  outDir: string,
  suite: EvalSuiteReport,
  records: readonly EvalRecord[],
  options: WriteEvalReportsOptions = {},
): Record<keyof typeof EVAL_REPORT_FILES, string> {
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();
  const paths = {
    json: path.join(outDir, EVAL_REPORT_FILES.json),
    csv: path.join(outDir, EVAL_REPORT_FILES.csv),
    tableCsv: path.join(outDir, EVAL_REPORT_FILES.tableCsv),
    questionsCsv: path.join(outDir, EVAL_REPORT_FILES.questionsCsv),
    html: path.join(outDir, EVAL_REPORT_FILES.html),
  };
  atomicWriteFileSync(paths.json, `${JSON.stringify({ generatedAt, ...suite, records }, null, 2)}\n`);
  atomicWriteFileSync(paths.csv, reportCsv(suite));
  atomicWriteFileSync(paths.tableCsv, tableCsv(suite));
  atomicWriteFileSync(paths.questionsCsv, questionsCsv(records));
  atomicWriteFileSync(paths.html, renderEvalSuiteHtml(suite, records, { generatedAt }));
  return paths;
}

/** Every dataset's method × model rows as CSV (header: `dataset` and the column ids of all datasets' columns). */
export function reportCsv(suite: EvalSuiteReport): string {
  const columns = evalReportColumns({ cells: suite.datasets.flatMap((report) => report.cells) });
  const names = datasetLabels(suite.datasets);
  const lines = [['dataset', ...columns.map((column) => column.id)]];
  suite.datasets.forEach((report, index) => {
    for (const cell of report.cells)
      lines.push([names[index]!, ...columns.map((column) => csvValue(column.value(cell)))]);
  });
  return toCsv(lines);
}

/** The method × dataset table as CSV: method, model, then `<dataset> <metric>` columns. */
export function tableCsv(suite: EvalSuiteReport): string {
  const { columns, rows } = suite.table;
  const lines = [['method', 'model', ...columns.map((column) => `${column.datasetName} ${column.metric}`)]];
  for (const row of rows) lines.push([row.label, row.model, ...row.values.map(csvValue)]);
  return toCsv(lines);
}

/** One row per record; the score columns are the union of the metrics the records carry. */
export function questionsCsv(records: readonly EvalRecord[]): string {
  const metricKeys: string[] = [];
  for (const record of records)
    for (const key of Object.keys(record.score.metrics)) if (!metricKeys.includes(key)) metricKeys.push(key);
  const header = [
    'method',
    'model',
    'item_id',
    'category',
    'question',
    'golds',
    'prediction',
    'extracted',
    ...metricKeys,
    'llm_calls',
    'prompt_tokens',
    'completion_tokens',
    'tokens_estimated',
    'seconds',
    'repairs',
    'boosts',
    'executable',
    'cyclomatic_complexity',
    'max_stack_depth',
    'run_id',
    'error',
  ];
  const lines = [header];
  for (const record of records) {
    const metrics = record.score.metrics as Record<string, number | undefined>;
    lines.push([
      evalMethodLabel(record.config),
      record.config.model,
      record.itemId,
      record.category ?? '',
      record.question,
      record.golds.join(' | '),
      record.prediction ?? '',
      record.score.extracted ?? '',
      ...metricKeys.map((key) => csvValue(metrics[key] ?? null)),
      String(record.llmCalls),
      String(record.promptTokens),
      String(record.completionTokens),
      record.tokensEstimated ? 'true' : 'false',
      String(record.seconds),
      csvValue(record.program?.repairs ?? null),
      csvValue(typeof record.figures.boosts === 'number' ? record.figures.boosts : null),
      csvValue(record.program?.executable ?? null),
      csvValue(record.program?.cyclomaticComplexity ?? null),
      csvValue(record.program?.maxStackDepth ?? null),
      record.runId,
      record.error ? `${record.error.code}: ${record.error.message}` : '',
    ]);
  }
  return toCsv(lines);
}

function csvValue(value: number | string | boolean | null): string {
  return value === null ? '' : String(value);
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled; CRLF line ends. */
function toCsv(lines: readonly (readonly string[])[]): string {
  return lines
    .map((fields) =>
      fields.map((field) => (/[",\r\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field)).join(','),
    )
    .join('\r\n')
    .concat('\r\n');
}
