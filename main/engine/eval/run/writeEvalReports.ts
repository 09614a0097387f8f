import path from 'node:path';
import { atomicWriteFileSync } from '../../util/atomicWrite.ts';
import type { EvalRecord } from './EvalRecord.ts';
import { evalReportColumns } from './evalReportColumns.ts';
import { renderEvalHtml } from './renderEvalHtml.ts';
import type { EvalReport } from './summarizeEvaluation.ts';

/** The report files an evaluation writes into its output folder, beside results.jsonl. */
export const EVAL_REPORT_FILES = {
  json: 'report.json',
  csv: 'report.csv',
  questionsCsv: 'questions.csv',
  html: 'report.html',
} as const;

export interface WriteEvalReportsOptions {
  /** When the report was made (shown in the HTML, written in the JSON). Default: now. */
  generatedAt?: Date;
}

/**
 * Writes the report of an evaluation into `outDir`, each file atomically (a kill leaves the old
 * report or the new one, never half of one):
 * - report.json: the report (EvalReport) plus `generatedAt` and the records of the sample;
 * - report.csv: one row per method × model, the table's columns (raw values; shares in [0, 1]);
 * - questions.csv: one row per record (question, golds, prediction, every score, cost, run id, error);
 * - report.html: the self-contained HTML report (renderEvalHtml).
 * Returns the paths written.
 */
export function writeEvalReports(
  outDir: string,
  report: EvalReport,
  records: readonly EvalRecord[],
  options: WriteEvalReportsOptions = {},
): Record<keyof typeof EVAL_REPORT_FILES, string> {
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();
  const paths = {
    json: path.join(outDir, EVAL_REPORT_FILES.json),
    csv: path.join(outDir, EVAL_REPORT_FILES.csv),
    questionsCsv: path.join(outDir, EVAL_REPORT_FILES.questionsCsv),
    html: path.join(outDir, EVAL_REPORT_FILES.html),
  };
  atomicWriteFileSync(paths.json, `${JSON.stringify({ generatedAt, ...report, records }, null, 2)}\n`);
  atomicWriteFileSync(paths.csv, reportCsv(report));
  atomicWriteFileSync(paths.questionsCsv, questionsCsv(records));
  atomicWriteFileSync(paths.html, renderEvalHtml(report, records, { generatedAt }));
  return paths;
}

/** The method × model table as CSV (header: the column ids). */
export function reportCsv(report: EvalReport): string {
  const columns = evalReportColumns(report);
  const lines = [columns.map((column) => column.id)];
  for (const cell of report.cells) lines.push(columns.map((column) => csvValue(column.value(cell))));
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
      record.config.method,
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
