/**
 * The evaluation's HTML report: one self-contained file (inline CSS and SVG, no script, nothing
 * fetched), so it opens anywhere and can be mailed or attached. Every number in it comes from the
 * report and the records; every text from the data is escaped.
 */
import { METRIC_INFO } from '../scoring/EvalScore.ts';
import type { EvalRecord } from './EvalRecord.ts';
import { evalReportColumns, formatPValue, formatShare } from './evalReportColumns.ts';
import { MCNEMAR_CHI_SQUARE_MIN_DISCORDANT } from '../statistics/mcnemarTest.ts';
import type { EvalCellSummary, EvalReport } from './summarizeEvaluation.ts';
import { cellMetric, datasetLabels, type EvalSuiteReport } from './summarizeEvalSuite.ts';

const CHART_WIDTH = 560;
const CHART_HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 16, bottom: 48 };
const PALETTE = ['#4269d0', '#efb118', '#ff725c', '#6cc5b0', '#3ca951', '#ff8ab7', '#a463f2', '#97bbf5'];

export interface RenderEvalHtmlOptions {
  /** When the report was made, shown in the header (ISO text). */
  generatedAt: string;
}

/** The HTML report of `report` with the per-question drill-down of `records`. */
export function renderEvalHtml(
  report: EvalReport,
  records: readonly EvalRecord[],
  options: RenderEvalHtmlOptions,
): string {
  return htmlDocument(`Reckon evaluation: ${report.dataset.name}`, reportSections(report, records, options));
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
  return htmlDocument(`Reckon evaluation: ${names.join(', ')}`, [
    `<h1>Evaluation: ${suite.datasets.length} datasets</h1>`,
    `<p class="meta">${escapeHtml(names.join(', '))}; generated ${escapeHtml(options.generatedAt)}.</p>`,
    suite.missing > 0
      ? `<p class="warn">Incomplete: ${suite.missing} measurements are not made yet; run the same command again to finish.</p>`
      : '',
    '<h2>Methods × datasets</h2>',
    datasetTable(suite),
    ...suite.datasets.flatMap((report) => reportSections(report, records, options)),
  ]);
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
): string[] {
  const primaryLabel = METRIC_INFO[report.primaryMetric].label;
  const cellName = (cell: { label: string; model: string }): string =>
    report.cells.some((other) => other.model !== cell.model)
      ? `${cell.label} · ${shortModel(cell.model)}`
      : cell.label;
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
    '<div class="charts">',
    barChart(
      report.cells.map((cell) => ({ label: cellName(cell), value: cell.primary })),
      `${primaryLabel} (%)`,
    ),
    scatterChart(
      report.cells.map((cell, index) => ({
        label: cellName(cell),
        x: cell.secondsPerQuestion,
        y: cell.primary === null ? null : cell.primary * 100,
        color: PALETTE[index % PALETTE.length]!,
      })),
      {
        x: 'seconds per question',
        y: `${primaryLabel} (%)`,
        title: `${primaryLabel} vs seconds per question`,
      },
      100,
    ),
    complexityChart(report, records, cellName),
    '</div>',
    comparisons(report, cellName),
    '<h2>Questions</h2>',
    ...report.cells.map((cell) => drillDown(cell, records, report, cellName(cell))),
  ];
}

