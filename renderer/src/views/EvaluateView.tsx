import { useEffect, useMemo, useRef } from 'react';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { toUiError } from '../errors.ts';
import { accuracyVsSecondsChart, complexityVsDepthChart, type EvalChartData } from '../eval/evalCharts.ts';
import { formatDateTime, formatSeconds, inline, percent } from '../format.ts';
import { RunView } from '../run/RunView.tsx';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import type {
  EvalDatasetResult,
  EvalQuestion,
  EvalResults,
  EvalSummary,
  EvaluateFocus,
} from '../state/evaluateStore.ts';
import { strategyLabel } from '../state/strategiesStore.ts';

/**
 * Evaluate: run methods with models over dataset files (the engine's evaluation, resumable), watch
 * it with an ETA, read the method × dataset table and the charts, open a cell's questions, a
 * question's run, or two methods' runs of one question side by side.
 */
export function EvaluateView(): React.JSX.Element {
  const model = useAppModel();
  const focus = useStore(model.evaluate.store, (s) => s.focus);
  const error = useStore(model.evaluate.store, (s) => s.error);

  useEffect(() => {
    void model.evaluate.refreshEvaluations();
    void model.evaluate.refreshDatasets();
    // The active model is the natural first choice.
    const active = model.app.store.get().settings?.activeModel;
    if (active && model.evaluate.store.get().draft.models === '') model.evaluate.setDraft({ models: active });
  }, [model]);

  if (focus.kind !== 'none') return <FocusedRuns focus={focus} />;
  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">Evaluate</h1>
        <p className="view__subtitle">
          Compare methods and models on question/answer datasets with the datasets’ official scoring. Results
          are kept and an evaluation that stopped can be resumed without asking a question twice.
        </p>
      </header>
      <ErrorNote error={error} testId="evaluate-error" />
      <NewEvaluation />
      <PastEvaluations />
      <OpenEvaluation />
    </div>
  );
}

