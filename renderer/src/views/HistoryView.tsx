import { useEffect, useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { formatCount, formatDateTime, formatMs, inline } from '../format.ts';
import { RunView } from '../run/RunView.tsx';
import { useAppModel } from '../state/AppModel.ts';
import { tokensLabel } from '../run/metricsText.ts';
import { useStore } from '../state/useStore.ts';
import { findStrategy, strategyLabel } from '../state/strategiesStore.ts';
import type { RunSummary } from '../state/types.ts';

/** Delay between typing in the search box and asking for the list. Default 250 ms. */
const SEARCH_DEBOUNCE_MS = 250;
/** What the Replay button does, shown as its tooltip and read out as its description. */
const REPLAY_DESCRIPTION = 'Run again with the model outputs recorded in this run';

/**
 * History: saved runs, searchable; a run opens in the same view as a live one, exportable,
 * re-runnable and replayable (its recorded model outputs played back, as a new run shown here).
 */
export function HistoryView(): React.JSX.Element {
  const model = useAppModel();
  const openRunId = useStore(model.history.store, (s) => s.openRunId);
  return openRunId ? <OpenedRun runId={openRunId} /> : <RunList />;
}

function RunList(): React.JSX.Element {
  const model = useAppModel();
  const search = useStore(model.history.store, (s) => s.search);
  const runs = useStore(model.history.store, (s) => s.runs);
  const loading = useStore(model.history.store, (s) => s.loading);
  const error = useStore(model.history.store, (s) => s.error);
  const strategies = useStore(model.strategies.store, (s) => s.strategies);

  useEffect(() => {
    const timer = setTimeout(() => void model.history.refresh(), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [model, search]);

  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">History</h1>
        <p className="view__subtitle">
          Every run is saved with its whole trace. Open one to audit it, export it, or ask again.
        </p>
      </header>
      <div className="toolbar" role="search">
        <label className="field field--grow">
          <span className="visually-hidden">Search runs</span>
          <input
            className="input"
            type="search"
            value={search}
            placeholder="Search questions and answers"
            onChange={(e) => model.history.setSearch(e.target.value)}
            data-testid="history-search"
          />
        </label>
        <span className="muted small" role="status" aria-live="polite">
          {loading ? 'Loading…' : runs ? `${runs.length} run${runs.length === 1 ? '' : 's'}` : ''}
        </span>
      </div>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table className="table" data-testid="history-list">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Question</th>
              <th scope="col">Status</th>
              <th scope="col">Answer</th>
              <th scope="col">Strategy</th>
              <th scope="col">Model</th>
              <th scope="col">Corpus</th>
              <th scope="col" className="num">
                LLM calls
              </th>
              <th scope="col" className="num">
                Tokens
              </th>
              <th scope="col" className="num">
                Time
              </th>
            </tr>
          </thead>
          <tbody>
            {runs?.length === 0 && (
              <tr>
                <td colSpan={10} className="muted">
                  {search.trim() ? 'No run matches the search.' : 'No runs yet. Ask a question in Ask.'}
                </td>
              </tr>
            )}
            {runs?.map((run) => (
              <tr key={run.id} data-testid="history-item">
                <td className="small nowrap">{formatDateTime(run.createdAt)}</td>
                <td>
                  <button
                    type="button"
                    className="link strong"
                    onClick={() => model.history.open(run.id)}
                    data-testid="history-open"
                  >
                    {inline(run.question, 140)}
                  </button>
                </td>
                <td>
                  <span className={`status status--${run.status}`}>{run.status}</span>
                </td>
                <td className="small">
                  {run.answer ? (
                    inline(run.answer, 80)
                  ) : run.error ? (
                    <span className={run.status === 'failed' ? 'text-error' : 'muted'}>
                      {inline(run.error.message, 80)}
                    </span>
                  ) : (
                    '–'
                  )}
                </td>
                <td className="small" title={run.strategy} data-testid="history-strategy">
                  {strategyLabel(strategies, run.strategy)}
                </td>
                <td className="mono small path" title={run.model}>
                  {run.model}
                </td>
                <td className="small">{run.corpus ?? '–'}</td>
                <td className="num">{run.metrics ? formatCount(run.metrics.llmCalls) : '–'}</td>
                <td
                  className="num nowrap"
                  title={
                    run.metrics
                      ? `${tokensLabel('Prompt', run.metrics.tokensEstimated)} ${formatCount(run.metrics.promptTokens)} + ${tokensLabel('generated', run.metrics.tokensEstimated)} ${formatCount(run.metrics.completionTokens)}`
                      : undefined
                  }
                >
                  {run.metrics
                    ? tokensLabel(
                        formatCount(run.metrics.promptTokens + run.metrics.completionTokens),
                        run.metrics.tokensEstimated,
                      )
                    : '–'}
                </td>
                <td className="num nowrap">
                  {run.finishedAt ? formatMs(run.finishedAt - run.createdAt) : '–'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function OpenedRun(props: { runId: string }): React.JSX.Element {
  const { runId } = props;
  const model = useAppModel();
  const summary = useStore(model.runs.store, (s) => s.summaries[runId]);
  const listed = useStore(model.history.store, (s) => s.runs?.find((r) => r.id === runId));
  // The live status: the summary loaded with the run is not updated while it streams.
  const liveStatus = useStore(model.runs.store, (s) => s.runs[runId]?.status);
  const [error, setError] = useState<UiError | null>(null);
  const [replaying, setReplaying] = useState(false);
  const strategies = useStore(model.strategies.store, (s) => s.strategies);

  useEffect(() => {
    setError(null);
    model.runs.load(runId).catch((caught: unknown) => setError(toUiError(caught)));
  }, [model, runId]);

  const run: RunSummary | undefined = summary ?? listed;
  // Replay and re-run need the run's strategy in the registry (a user program run from the command
  // line has none); while the registry is not loaded, the engine decides.
  const unregistered =
    run !== undefined && strategies !== null && findStrategy(strategies, run.strategy) === undefined;
  // A summary read while the run was still running may predate its outputs: only a finished one says "none".
  const nothingRecorded = run !== undefined && run.status !== 'running' && run.recordedCalls === 0;
  const replayDescription = nothingRecorded
    ? 'This run recorded no model outputs (it stopped before its first model call), so there is nothing to replay'
    : unregistered
      ? `This run used "${run.strategy}", which the app cannot start; export its replay file and run it from the command line`
      : REPLAY_DESCRIPTION;

  async function download(format: 'json' | 'replay'): Promise<void> {
    setError(null);
    try {
      const file = await model.bridge.invoke('exportRun', { runId, format });
      const url = URL.createObjectURL(new Blob([file.content], { type: file.mimeType }));
      const link = document.createElement('a');
      link.href = url;
      link.download = file.fileName;
      document.body.append(link);
      link.click();
      link.remove();
      // Revoke later: some browsers read the URL after click() returns.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  function rerun(): void {
    if (!run) return;
    model.ask.setDraft({
      question: run.question,
      corpus: run.corpus ?? '',
      ...(unregistered ? {} : { strategy: run.strategy }),
      model: run.model === 'none' ? '' : run.model,
      k: run.k === null ? '' : String(run.k),
      ...(run.mode ? { mode: run.mode } : {}),
    });
    // The run's options become the form's edits (values equal to the defaults show as unchanged).
    if (!unregistered && run.strategyOptions) {
      model.ask.resetOptions(run.strategy);
      for (const [key, value] of Object.entries(run.strategyOptions))
        model.ask.setOption(run.strategy, key, typeof value === 'boolean' ? value : String(value));
    }
    model.app.navigate('ask');
  }

  async function replay(): Promise<void> {
    setError(null);
    setReplaying(true);
    try {
      const newRunId = await model.runs.replay(runId);
      model.history.open(newRunId);
    } catch (caught) {
      setError(toUiError(caught));
    } finally {
      setReplaying(false);
    }
  }

  const running = (liveStatus ?? run?.status) === 'running';

  return (
    <div className="view">
      <div className="toolbar toolbar--top">
        <button
          type="button"
          className="button"
          onClick={() => model.history.open(null)}
          data-testid="history-back"
        >
          ← All runs
        </button>
        <span className="spacer" />
        <button
          type="button"
          className="button"
          onClick={() => void download('json')}
          data-testid="export-json"
        >
          Export JSON
        </button>
        <button
          type="button"
          className="button"
          onClick={() => void download('replay')}
          disabled={nothingRecorded}
          data-testid="export-replay"
        >
          Export replay file
        </button>
        <button
          type="button"
          className="button"
          onClick={() => void replay()}
          disabled={!run || running || replaying || unregistered || nothingRecorded}
          title={replayDescription}
          aria-describedby="replay-description"
          data-testid="replay-run"
        >
          {replaying ? 'Replaying…' : 'Replay'}
        </button>
        <span id="replay-description" className="visually-hidden">
          {replayDescription}
        </span>
        <button
          type="button"
          className="button button--primary"
          onClick={rerun}
          disabled={!run}
          data-testid="rerun"
        >
          Re-run…
        </button>
      </div>
      <ErrorNote error={error} />
      <RunView runId={runId} />
    </div>
  );
}
