/**
 * The script of the self-contained HTML report (bundled with Plot by the engine's
 * evalChartsScript and inlined into report.html): reads each chart's data from the JSON block the
 * report carries and draws it with the same functions as the Evaluate view. A chart that cannot be
 * drawn says why in its place; nothing is fetched.
 */
import { EVAL_CHART_DATA_ELEMENT_ID } from '../../../preload/contract.ts';
import { accuracyVsSecondsChart, complexityVsDepthChart, type EvalChartData } from './evalCharts.ts';

function draw(): void {
  const datasets = new Map<string, EvalChartData | null>();
  /** The chart data a slot names (each dataset of a report has its own), parsed once. */
  function dataOf(id: string): EvalChartData | null {
    if (!datasets.has(id)) {
      const source = document.getElementById(id);
      datasets.set(id, source?.textContent ? (JSON.parse(source.textContent) as EvalChartData) : null);
    }
    return datasets.get(id) ?? null;
  }
  for (const slot of document.querySelectorAll<HTMLElement>('[data-eval-chart]')) {
    try {
      const data = dataOf(slot.dataset.evalChartData ?? EVAL_CHART_DATA_ELEMENT_ID);
      if (!data) throw new Error('its data is missing from the report');
      const chart =
        slot.dataset.evalChart === 'complexity'
          ? complexityVsDepthChart(data.programs)
          : accuracyVsSecondsChart(data.cells, data.metricLabel);
      slot.replaceChildren(chart);
    } catch (error) {
      slot.textContent = `This chart could not be drawn (${error instanceof Error ? error.message : 'unknown error'}).`;
    }
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', draw);
else draw();
