/**
 * How a run's metrics read in the UI (Metrics panel, History): the figures a strategy declares,
 * labelled from listStrategies, and token counts marked when they are estimates. Pure.
 */
import type { StrategyInfo } from '../state/types.ts';
import type { RunMetrics } from './runState.ts';

/** One of a strategy's own figures, ready to show. */
export interface StrategyFigure {
  key: string;
  /** The label the strategy declares; the key when it declares none. */
  label: string;
  description: string | null;
  value: string;
}

const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

/** A figure's value as text: numbers with at most two decimals, yes/no, "–" for null. */
export function formatFigure(value: number | string | boolean | null): string {
  if (value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return Number.isFinite(value) ? decimal.format(value) : '–';
  return value;
}

/**
 * The strategy figures of a run: first those the strategy declares, in its order (figures it
 * declares but did not report are left out), then any others the run reported, labelled by key.
 */
/**
 * The figures of a run of a user's program (run-program, or an edited program re-run), which no
 * registered strategy declares.
 */
export const USER_PROGRAM_FIGURES: StrategyInfo['metrics'] = [
  {
    key: 'cachedCalls',
    label: 'Cached calls',
    description:
      'Tool calls served from the results of the run the program was edited from (inputs unchanged)',
  },
];

export function strategyFigures(
  figures: RunMetrics['strategy'],
  declared: StrategyInfo['metrics'] | undefined,
): StrategyFigure[] {
  const shown: StrategyFigure[] = [];
  const seen = new Set<string>();
  for (const info of declared ?? []) {
    if (!Object.hasOwn(figures, info.key)) continue;
    seen.add(info.key);
    shown.push({
      key: info.key,
      label: info.label,
      description: info.description,
      value: formatFigure(figures[info.key] ?? null),
    });
  }
  for (const [key, value] of Object.entries(figures)) {
    if (seen.has(key)) continue;
    shown.push({ key, label: key, description: null, value: formatFigure(value) });
  }
  return shown;
}

/** "Prompt tokens" or "Prompt tokens (estimated)". */
export function tokensLabel(label: string, estimated: boolean): string {
  return estimated ? `${label} (estimated)` : label;
}

/** Call sites per host tool, "retrieve 2 · answer 3" (in the order the engine listed them); "–" for none. */
export function formatCallSites(sites: Readonly<Record<string, number>> | null): string {
  if (sites === null) return '–';
  const entries = Object.entries(sites);
  return entries.length === 0 ? 'none' : entries.map(([tool, count]) => `${tool} ${count}`).join(' · ');
}
