import { BarChart } from '../components/BarChart.tsx';
import { formatCount, formatMs } from '../format.ts';
import { liveCounts, type RunState } from './runState.ts';

/** AST node types charted at most (the rest are summed into one bar). Default 30. */
export const MAX_PROFILE_BARS = 30;

/**
 * The run's metrics: program complexity and stack depth, lines, host-call sites, executability,
 * LLM calls and tokens, retries, time per phase and the AST node-type profile. While the run is
 * live the counts come from its events; the final numbers replace them when the metrics event lands.
 */
export function MetricsPanel(props: { run: RunState }): React.JSX.Element {
  const { run } = props;
  const m = run.metrics;
  const live = liveCounts(run);
  const phases = m ? Object.entries(m.phaseMs).map(([label, value]) => ({ label, value })) : [];
  const profile = m?.nodeTypeProfile ? profileBars(m.nodeTypeProfile) : [];
  const elapsed =
    m?.totalMs ??
    (run.startedAt !== null && run.lastEventAt !== null ? run.lastEventAt - run.startedAt : null);

  const stats: { label: string; value: string; testId: string; hint?: string }[] = [
    {
      label: 'Cyclomatic complexity',
      value: m ? dash(m.cyclomaticComplexity) : '–',
      testId: 'metric-complexity',
      hint: 'McCabe: decision points + 1, of the final program',
    },
    {
      label: 'Max stack depth',
      value: m ? dash(m.maxStackDepth) : '–',
      testId: 'metric-stack-depth',
      hint: 'Deepest runtime call stack of the final execution',
    },
    { label: 'Program lines', value: m ? dash(m.programLines) : '–', testId: 'metric-lines' },
    {
      label: 'Host-call sites',
      value: m?.hostCallSites
        ? `retrieve ${m.hostCallSites.retrieve} · answer ${m.hostCallSites.answer}`
        : '–',
      testId: 'metric-call-sites',
    },
    {
      label: 'Executable',
      value: m
        ? m.executable === null
          ? '–'
          : m.executable
            ? 'yes'
            : `no (${m.exceptionKind ?? 'unknown'})`
        : '–',
      testId: 'metric-executable',
    },
    { label: 'LLM calls', value: formatCount(m?.llmCalls ?? live.llmCalls), testId: 'metric-llm-calls' },
    {
      label: 'Prompt tokens',
      value: formatCount(m?.promptTokens ?? live.promptTokens),
      testId: 'metric-prompt-tokens',
    },
    {
      label: 'Generated tokens',
      value: formatCount(m?.completionTokens ?? live.completionTokens),
      testId: 'metric-generated-tokens',
    },
    { label: 'Retries', value: formatCount(m?.retries ?? live.retries), testId: 'metric-retries' },
    { label: 'Tool calls', value: formatCount(m?.hostCalls ?? live.toolCalls), testId: 'metric-host-calls' },
    {
      label: 'Attempts · executions',
      value: `${m?.programAttempts ?? live.programAttempts} · ${m?.executions ?? live.executions}`,
      testId: 'metric-attempts',
    },
    {
      label: 'Repairs · boosts',
      value: `${m?.repairs ?? live.repairs} · ${m?.boosts ?? live.boosts}`,
      testId: 'metric-repairs',
    },
    { label: 'Total time', value: elapsed !== null ? formatMs(elapsed) : '–', testId: 'metric-total-time' },
  ];

  return (
    <section
      className="panel metrics"
      aria-labelledby="metrics-heading"
      data-testid="metrics-panel"
      id={`metrics-${run.runId}`}
    >
      <header className="panel__header">
        <h3 id="metrics-heading" className="panel__title">
          Metrics
        </h3>
        {!m && (
          <span className="muted small">
            {run.status === 'running'
              ? 'live counts; final numbers when the run ends'
              : 'no metrics were recorded'}
          </span>
        )}
      </header>
      <dl className="stats">
        {stats.map((s) => (
          <div key={s.label} className="stat" data-testid={s.testId} {...(s.hint ? { title: s.hint } : {})}>
            <dt className="stat__label">{s.label}</dt>
            <dd className="stat__value">{s.value}</dd>
          </div>
        ))}
      </dl>
      <div className="charts">
        <BarChart title="Time per phase" data={phases} format={formatMs} testId="chart-phases" />
        <BarChart
          title="AST node types (final program)"
          data={profile}
          format={formatCount}
          testId="chart-node-types"
        />
      </div>
    </section>
  );
}

function dash(value: number | null): string {
  return value === null ? '–' : formatCount(value);
}

function profileBars(profile: Record<string, number>): { label: string; value: number }[] {
  const sorted = Object.entries(profile)
    .map(([label, value]) => ({ label, value }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  if (sorted.length <= MAX_PROFILE_BARS) return sorted;
  const head = sorted.slice(0, MAX_PROFILE_BARS - 1);
  const rest = sorted.slice(MAX_PROFILE_BARS - 1);
  return [...head, { label: `${rest.length} other types`, value: rest.reduce((sum, d) => sum + d.value, 0) }];
}
