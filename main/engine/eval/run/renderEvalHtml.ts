/**
 * The evaluation's HTML report: one self-contained file (inline CSS, and one inline script that
 * draws the charts with Observable Plot — the Evaluate view's own chart code, see
 * evalChartsScript — from the chart data inlined beside it; nothing is fetched), so it opens
 * anywhere, offline too, and can be mailed or attached. Every number in it comes from the report
 * and the records; every text from the data is escaped.
 */
import { EVAL_CHART_DATA_ELEMENT_ID } from '../../../../preload/contract.ts';
import { toReckonError } from '../../errors.ts';
import { METRIC_INFO } from '../scoring/EvalScore.ts';
import { evalCellLabeller, evalChartData } from './evalChartData.ts';
import { evalChartsScript } from './evalChartsScript.ts';
import type { EvalRecord } from './EvalRecord.ts';
import { evalReportColumns, formatShare } from './evalReportColumns.ts';
import type { EvalCellSummary, EvalReport } from './summarizeEvaluation.ts';

export interface RenderEvalHtmlOptions {
  /** When the report was made, shown in the header (ISO text). */
  generatedAt: string;
  /** The chart script to inline. Default: evalChartsScript() (a report without it has no charts, and says why). */
  chartScript?: () => string;
}

/** The HTML report of `report` with the per-question drill-down of `records`. */
export function renderEvalHtml(
  report: EvalReport,
  records: readonly EvalRecord[],
  options: RenderEvalHtmlOptions,
): string {
  const cellName = evalCellLabeller(report);
  const sections = [
    `<h1>Evaluation: ${escapeHtml(report.dataset.name)}</h1>`,
    `<p class="meta">${escapeHtml(report.dataset.path)} (${escapeHtml(report.dataset.format)}), ${report.sample.questions} of ${report.dataset.total} questions${report.sample.limit !== null ? `, limit ${report.sample.limit}` : ''}${report.sample.seed !== null ? `, seed ${report.sample.seed}` : ''}; corpus ${escapeHtml(report.corpus ?? 'none')}; generated ${escapeHtml(options.generatedAt)}.</p>`,
    ...report.dataset.notes.map((note) => `<p class="meta">Note: ${escapeHtml(note)}</p>`),
    report.missing > 0
      ? `<p class="warn">Incomplete: ${report.missing} measurements are not made yet; run the same command again to finish.</p>`
      : '',
    '<h2>Methods × models</h2>',
    table(report),
    '<p class="meta">Scores in percent under the dataset’s official rule; “—”: not applicable. Columns labelled “not the official rule” or “retrieval” are extra. “~”: token counts estimated (the backend could not count them). Best of each score column in bold.</p>',
    '<h2>Charts</h2>',
    charts(report, records, options.chartScript ?? evalChartsScript),
    comparisons(report, cellName),
    '<h2>Questions</h2>',
    ...report.cells.map((cell) => drillDown(cell, records, report, cellName(cell))),
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reckon evaluation: ${escapeHtml(report.dataset.name)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;max-width:1400px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right;vertical-align:top}
th{background:#f4f4f6}td.text,th.text{text-align:left}td.best{font-weight:700;background:#eef6ee}
.meta{color:#555}.warn{color:#a14b00;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}.chart{min-height:40px}
details{margin:6px 0}summary{cursor:pointer;font-weight:600}.err{color:#b00020}.q{max-width:420px}
</style></head><body>
${sections.filter(Boolean).join('\n')}
</body></html>
`;
}

function table(report: EvalReport): string {
  const columns = evalReportColumns(report).filter((column) => column.id !== 'tokens_estimated');
  const best = new Map<string, number>();
  for (const column of columns) {
    if (!column.higherIsBetter) continue;
    const values = report.cells.flatMap((cell) => {
      const value = column.value(cell);
      return typeof value === 'number' ? [value] : [];
    });
    if (values.length > 1) best.set(column.id, Math.max(...values));
  }
  const head = columns
    .map((column) => `<th class="${isText(column.id) ? 'text' : ''}">${escapeHtml(column.label)}</th>`)
    .join('');
  const rows = report.cells.map((cell) => {
    const cells = columns.map((column) => {
      const value = column.value(cell);
      const classes = [
        isText(column.id) ? 'text' : '',
        typeof value === 'number' && best.get(column.id) === value ? 'best' : '',
      ].filter(Boolean);
      return `<td class="${classes.join(' ')}">${escapeHtml(column.format(cell))}</td>`;
    });
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function isText(id: string): boolean {
  return id === 'method' || id === 'model';
}

/**
 * The two charts (accuracy vs seconds per question; cyclomatic complexity vs stack depth, when
 * some method wrote programs): empty slots the inlined script fills from the inlined data.
 */
function charts(report: EvalReport, records: readonly EvalRecord[], chartScript: () => string): string {
  const data = evalChartData(report, records);
  let script: string;
  try {
    script = chartScript();
  } catch (error) {
    return `<p class="warn">No charts: ${escapeHtml(toReckonError(error).message)}</p>`;
  }
  const slot = (kind: string, title: string): string =>
    `<figure><figcaption>${escapeHtml(title)}</figcaption><div class="chart" data-eval-chart="${kind}"><noscript>This chart is drawn by the report’s script; allow scripts for this file to see it.</noscript></div></figure>`;
  return [
    '<div class="charts">',
    slot('accuracy', `${data.metricLabel} vs seconds per question`),
    data.programs.length > 0 ? slot('complexity', 'Program complexity (one point per question)') : '',
    '</div>',
    // JSON in a script element: "<" escaped so no data can close the element.
    `<script type="application/json" id="${EVAL_CHART_DATA_ELEMENT_ID}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`,
    `<script>${script}</script>`,
  ].join('\n');
}

function comparisons(
  report: EvalReport,
  cellName: (cell: { method: string; model: string }) => string,
): string {
  if (report.comparisons.length === 0) return '';
  const label = METRIC_INFO[report.primaryMetric].label;
  const rows = report.comparisons.map(
    (comparison) =>
      `<tr><td class="text">${escapeHtml(cellName(comparison.a))}</td><td class="text">${escapeHtml(cellName(comparison.b))}</td><td>${comparison.questions}</td><td>${comparison.aWins}</td><td>${comparison.bWins}</td><td>${comparison.ties}</td><td>${comparison.pValue.toFixed(3)}</td></tr>`,
  );
  return `<h2>Paired comparison (${escapeHtml(label)}, question by question)</h2>
<table><thead><tr><th class="text">A</th><th class="text">B</th><th>questions</th><th>A better</th><th>B better</th><th>tied</th><th>sign test p (two-sided)</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="meta">A p-value above 0.05 means the difference could well be chance on this many questions.</p>`;
}

function drillDown(
  cell: EvalCellSummary,
  records: readonly EvalRecord[],
  report: EvalReport,
  name: string,
): string {
  const own = records.filter((record) => record.configKey === cell.configKey);
  const hasRecall = own.some((record) => record.score.metrics.paragraph_recall !== undefined);
  const hasF1 = own.some((record) => record.score.metrics.f1 !== undefined);
  const rows = own.map((record) => {
    const metric = record.score.metrics[report.primaryMetric];
    return `<tr><td class="text">${escapeHtml(record.itemId)}</td><td class="text q">${escapeHtml(record.question)}</td><td class="text">${escapeHtml(record.golds.join(' | '))}</td><td class="text">${escapeHtml(record.prediction ?? '—')}</td><td>${formatShare(metric ?? null)}</td>${hasF1 ? `<td>${formatShare(record.score.metrics.f1 ?? null)}</td>` : ''}${hasRecall ? `<td>${formatShare(record.score.metrics.paragraph_recall ?? null)}</td>` : ''}<td>${record.llmCalls}</td><td>${record.tokensEstimated ? '~' : ''}${record.promptTokens + record.completionTokens}</td><td>${record.seconds.toFixed(2)}</td><td class="text">${escapeHtml(record.runId)}</td><td class="text err">${escapeHtml(record.error ? `${record.error.code}: ${record.error.message}` : '')}</td></tr>`;
  });
  return `<details><summary>${escapeHtml(name)} — ${cell.questions} questions, ${METRIC_INFO[report.primaryMetric].label} ${formatShare(cell.primary)}</summary>
<table><thead><tr><th class="text">id</th><th class="text">question</th><th class="text">gold</th><th class="text">prediction</th><th>${escapeHtml(METRIC_INFO[report.primaryMetric].label)}</th>${hasF1 ? '<th>F1</th>' : ''}${hasRecall ? '<th>recall</th>' : ''}<th>LLM calls</th><th>tokens</th><th>seconds</th><th class="text">run (reckon runs show)</th><th class="text">error</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></details>`;
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