function htmlDocument(title: string, sections: readonly string[]): string {
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
figure{margin:0}figcaption{font-weight:600;margin-bottom:4px}svg text{font:11px system-ui,sans-serif;fill:#333}
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

function barChart(bars: { label: string; value: number | null }[], title: string): string {
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const slot = plotWidth / Math.max(1, bars.length);
  const parts: string[] = [axes(plotWidth, plotHeight, 100, '%')];
  bars.forEach((bar, index) => {
    const value = bar.value === null ? 0 : bar.value * 100;
    const height = (value / 100) * plotHeight;
    const x = MARGIN.left + index * slot + slot * 0.15;
    const y = MARGIN.top + plotHeight - height;
    parts.push(
      `<rect x="${fixed(x)}" y="${fixed(y)}" width="${fixed(slot * 0.7)}" height="${fixed(height)}" fill="${PALETTE[index % PALETTE.length]}"><title>${escapeHtml(`${bar.label}: ${formatShare(bar.value)}`)}</title></rect>`,
      `<text x="${fixed(x + slot * 0.35)}" y="${fixed(y - 3)}" text-anchor="middle">${escapeHtml(formatShare(bar.value))}</text>`,
      `<text x="${fixed(x + slot * 0.35)}" y="${fixed(MARGIN.top + plotHeight + 14)}" text-anchor="middle">${escapeHtml(truncate(bar.label, Math.max(6, Math.floor(slot / 6))))}</text>`,
    );
  });
  return figure(title, parts);
}

interface Point {
  label: string;
  x: number;
  y: number | null;
  color: string;
}

function scatterChart(
  points: Point[],
  axesLabels: { x: string; y: string; title: string },
  fixedMaxY?: number,
): string {
  const present = points.filter((point): point is Point & { y: number } => point.y !== null);
  const plotWidth = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = CHART_HEIGHT - MARGIN.top - MARGIN.bottom;
  const maxX = niceMax(Math.max(0, ...present.map((point) => point.x)));
  const maxY = fixedMaxY ?? niceMax(Math.max(0, ...present.map((point) => point.y)));
  const parts: string[] = [axes(plotWidth, plotHeight, maxY, ''), xTicks(plotWidth, plotHeight, maxX)];
  for (const point of present) {
    const cx = MARGIN.left + (point.x / maxX) * plotWidth;
    const cy = MARGIN.top + plotHeight - (point.y / maxY) * plotHeight;
    parts.push(
      `<circle cx="${fixed(cx)}" cy="${fixed(cy)}" r="5" fill="${point.color}" fill-opacity="0.8"><title>${escapeHtml(`${point.label}: ${fixedText(point.x)}, ${fixedText(point.y)}`)}</title></circle>`,
    );
    if (point.label)
      parts.push(
        `<text x="${fixed(cx + 7)}" y="${fixed(cy + 4)}">${escapeHtml(truncate(point.label, 28))}</text>`,
      );
  }
  parts.push(
    `<text x="${MARGIN.left + plotWidth / 2}" y="${CHART_HEIGHT - 8}" text-anchor="middle">${escapeHtml(axesLabels.x)}</text>`,
    `<text transform="translate(12 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(axesLabels.y)}</text>`,
  );
  return figure(axesLabels.title, parts);
}

/** ICRAG's figure: each question's final program, cyclomatic complexity against stack depth, per cell. */
function complexityChart(
  report: EvalReport,
  records: readonly EvalRecord[],
  cellName: (cell: EvalCellSummary) => string,
): string {
  const points: Point[] = [];
  report.cells.forEach((cell, index) => {
    for (const record of records) {
      if (record.configKey !== cell.configKey) continue;
      const complexity = record.program?.cyclomaticComplexity;
      const depth = record.program?.maxStackDepth;
      if (typeof complexity !== 'number' || typeof depth !== 'number') continue;
      points.push({ label: '', x: depth, y: complexity, color: PALETTE[index % PALETTE.length]! });
    }
  });
  if (points.length === 0) return '';
  const legend = report.cells
    .map((cell, index) =>
      cell.programQuestions > 0
        ? `<span style="color:${PALETTE[index % PALETTE.length]}">●</span> ${escapeHtml(cellName(cell))}`
        : '',
    )
    .filter(Boolean)
    .join(' &nbsp; ');
  return `<div>${scatterChart(points, { x: 'max stack depth', y: 'cyclomatic complexity', title: 'Program complexity (one point per question)' })}<p class="meta">${legend}</p></div>`;
}

function comparisons(
  report: EvalReport,
  cellName: (cell: { label: string; model: string }) => string,
): string {
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
function oracleSection(
  report: EvalReport,
  cellName: (cell: { label: string; model: string }) => string,
): string {
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

function axes(plotWidth: number, plotHeight: number, maxY: number, unit: string): string {
  const lines: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (maxY * i) / 4;
    const y = MARGIN.top + plotHeight - (plotHeight * i) / 4;
    lines.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${fixed(y)}" y2="${fixed(y)}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${fixed(y + 4)}" text-anchor="end">${fixedText(value)}${unit}</text>`,
    );
  }
  lines.push(
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#999"/>`,
  );
  return lines.join('');
}

function xTicks(plotWidth: number, plotHeight: number, maxX: number): string {
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const x = MARGIN.left + (plotWidth * i) / 4;
    ticks.push(
      `<text x="${fixed(x)}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle">${fixedText((maxX * i) / 4)}</text>`,
    );
  }
  return ticks.join('');
}

function figure(title: string, parts: string[]): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption><svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `value` (1 for 0), for round axis ends. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function fixed(value: number): string {
  return value.toFixed(1);
}

/** An axis or tooltip number: whole numbers as they are, others to 3 significant digits. */
function fixedText(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(3)));
}

function shortModel(spec: string): string {
  const base =
    spec
      .replace(/^(replay|llama):/, '')
      .split(/[\\/]/)
      .at(-1) ?? spec;
  return base.length > 0 ? base : spec;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