function NewEvaluation(): React.JSX.Element {
  const model = useAppModel();
  const draft = useStore(model.evaluate.store, (s) => s.draft);
  const datasets = useStore(model.evaluate.store, (s) => s.datasets);
  const loading = useStore(model.evaluate.store, (s) => s.datasetsLoading);
  const starting = useStore(model.evaluate.store, (s) => s.starting);
  const strategies = useStore(model.strategies.store, (s) => s.strategies);
  const host = useStore(model.app.store, (s) => s.info?.host);
  const corpora = useStore(model.library.store, (s) => s.corpora);

  return (
    <section className="panel" aria-labelledby="new-evaluation">
      <h2 className="panel__title" id="new-evaluation">
        New evaluation
      </h2>
      <fieldset className="field">
        <legend className="field__label">Datasets</legend>
        {datasets?.length === 0 && <p className="muted small">No dataset files yet: type one below.</p>}
        <ul className="eval-datasets" data-testid="eval-datasets">
          {datasets?.map((dataset) => (
            <li key={dataset.path}>
              <label>
                <input
                  type="checkbox"
                  checked={draft.datasets.includes(dataset.path)}
                  disabled={dataset.error !== null}
                  onChange={() => model.evaluate.toggle('datasets', dataset.path)}
                  data-testid="eval-dataset"
                />{' '}
                <strong>{dataset.name ?? 'unreadable'}</strong>{' '}
                <span className="mono small path">{dataset.path}</span>{' '}
                <span className="muted small">
                  {dataset.error
                    ? ''
                    : `${dataset.format}, ${dataset.questions} questions${dataset.hasContexts ? ', paragraphs become the corpus' : ''} · ${dataset.source}`}
                </span>
                {dataset.error && <span className="text-error small"> — {dataset.error.message}</span>}
              </label>
            </li>
          ))}
        </ul>
        <LinesField
          label={`Other dataset files (absolute paths, one per line${host === 'browser' ? ', on the machine running `reckon serve`' : ''})`}
          value={draft.otherPaths}
          onChange={(otherPaths) => model.evaluate.setDraft({ otherPaths })}
          testId="eval-paths"
        />
        <button
          type="button"
          className="button button--small eval-read"
          onClick={() => void model.evaluate.refreshDatasets()}
          disabled={loading}
          data-testid="eval-check-paths"
        >
          {loading ? 'Reading…' : 'Read these files'}
        </button>
      </fieldset>
      <fieldset className="field">
        <legend className="field__label">Methods</legend>
        <div className="form-row">
          {strategies?.map((strategy) => (
            <label key={strategy.id} className="option-field--check" title={strategy.description}>
              <input
                type="checkbox"
                checked={draft.methods.includes(strategy.id)}
                onChange={() => model.evaluate.toggle('methods', strategy.id)}
                data-testid={`eval-method-${strategy.id}`}
              />{' '}
              {strategy.label}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="form-row">
        <LinesField
          label="Models (one spec per line: a .gguf file, openai:…, replay:…)"
          value={draft.models}
          onChange={(models) => model.evaluate.setDraft({ models })}
          testId="eval-models"
          grow
        />
        {(['limit', 'seed', 'concurrency'] as const).map((key) => (
          <label key={key} className="field eval-number">
            <span className="field__label">
              {key === 'limit'
                ? 'Questions per dataset'
                : key === 'seed'
                  ? 'Seed (random sample)'
                  : 'Concurrency'}
            </span>
            <input
              className="input num-input"
              inputMode="numeric"
              value={draft[key]}
              placeholder={key === 'limit' ? 'all' : key === 'seed' ? 'first N' : '1'}
              onChange={(e) => model.evaluate.setDraft({ [key]: e.target.value })}
              data-testid={`eval-${key}`}
            />
          </label>
        ))}
        <label className="field">
          <span className="field__label">Corpus for datasets without paragraphs</span>
          <select
            className="input"
            value={draft.corpus}
            onChange={(e) => model.evaluate.setDraft({ corpus: e.target.value })}
            data-testid="eval-corpus"
          >
            <option value="">none</option>
            {corpora?.map((corpus) => (
              <option key={corpus.name} value={corpus.name}>
                {corpus.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <button
        type="button"
        className="button button--primary"
        onClick={() => void model.evaluate.start()}
        disabled={starting}
        data-testid="eval-start"
      >
        {starting ? 'Starting…' : 'Start evaluation'}
      </button>
    </section>
  );
}

/** A text box of one entry per line (paths, model specs). */
function LinesField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  testId: string;
  grow?: boolean;
}): React.JSX.Element {
  return (
    <label className={`field${props.grow ? ' field--grow' : ''}`}>
      <span className="field__label">{props.label}</span>
      <textarea
        className="input mono"
        rows={2}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        data-testid={props.testId}
      />
    </label>
  );
}

function PastEvaluations(): React.JSX.Element | null {
  const model = useAppModel();
  const evaluations = useStore(model.evaluate.store, (s) => s.evaluations);
  const openId = useStore(model.evaluate.store, (s) => s.openId);
  if (!evaluations || evaluations.length === 0) return null;
  return (
    <section className="panel" aria-labelledby="past-evaluations">
      <h2 className="panel__title" id="past-evaluations">
        Evaluations
      </h2>
      <div className="table-wrap">
        <table className="table table--compact" data-testid="eval-list">
          <thead>
            <tr>
              <th scope="col">Started</th>
              <th scope="col">Datasets</th>
              <th scope="col">Methods</th>
              <th scope="col">Models</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {evaluations.map((evaluation) => (
              <tr key={evaluation.id} className={evaluation.id === openId ? 'is-selected' : undefined}>
                <td className="nowrap">
                  <button
                    type="button"
                    className="link"
                    onClick={() => model.evaluate.open(evaluation.id)}
                    data-testid="eval-open"
                  >
                    {formatDateTime(evaluation.createdAt)}
                  </button>
                </td>
                <td>{evaluation.datasetNames.join(', ')}</td>
                <td>{evaluation.request.methods.map((m) => m.id).join(', ')}</td>
                <td className="mono small path">{evaluation.request.models.join(', ')}</td>
                <td>
                  <span className={`status status--${statusClass(evaluation.status)}`}>
                    {evaluation.status}
                  </span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function statusClass(status: EvalSummary['status']): string {
  return status === 'done' ? 'succeeded' : status === 'incomplete' ? 'cancelled' : status;
}

function OpenEvaluation(): React.JSX.Element | null {
  const model = useAppModel();
  const openId = useStore(model.evaluate.store, (s) => s.openId);
  const results = useStore(model.evaluate.store, (s) => (openId ? s.results[openId] : undefined));
  const listed = useStore(model.evaluate.store, (s) => s.evaluations?.find((e) => e.id === openId));
  if (!openId) return null;
  const evaluation = results?.evaluation ?? listed;
  if (!evaluation)
    return (
      <p className="muted" role="status">
        Loading evaluation…
      </p>
    );
  // The list is refreshed on every finish; the results may be older than it.
  const status = listed?.status ?? evaluation.status;
  return (
    <section className="panel" aria-labelledby="open-evaluation" data-testid="eval-open-panel">
      <div className="panel__header">
        <h2 className="panel__title" id="open-evaluation">
          Evaluation of {formatDateTime(evaluation.createdAt)}
        </h2>
        <span className={`status status--${statusClass(status)}`} data-testid="eval-status">
          {status}
        </span>
        <span className="spacer" />
        {status === 'running' ? (
          <button
            type="button"
            className="button button--danger"
            onClick={() => void model.evaluate.cancel(evaluation.id)}
            data-testid="eval-cancel"
          >
            Cancel
          </button>
        ) : status !== 'done' ? (
          <button
            type="button"
            className="button"
            onClick={() => void model.evaluate.resume(evaluation.id)}
            data-testid="eval-resume"
          >
            Resume
          </button>
        ) : null}
      </div>
      {status === 'running' && <LiveProgress evaluationId={evaluation.id} />}
      {results && results.datasets.length > 0 ? (
        <Results results={results} />
      ) : (
        status !== 'running' && <p className="muted">No results yet.</p>
      )}
    </section>
  );
}

function LiveProgress(props: { evaluationId: string }): React.JSX.Element {
  const model = useAppModel();
  const progress = useStore(model.evaluate.store, (s) => s.progress[props.evaluationId]);
  if (!progress) return <ProgressBar label="Evaluation progress" value={null} testId="eval-progress" />;
  const phase =
    progress.phase === 'load'
      ? 'reading the dataset'
      : progress.phase === 'corpus'
        ? `building the corpus of its paragraphs (${progress.done}/${progress.total} files)`
        : progress.phase === 'memory'
          ? `building ICRAG's memory of solved examples, k-fold (${progress.done}/${progress.total} examples)`
          : `${progress.done} of ${progress.total} questions × methods × models${progress.resumed > 0 ? ` (${progress.resumed} done before)` : ''}`;
  return (
    <div className="stack" role="status" aria-live="polite">
      <ProgressBar
        label="Evaluation progress"
        value={
          progress.phase === 'run' || progress.phase === 'memory'
            ? percent(progress.done, progress.total)
            : null
        }
        testId="eval-progress"
      />
      <p className="small" data-testid="eval-progress-text">
        Dataset {progress.datasetIndex + 1} of {progress.datasetCount} ({progress.dataset}): {phase}
        {progress.etaSeconds !== null && ` · about ${formatSeconds(progress.etaSeconds)} left (estimate)`}
      </p>
      {progress.last && (
        <p className="small muted" data-testid="eval-last">
          Last finished: {progress.last.method} on “{inline(progress.last.question, 120)}” —{' '}
          {progress.last.error ? `error: ${progress.last.error}` : `score ${scoreText(progress.last.score)}`}
        </p>
      )}
    </div>
  );
}

function scoreText(value: number | null): string {
  return value === null ? '—' : (value * 100).toFixed(1);
}

function Results(props: { results: EvalResults }): React.JSX.Element {
  const { datasets } = props.results;
  const model = useAppModel();
  const strategies = useStore(model.strategies.store, (s) => s.strategies);
  // The method × dataset table: one row per method × model, the main metric per dataset.
  const matrix = useMemo(() => {
    const rows = new Map<string, { method: string; model: string; values: (number | null)[] }>();
    datasets.forEach((dataset, index) => {
      for (const row of dataset.rows) {
        const key = `${row.method}\u0000${row.model}`;
        const entry = rows.get(key) ?? {
          method: row.method,
          model: row.model,
          values: datasets.map(() => null),
        };
        entry.values[index] = row.primary;
        rows.set(key, entry);
      }
    });
    const best = datasets.map((_, index) => {
      const values = [...rows.values()].flatMap((row) =>
        (row.values[index] ?? null) === null ? [] : [row.values[index]!],
      );
      return values.length > 1 ? Math.max(...values) : null;
    });
    return { rows: [...rows.values()], best };
  }, [datasets]);
  const manyModels = new Set(matrix.rows.map((row) => row.model)).size > 1;

  return (
    <div className="stack">
      <h3 className="subpanel__title">Methods × datasets</h3>
      <div className="table-wrap">
        <table className="table table--compact" data-testid="eval-matrix">
          <thead>
            <tr>
              <th scope="col">Method</th>
              {manyModels && <th scope="col">Model</th>}
              {datasets.map((dataset) => (
                <th key={dataset.path} scope="col" className="num">
                  {dataset.name} ({dataset.primaryLabel}, {dataset.questions} q.)
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {matrix.rows.map((row) => (
              <tr key={`${row.method}\u0000${row.model}`}>
                <th scope="row">{strategyLabel(strategies, row.method)}</th>
                {manyModels && <td className="mono small path">{row.model}</td>}
                {row.values.map((value, index) => {
                  const best = value !== null && matrix.best[index] === value;
                  return (
                    <td key={index} className={`num${best ? ' strong' : ''}`} data-best={best || undefined}>
                      {scoreText(value)}
                      {best && <span className="visually-hidden"> (best)</span>}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="small muted">
        Scores in percent under each dataset’s official rule; the best of each column in bold. “—”: not scored
        yet.
      </p>
      {datasets.map((dataset, index) => (
        <DatasetResults key={dataset.path} dataset={dataset} index={index} />
      ))}
    </div>
  );
}

function DatasetResults(props: { dataset: EvalDatasetResult; index: number }): React.JSX.Element {
  const { dataset, index } = props;
  const model = useAppModel();
  const drill = useStore(model.evaluate.store, (s) => s.drill);
  const drilled = drill?.dataset === index ? drill.configKey : null;
  // With one model, its (long) spec is said once above the table rather than in every row.
  const oneModel = new Set(dataset.rows.map((row) => row.model)).size === 1 ? dataset.rows[0]!.model : null;
  const shown = dataset.columns.flatMap((column, at) => (oneModel && column.id === 'model' ? [] : [at]));
  return (
    <section className="subpanel" aria-label={`${dataset.name} results`} data-testid="eval-dataset-results">
      <h3 className="subpanel__title">
        {dataset.name}: {dataset.questions} of {dataset.total} questions
        {dataset.corpus ? `, corpus ${dataset.corpus}` : ''}
      </h3>
      {oneModel && <p className="small mono path">model {oneModel}</p>}
      {dataset.reportPath && (
        <p className="small">
          HTML report (tables, charts, every question; opens offline):{' '}
          <span className="mono path" data-testid="eval-report-path">
            {dataset.reportPath}
          </span>
        </p>
      )}
      {dataset.missing > 0 && (
        <p className="small text-error">
          {dataset.missing} measurements not made yet; resume to finish them.
        </p>
      )}
      {dataset.notes.map((note) => (
        <p key={note} className="small muted">
          {note}
        </p>
      ))}
      <div className="table-wrap">
        <table className="table table--compact" data-testid="eval-table">
          <thead>
            <tr>
              {shown
                .map((at) => dataset.columns[at]!)
                .map((column) => (
                  <th key={column.id} scope="col" className={isText(column.id) ? undefined : 'num'}>
                    {column.label}
                  </th>
                ))}
            </tr>
          </thead>
          <tbody>
            {dataset.rows.map((row) => (
              <tr key={row.configKey} className={row.configKey === drilled ? 'is-selected' : undefined}>
                {shown.map((column) => {
                  const cell = row.cells[column]!;
                  return column === 0 ? (
                    <th key={column} scope="row">
                      <button
                        type="button"
                        className="link strong"
                        title="Show this method's questions"
                        onClick={() =>
                          model.evaluate.drillInto(
                            drilled === row.configKey ? null : { dataset: index, configKey: row.configKey },
                          )
                        }
                        data-testid="eval-cell"
                      >
                        {cell.text}
                      </button>
                    </th>
                  ) : (
                    <td
                      key={column}
                      className={`${isText(dataset.columns[column]!.id) ? 'mono small path' : 'num'}${cell.best ? ' strong' : ''}`}
                      data-best={cell.best || undefined}
                    >
                      {cell.text}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="charts">
        <EvalChart
          kind="accuracy"
          data={dataset.charts}
          title={`${dataset.charts.metricLabel} vs seconds per question`}
        />
        {dataset.charts.programs.length > 0 && (
          <EvalChart
            kind="complexity"
            data={dataset.charts}
            title="Program complexity (one point per question)"
          />
        )}
      </div>
      {drilled && <Questions dataset={dataset} configKey={drilled} />}
    </section>
  );
}

function isText(columnId: string): boolean {
  return columnId === 'method' || columnId === 'model';
}

/** One of the evaluation charts (evalCharts.ts), drawn into a box React leaves alone. */
function EvalChart(props: {
  kind: 'accuracy' | 'complexity';
  data: EvalChartData;
  title: string;
}): React.JSX.Element {
  const { kind, data, title } = props;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart =
      kind === 'accuracy'
        ? accuracyVsSecondsChart(data.cells, data.metricLabel)
        : complexityVsDepthChart(data.programs);
    box.current?.replaceChildren(chart);
  }, [kind, data]);
  return (
    <figure className="chart" data-testid={`eval-chart-${kind}`}>
      <figcaption className="chart__title">{title}</figcaption>
      <div ref={box} data-eval-chart={kind} />
    </figure>
  );
}

function Questions(props: { dataset: EvalDatasetResult; configKey: string }): React.JSX.Element {
  const { dataset, configKey } = props;
  const model = useAppModel();
  const rows = dataset.questionRows.filter((row) => row.configKey === configKey);
  const others = dataset.rows.filter((row) => row.configKey !== configKey);
  const titleOf = (row: EvalQuestion): string => `${row.method} · ${inline(row.question, 80)}`;
  return (
    <div className="table-wrap table-wrap--tall">
      <table className="table table--compact" data-testid="eval-questions">
        <thead>
          <tr>
            <th scope="col">Question</th>
            <th scope="col">Gold</th>
            <th scope="col">Prediction</th>
            <th scope="col" className="num">
              {dataset.primaryLabel}
            </th>
            <th scope="col">Flags</th>
            <th scope="col">Error</th>
            <th scope="col">Run</th>
            <th scope="col">Compare with</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr
              key={row.itemId}
              className={row.status === 'failed' ? 'is-failed' : undefined}
              data-testid="eval-question"
            >
              <td>{inline(row.question, 200)}</td>
              <td>{row.golds.join(' | ')}</td>
              <td>{row.prediction ?? '—'}</td>
              <td className="num">{scoreText(row.score)}</td>
              <td className="small">{flags(row)}</td>
              <td className="small text-error">
                {row.error ? `${row.error.code}: ${row.error.message}` : ''}
              </td>
              <td>
                <button
                  type="button"
                  className="button button--small"
                  onClick={() =>
                    model.evaluate.setFocus({ kind: 'run', runId: row.runId, title: titleOf(row) })
                  }
                  data-testid="eval-open-run"
                >
                  Open run
                </button>
              </td>
              <td>
                <select
                  className="input"
                  value=""
                  aria-label="Compare this question's run with another method's"
                  onChange={(e) => {
                    const other = dataset.questionRows.find(
                      (candidate) =>
                        candidate.configKey === e.target.value && candidate.itemId === row.itemId,
                    );
                    if (other)
                      model.evaluate.setFocus({
                        kind: 'compare',
                        left: { runId: row.runId, title: titleOf(row) },
                        right: { runId: other.runId, title: titleOf(other) },
                      });
                  }}
                  data-testid="eval-compare"
                >
                  <option value="">—</option>
                  {others.map((other) => (
                    <option
                      key={other.configKey}
                      value={other.configKey}
                      disabled={
                        !dataset.questionRows.some(
                          (q) => q.configKey === other.configKey && q.itemId === row.itemId,
                        )
                      }
                    >
                      {other.method} · {other.model}
                    </option>
                  ))}
                </select>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function flags(row: EvalQuestion): string {
  const shown = [
    row.repaired ? 'repaired' : '',
    row.boosted ? 'boosted' : '',
    row.simulated ? 'simulated' : '',
  ].filter(Boolean);
  return `${shown.join(', ')}${shown.length > 0 ? ' · ' : ''}${row.llmCalls} calls, ${row.tokensEstimated ? '~' : ''}${row.tokens} tokens, ${row.seconds.toFixed(2)} s`;
}

/** A question's run, or two runs of one question side by side, in the run view. */
function FocusedRuns(props: { focus: Exclude<EvaluateFocus, { kind: 'none' }> }): React.JSX.Element {
  const { focus } = props;
  const model = useAppModel();
  const panes =
    focus.kind === 'run' ? [{ runId: focus.runId, title: focus.title }] : [focus.left, focus.right];
  return (
    <div className="view">
      <div className="toolbar toolbar--top">
        <button
          type="button"
          className="button"
          onClick={() => model.evaluate.setFocus({ kind: 'none' })}
          data-testid="eval-back"
        >
          ← Results
        </button>
      </div>
      <div className={panes.length > 1 ? 'run__grid' : undefined} data-testid={`eval-focus-${focus.kind}`}>
        {panes.map((pane) => (
          <div key={pane.runId} className="run__col">
            <h2 className="subpanel__title">{pane.title}</h2>
            <LoadedRun runId={pane.runId} />
          </div>
        ))}
      </div>
    </div>
  );
}

function LoadedRun(props: { runId: string }): React.JSX.Element {
  const { runId } = props;
  const model = useAppModel();
  const error = useStore(model.evaluate.store, (s) => s.error);
  useEffect(() => {
    model.runs.load(runId).catch((caught: unknown) => model.evaluate.store.set({ error: toUiError(caught) }));
  }, [model, runId]);
  return (
    <>
      <ErrorNote error={error} />
      <RunView runId={runId} />
    </>
  );
}
