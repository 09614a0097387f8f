/**
 * The evaluation's HTML report: one self-contained file (inline CSS, and one inline script that
 * draws the charts with Observable Plot — the Evaluate view's own chart code, see
 * evalChartsScript — from the chart data inlined beside it; nothing is fetched), so it opens
 * anywhere, offline too, and can be mailed or attached. Every number in it comes from the report
 * and the records; every text from the data is escaped.
 */
import { evalChartDataElementId } from '../../../../preload/contract.ts';
import { toReckonError } from '../../errors.ts';
import { METRIC_INFO } from '../scoring/EvalScore.ts';
import { evalCellLabeller, evalChartData, shortModel } from './evalChartData.ts';
import { evalChartsScript } from './evalChartsScript.ts';
import type { EvalRecord } from './EvalRecord.ts';
import { evalReportColumns, formatPValue, formatShare } from './evalReportColumns.ts';
import { MCNEMAR_CHI_SQUARE_MIN_DISCORDANT } from '../statistics/mcnemarTest.ts';
import type { EvalCellSummary, EvalReport } from './summarizeEvaluation.ts';
import { cellMetric, datasetLabels, type EvalSuiteReport } from './summarizeEvalSuite.ts';

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
  const charts = chartsOf(options);
  return htmlDocument(
    `Reckon evaluation: ${report.dataset.name}`,
    reportSections(report, records, options, charts, 0),
    charts,
  );
}

/**
 * The HTML report of an evaluation over one dataset or several: for one, renderEvalHtml; for
 * several, the method × dataset table first, then each dataset's report.
 */
export function renderEvalSuiteHtml(
  suite: EvalSuiteReport,
  records: readonly EvalRecord[],
  options: RenderEvalHtmlOptions,
): string {
  const [only] = suite.datasets;
  if (suite.datasets.length === 1 && only) return renderEvalHtml(only, records, options);
  const names = datasetLabels(suite.datasets);
  const charts = chartsOf(options);
  return htmlDocument(
    `Reckon evaluation: ${names.join(', ')}`,
    [
      `<h1>Evaluation: ${suite.datasets.length} datasets</h1>`,
      `<p class="meta">${escapeHtml(names.join(', '))}; generated ${escapeHtml(options.generatedAt)}.</p>`,
      suite.missing > 0
        ? `<p class="warn">Incomplete: ${suite.missing} measurements are not made yet; run the same command again to finish.</p>`
        : '',
      '<h2>Methods × datasets</h2>',
      datasetTable(suite),
      ...suite.datasets.flatMap((report, index) => reportSections(report, records, options, charts, index)),
    ],
    charts,
  );
}

/** The papers' layout: a row per method (× model), a column group per dataset, best per column in bold. */
function datasetTable(suite: EvalSuiteReport): string {
  const { columns, rows } = suite.table;
  const groups: { name: string; span: number }[] = [];
  for (const column of columns) {
    const last = groups.at(-1);
    if (last && columns[columns.indexOf(column) - 1]?.dataset === column.dataset) last.span++;
    else groups.push({ name: column.datasetName, span: 1 });
  }
  const showModel = new Set(rows.map((row) => row.model)).size > 1;
  const lead = `<th class="text" rowspan="2">method</th>${showModel ? '<th class="text" rowspan="2">model</th>' : ''}`;
  const head = `<tr>${lead}${groups.map((group) => `<th colspan="${group.span}">${escapeHtml(group.name)}</th>`).join('')}</tr><tr>${columns.map((column) => `<th>${escapeHtml(column.label)}</th>`).join('')}</tr>`;
  const body = rows.map((row) => {
    const values = row.values.map((value, index) => {
      const best = value !== null && columns[index]!.best === value;
      return `<td${best ? ' class="best"' : ''}>${escapeHtml(formatShare(value))}</td>`;
    });
    return `<tr><td class="text">${escapeHtml(row.label)}</td>${showModel ? `<td class="text">${escapeHtml(shortModel(row.model))}</td>` : ''}${values.join('')}</tr>`;
  });
  return `<table><thead>${head}</thead><tbody>${body.join('\n')}</tbody></table>
<p class="meta">Scores in percent under each dataset’s official rule; “—”: not evaluated there. Best of each column in bold. Each dataset’s full table (cost, repair and boost rates, executability, complexity, iterations) follows below.</p>`;
}

/** The body of one dataset's report. */
function reportSections(
  report: EvalReport,
  records: readonly EvalRecord[],
  options: RenderEvalHtmlOptions,
  charts: ReportCharts,
  index: number,
): string[] {
  const cellName = evalCellLabeller(report);
  return [
    `<h1>Evaluation: ${escapeHtml(report.dataset.name)}</h1>`,
    `<p class="meta">${escapeHtml(report.dataset.path)} (${escapeHtml(report.dataset.format)}), ${report.sample.questions} of ${report.dataset.total} questions${report.sample.limit !== null ? `, limit ${report.sample.limit}` : ''}${report.sample.seed !== null ? `, seed ${report.sample.seed}` : ''}; corpus ${escapeHtml(report.corpus ?? 'none')}; generated ${escapeHtml(options.generatedAt)}.</p>`,
    ...report.dataset.notes.map((note) => `<p class="meta">Note: ${escapeHtml(note)}</p>`),
    report.missing > 0
      ? `<p class="warn">Incomplete: ${report.missing} measurements are not made yet; run the same command again to finish.</p>`
      : '',
    '<h2>Methods × models</h2>',
    table(report),
    '<p class="meta">Scores in percent under the dataset’s official rule; “—”: not applicable. Columns labelled “not the official rule” or “retrieval” are extra. “~”: token counts estimated (the backend could not count them). Best of each score column in bold.</p>',
    oracleSection(report, cellName),
    '<h2>Charts</h2>',
    chartSlots(report, records, charts, index),
    comparisons(report, cellName),
    '<h2>Questions</h2>',
    ...report.cells.map((cell) => drillDown(cell, records, report, cellName(cell))),
  ];
}

