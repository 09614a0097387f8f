import { BarChart } from '../components/BarChart.tsx';
import { formatCount, formatMs } from '../format.ts';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import { findStrategy } from '../state/strategiesStore.ts';
import { formatCallSites, strategyFigures, tokensLabel, USER_PROGRAM_FIGURES } from './metricsText.ts';
import { liveCounts, type RunState } from './runState.ts';

/** AST node types charted at most (the rest are summed into one bar). Default 30. */
export const MAX_PROFILE_BARS = 30;

interface Stat {
  label: string;
  value: string;
  testId: string;
  hint?: string;
}

/**
 * The run's metrics in three parts: what every run has (LLM calls, tokens — marked when estimated —,
 * retries, total time, time per phase); the program loop's figures (complexity, stack depth, lines,
 * host-call sites, executability, attempts, repairs, the AST node-type profile) for strategies that
 * write programs; and the figures the strategy declares, labelled as listStrategies says. While the
 * run is live the counts come from its events; the final numbers replace them when the metrics event
 * lands.
 */
export function MetricsPanel(props: { run: RunState }): React.JSX.Element {
  const { run } = props;
  const model = useAppModel();
  const strategies = useStore(model.strategies.store, (s) => s.strategies);
  const strategy = findStrategy(strategies, run.strategy);
  const m = run.metrics;
  const live = liveCounts(run);
  const phases = m ? Object.entries(m.phaseMs).map(([label, value]) => ({ label, value })) : [];
  const program = m ? m.program : null;
  // Live, the program part shows as soon as the run has written or run a program.
  const showProgram = m ? program !== null : run.programs.length > 0 || run.executions.length > 0;
  const profile = program?.nodeTypeProfile ? profileBars(program.nodeTypeProfile) : [];
  const figures = m ? strategyFigures(m.strategy, strategy?.metrics ?? USER_PROGRAM_FIGURES) : [];
  const estimated = m?.tokensEstimated ?? false;
  const elapsed =
    m?.totalMs ??
    (run.startedAt !== null && run.lastEventAt !== null ? run.lastEventAt - run.startedAt : null);

  const common: Stat[] = [
    { label: 'LLM calls', value: formatCount(m?.llmCalls ?? live.llmCalls), testId: 'metric-llm-calls' },
    {
      label: tokensLabel('Prompt tokens', estimated),
      value: formatCount(m?.promptTokens ?? live.promptTokens),
      testId: 'metric-prompt-tokens',
      ...(estimated ? { hint: 'Estimated: the model backend does not count tokens (e.g. replay)' } : {}),
    },
    {
      label: tokensLabel('Generated tokens', estimated),
      value: formatCount(m?.completionTokens ?? live.completionTokens),
      testId: 'metric-generated-tokens',
      ...(estimated ? { hint: 'Estimated: the model backend does not count tokens (e.g. replay)' } : {}),
    },
    { label: 'Retries', value: formatCount(m?.retries ?? live.retries), testId: 'metric-retries' },
    { label: 'Total time', value: elapsed !== null ? formatMs(elapsed) : '–', testId: 'metric-total-time' },
  ];

  const programStats: Stat[] = [
    {
      label: 'Cyclomatic complexity',
      value: program ? dash(program.cyclomaticComplexity) : '–',
      testId: 'metric-complexity',
      hint: 'McCabe: decision points + 1, of the final program',
    },
    {
      label: 'Max stack depth',
      value: program ? dash(program.maxStackDepth) : '–',
      testId: 'metric-stack-depth',
      hint: 'Deepest runtime call stack of the final execution',
    },
    { label: 'Program lines', value: program ? dash(program.programLines) : '–', testId: 'metric-lines' },
    {
      label: 'Host-call sites',
      value: program ? formatCallSites(program.hostCallSites) : '–',
      testId: 'metric-call-sites',
      hint: 'Calls of each host tool in the final program’s source',
    },
    {
      label: 'Executable',
      value: program
        ? program.executable === null
          ? '–'
          : program.executable
            ? 'yes'
            : `no (${program.exceptionKind ?? 'unknown'})`
        : '–',
      testId: 'metric-executable',
    },
    {
      label: 'Tool calls',
      value: formatCount(program?.hostCalls ?? live.toolCalls),
      testId: 'metric-host-calls',
    },
    {
      label: 'Attempts · executions',
      value: `${program?.programAttempts ?? live.programAttempts} · ${program?.executions ?? live.executions}`,
      testId: 'metric-attempts',
    },
    { label: 'Repairs', value: formatCount(program?.repairs ?? live.repairs), testId: 'metric-repairs' },
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
      <StatList title="Run" stats={common} testId="metrics-common" />
      {showProgram && <StatList title="Program" stats={programStats} testId="metrics-program" />}
      {figures.length > 0 && (
        <StatList
          title={strategy ? strategy.label : run.strategy ? `Strategy ${run.strategy}` : 'Strategy'}
          stats={figures.map((f) => ({
            label: f.label,
            value: f.value,
            testId: `metric-strategy-${f.key}`,
            ...(f.description ? { hint: f.description } : {}),
          }))}
          testId="metrics-strategy"
        />
      )}
      <div className="charts">
        <BarChart title="Time per phase" data={phases} format={formatMs} testId="chart-phases" />
        {showProgram && (
          <BarChart
            title="AST node types (final program)"
            data={profile}
            format={formatCount}
            testId="chart-node-types"
          />
        )}
      </div>
    </section>
  );
}

function StatList(props: { title: string; stats: readonly Stat[]; testId: string }): React.JSX.Element {
  const { title, stats, testId } = props;
  return (
    <div className="metrics__group" data-testid={testId}>
      <h4 className="metrics__group-title">{title}</h4>
      <dl className="stats">
        {stats.map((s) => (
          <div key={s.testId} className="stat" data-testid={s.testId} {...(s.hint ? { title: s.hint } : {})}>
            <dt className="stat__label">{s.label}</dt>
            <dd className="stat__value">{s.value}</dd>
          </div>
        ))}
      </dl>
    </div>
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
