/**
 * The evaluation's charts, drawn with Observable Plot from the rows of an evaluation summary: pure
 * functions from data to a detached SVG (or a <figure> holding a legend and the SVG), shared by the
 * Evaluate view and the self-contained HTML report (evalChartsReport.ts, bundled with Plot into the
 * report). Plot builds DOM nodes only — no eval, no inline script, nothing fetched — so the charts
 * draw under the app's Content-Security-Policy and from a file:// page offline.
 */
import * as Plot from '@observablehq/plot';
import type { EvalChartCell, EvalChartProgram } from '../../../preload/contract.ts';

export type { EvalChartCell, EvalChartData, EvalChartProgram } from '../../../preload/contract.ts';

/** Options of the chart functions; all optional. */
export interface EvalChartOptions {
  /** Width in px. Default: DEFAULT_EVAL_CHART_WIDTH (560). */
  width?: number;
  /** Height in px. Default: DEFAULT_EVAL_CHART_HEIGHT (320). */
  height?: number;
  /** The document nodes are made in. Default: the global document. */
  document?: Document;
}

export const DEFAULT_EVAL_CHART_WIDTH = 560;
export const DEFAULT_EVAL_CHART_HEIGHT = 320;

/**
 * The papers' trade-off: each cell's main score (percent, 0–100) against its mean seconds per
 * question, one labelled dot per cell; cells with no score are left out (say so beside the chart).
 */
export function accuracyVsSecondsChart(
  cells: readonly EvalChartCell[],
  metricLabel: string,
  options: EvalChartOptions = {},
): SVGSVGElement | HTMLElement {
  const points = cells.flatMap((cell) =>
    cell.primary === null
      ? []
      : [{ label: cell.label, seconds: cell.secondsPerQuestion, score: cell.primary * 100 }],
  );
  return Plot.plot({
    ...frame(options),
    marginRight: 24,
    grid: true,
    x: { label: 'seconds per question →', zero: true, nice: true },
    y: { label: `↑ ${metricLabel} (%)`, domain: [0, 100] },
    color: { type: 'categorical', domain: cells.map((cell) => cell.label), legend: cells.length > 1 },
    marks: [
      Plot.dot(points, {
        x: 'seconds',
        y: 'score',
        fill: 'label',
        r: 5,
        title: (d: (typeof points)[number]) =>
          `${d.label}: ${d.score.toFixed(1)}% in ${d.seconds.toFixed(2)} s per question`,
      }),
      Plot.text(points, {
        x: 'seconds',
        y: 'score',
        text: 'label',
        dx: 8,
        textAnchor: 'start',
        lineWidth: 16,
      }),
    ],
  });
}

/**
 * ICRAG's figure: each question's final program, cyclomatic complexity against maximum runtime
 * stack depth, one dot per program, coloured by cell. Dots are half transparent, so programs that
 * share a point show as a darker dot.
 */
export function complexityVsDepthChart(
  programs: readonly EvalChartProgram[],
  options: EvalChartOptions = {},
): SVGSVGElement | HTMLElement {
  const labels = [...new Set(programs.map((program) => program.label))];
  return Plot.plot({
    ...frame(options),
    grid: true,
    x: { label: 'max stack depth →', zero: true, nice: true },
    y: { label: '↑ cyclomatic complexity', zero: true, nice: true },
    color: { type: 'categorical', domain: labels, legend: labels.length > 1 },
    marks: [
      Plot.dot(programs, {
        x: 'maxStackDepth',
        y: 'cyclomaticComplexity',
        fill: 'label',
        fillOpacity: 0.5,
        r: 4,
        title: (d: EvalChartProgram) =>
          `${d.label}: complexity ${d.cyclomaticComplexity}, stack depth ${d.maxStackDepth}`,
      }),
    ],
  });
}

function frame(options: EvalChartOptions): Plot.PlotOptions {
  return {
    width: options.width ?? DEFAULT_EVAL_CHART_WIDTH,
    height: options.height ?? DEFAULT_EVAL_CHART_HEIGHT,
    style: { fontSize: '11px', background: 'transparent' },
    ...(options.document ? { document: options.document } : {}),
  };
}