/** The chart script of a report, built once per file, or why there is none. */
type ReportCharts = { script: string } | { unavailable: string };

function chartsOf(options: RenderEvalHtmlOptions): ReportCharts {
  try {
    return { script: (options.chartScript ?? evalChartsScript)() };
  } catch (error) {
    return { unavailable: toReckonError(error).message };
  }
}

function htmlDocument(title: string, sections: readonly string[], charts: ReportCharts): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
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
${'script' in charts ? `<script>${charts.script}</script>` : ''}
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
 * The two charts of one dataset (accuracy vs seconds per question; cyclomatic complexity vs stack
 * depth, when some method wrote programs): empty slots that the report's one inlined script fills
 * from this dataset's data, inlined beside them under its own element id.
 */
function chartSlots(
  report: EvalReport,
  records: readonly EvalRecord[],
  charts: ReportCharts,
  index: number,
): string {
  if ('unavailable' in charts) return `<p class="warn">No charts: ${escapeHtml(charts.unavailable)}</p>`;
  const data = evalChartData(report, records);
  const dataId = evalChartDataElementId(index);
  const slot = (kind: string, title: string): string =>
    `<figure><figcaption>${escapeHtml(title)}</figcaption><div class="chart" data-eval-chart="${kind}" data-eval-chart-data="${dataId}"><noscript>This chart is drawn by the report’s script; allow scripts for this file to see it.</noscript></div></figure>`;
  return [
    '<div class="charts">',
    slot('accuracy', `${data.metricLabel} vs seconds per question`),
    data.programs.length > 0 ? slot('complexity', 'Program complexity (one point per question)') : '',
    '</div>',
    // JSON in a script element: "<" escaped so no data can close the element.
    `<script type="application/json" id="${dataId}">${JSON.stringify(data).replace(/</g, '\\u003c')}</script>`,
  ].join('\n');
}

function comparisons(report: EvalReport, cellName: ReturnType<typeof evalCellLabeller>): string {
  if (report.comparisons.length === 0) return '';
  const label = METRIC_INFO[report.primaryMetric].label;
  const rows = report.comparisons.map(({ a, b, questions, aWins, bWins, ties, mcnemar }) => {
    const chi = mcnemar.chiSquare;
    return `<tr><td class="text">${escapeHtml(cellName(a))}</td><td class="text">${escapeHtml(cellName(b))}</td><td>${questions}</td><td>${aWins}</td><td>${bWins}</td><td>${ties}</td><td>${mcnemar.b}</td><td>${mcnemar.c}</td><td>${formatPValue(mcnemar.exactPValue)}</td><td>${chi ? `${chi.statistic.toFixed(2)} (p ${formatPValue(chi.pValue)})` : '—'}</td></tr>`;
  });
  return `<h2>Paired comparison (${escapeHtml(label)}, question by question)</h2>
<table><thead><tr><th class="text">A</th><th class="text">B</th><th>questions</th><th>A better</th><th>B better</th><th>tied</th><th>b (A right, B wrong)</th><th>c (B right, A wrong)</th><th>McNemar exact p (two-sided)</th><th>χ² with continuity correction (approximation)</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="meta">McNemar’s test uses only the questions one got right and the other wrong: the exact p is the two-sided binomial test of b against c; the χ² approximation is shown from ${MCNEMAR_CHI_SQUARE_MIN_DISCORDANT} such questions. A p-value above 0.05 means the difference could well be chance on this many questions.</p>`;
}

/** The gold-decomposition retrieval ceiling beside each method's actual supporting-paragraph recall. */
function oracleSection(report: EvalReport, cellName: ReturnType<typeof evalCellLabeller>): string {
  const { oracle } = report;
  if (!oracle) return '';
  const row = (label: string, recall: number | null, allFound: number | null): string =>
    `<tr><td class="text">${escapeHtml(label)}</td><td>${formatShare(recall)}</td><td>${formatShare(allFound)}</td></tr>`;
  const rows: string[] = [];
  for (const mode of oracle.modes)
    rows.push(
      row(
        `question alone, ${mode.mode} (steps × ${oracle.topK} passages)`,
        mode.question.recall,
        mode.question.allFound,
      ),
      row(
        `gold sub-questions, ${mode.mode} (${oracle.topK} passages each): the ceiling`,
        mode.gold.recall,
        mode.gold.allFound,
      ),
    );
  for (const cell of report.cells) {
    const recall = cellMetric(cell, 'paragraph_recall');
    if (recall !== null)
      rows.push(row(`${cellName(cell)} (as run)`, recall, cellMetric(cell, 'paragraph_all_found')));
  }
  const questions = oracle.modes[0]?.questions ?? 0;
  return `<h2>Where did it go wrong? Retrieval with the gold decomposition</h2>
<table><thead><tr><th class="text">retrieval</th><th>supporting-paragraph recall</th><th>all supporting found</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>
<p class="meta">Over the ${questions} questions with a gold decomposition and gold supporting paragraphs${oracle.skipped > 0 ? ` (${oracle.skipped} with a decomposition but no supporting paragraphs left out)` : ''}: the corpus searched with the question alone and with each gold sub-question (earlier gold answers substituted for #1, #2, …), at the same number of passages. A method’s recall below the question-alone line points to retrieval; between the lines, to decomposition. The methods’ rows are over their own questions and passage counts.</p>`;
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
