import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { toUiError } from '../errors.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { formatMs } from '../format.ts';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import { strategyLabel } from '../state/strategiesStore.ts';
import { AnswerPanel } from './AnswerPanel.tsx';
import { BindingsTable } from './BindingsTable.tsx';
import { MetricsPanel } from './MetricsPanel.tsx';
import { PassageView, type PassageRequest } from './PassageView.tsx';
import { ProgramPanel } from './ProgramPanel.tsx';
import { DEFAULT_CACHED_FROM } from './programDecorations.ts';
import { RetryTimeline } from './RetryTimeline.tsx';
import { executingLine, runStatusText, type RunState } from './runState.ts';
import { StepTimeline } from './StepTimeline.tsx';
import { StrategyTrace } from './StrategyTrace.tsx';
import { ToolTimeline } from './ToolTimeline.tsx';

/** The host tools an edited program runs with (those of `reckon run-program`). */
const EDITED_PROGRAM_TOOLS: ReadonlySet<string> = new Set(['retrieve', 'answer']);

/**
 * One run, live or saved: question and status, the answer with citations, sub-questions, the
 * program (all attempts), bindings, tool calls, retries with backoff, every step, and the metrics.
 * A strategy that writes no program but reports its own steps gets its trace view (StrategyTrace:
 * the view suited to the method, else the generic step list) in the program's place.
 */
export function RunView(props: { runId: string; actions?: ReactNode }): React.JSX.Element {
  const { runId, actions } = props;
  const model = useAppModel();
  const run = useStore(model.runs.store, (s) => s.runs[runId]);
  if (!run) {
    return (
      <p className="muted" role="status" data-testid="run-status" data-run-id={runId}>
        Loading run {runId}…
      </p>
    );
  }
  return <RunDetails key={runId} run={run} actions={actions} />;
}

function RunDetails(props: { run: RunState; actions?: ReactNode }): React.JSX.Element {
  const { run, actions } = props;
  const model = useAppModel();
  const [selectedAttempt, setSelectedAttempt] = useState<number | null>(null);
  const [selectedExecution, setSelectedExecution] = useState<number | null>(null);
  const [focusLine, setFocusLine] = useState<number | null>(null);
  const [passage, setPassage] = useState<PassageRequest | null>(null);
  const [cancelError, setCancelError] = useState<ReturnType<typeof toUiError> | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const strategies = useStore(model.strategies.store, (s) => s.strategies);
  const labelOf = useCallback((id: string) => strategyLabel(strategies, id), [strategies]);
  // Program views for runs that have (or, with no steps of their own yet, may get) a program.
  const showProgram = run.programs.length > 0 || run.executions.length > 0 || run.steps.length === 0;

  const latestExecution = run.executions.at(-1) ?? null;
  const bindingsExecution =
    (selectedExecution !== null
      ? run.executions.find((e) => e.execution === selectedExecution)
      : undefined) ?? latestExecution;

  const shownProgram = useMemo(() => {
    if (selectedAttempt !== null) return run.programs.find((p) => p.attempt === selectedAttempt) ?? null;
    if (selectedExecution !== null) {
      const attempt = run.executions.find((e) => e.execution === selectedExecution)?.programAttempt;
      const program = run.programs.find((p) => p.attempt === attempt);
      if (program) return program;
    }
    return run.programs.at(-1) ?? null;
  }, [run.programs, run.executions, selectedAttempt, selectedExecution]);

  // The execution whose values decorate the code: the chosen one if it ran this program, else its latest.
  const codeExecution = useMemo(() => {
    if (!shownProgram) return null;
    const ofProgram = run.executions.filter((e) => e.programAttempt === shownProgram.attempt);
    return ofProgram.find((e) => e.execution === bindingsExecution?.execution) ?? ofProgram.at(-1) ?? null;
  }, [run.executions, shownProgram, bindingsExecution]);

  const executing = executingLine(run);
  const executingHere =
    executing && codeExecution && executing.execution === codeExecution.execution ? executing : null;

  const executionsOf = useCallback(
    (attempt: number) => run.executions.filter((e) => e.programAttempt === attempt).map((e) => e.execution),
    [run.executions],
  );

  const showLine = useCallback((line: number, execution: number) => {
    setSelectedExecution(execution);
    setSelectedAttempt(null);
    setFocusLine(line);
  }, []);

  const closePassage = useCallback(() => setPassage(null), []);
  const citedDocs = useMemo(
    () =>
      (run.answer?.citations ?? []).map((c) => ({
        id: c.chunkId,
        title: c.title,
        source: c.source,
        score: null,
      })),
    [run.answer],
  );

  async function cancel(): Promise<void> {
    setCancelling(true);
    setCancelError(null);
    try {
      await model.runs.cancel(run.runId);
    } catch (error) {
      setCancelError(toUiError(error));
    } finally {
      setCancelling(false);
    }
  }

  const liveCall = run.lastToolCall && run.status === 'running' ? run.lastToolCall : null;
  const statusText = runStatusText(run);
  const children = useStore(model.runs.store, (s) => s.children[run.runId]) ?? [];
  const cachedFrom =
    run.parentRunId !== null
      ? `run ${run.parentRunId}, which this program was edited from`
      : DEFAULT_CACHED_FROM;

  /** Opens another run in History (the run an edited one came from, or one made from this). */
  const openRun = useCallback(
    (runId: string) => {
      model.history.open(runId);
      model.app.navigate('history');
    },
    [model],
  );

  // An edited program runs with the tools of `reckon run-program`: a run whose programs used others
  // (Chain-of-Code's simulated helpers, …) cannot be re-run that way.
  const otherTools = useMemo(
    () => [
      ...new Set(
        run.executions
          .flatMap((e) => e.toolCalls.map((c) => c.tool))
          .filter((t) => !EDITED_PROGRAM_TOOLS.has(t)),
      ),
    ],
    [run.executions],
  );
  const editing = useMemo(
    () => ({
      unavailable:
        run.status === 'running'
          ? 'The run is still running; wait for it to finish (or cancel it), then run an edited program.'
          : otherTools.length > 0
            ? `This run's program called ${otherTools.map((t) => `${t}()`).join(', ')}, which an edited program cannot call: it runs with retrieve() and answer() only.`
            : null,
      run: async (code: string, execution: number | null) => {
        const newRunId = await model.runs.rerunProgram({
          fromRunId: run.runId,
          program: code,
          ...(execution !== null ? { execution } : {}),
        });
        openRun(newRunId);
      },
    }),
    [model, run.runId, run.status, otherTools, openRun],
  );

  return (
    <article className="run" aria-label="Run">
      <header className="run__header">
        <div className="run__heading">
          <h2 className="run__question">{run.question ?? 'Run'}</h2>
          <p className="run__meta">
            {[
              run.strategy && labelOf(run.strategy),
              run.model && `model ${run.model}`,
              run.corpus && `corpus ${run.corpus}`,
            ]
              .filter(Boolean)
              .join(' · ')}
            <span className="mono muted"> · {run.runId}</span>
          </p>
          {(run.parentRunId !== null || children.length > 0) && (
            <p className="run__meta run__lineage" data-testid="run-lineage">
              {run.parentRunId !== null && (
                <span>
                  Edited from{' '}
                  <button
                    type="button"
                    className="link mono"
                    onClick={() => openRun(run.parentRunId!)}
                    data-testid="run-parent"
                  >
                    {run.parentRunId}
                  </button>
                </span>
              )}
              {children.length > 0 && (
                <span>
                  {run.parentRunId !== null ? ' · ' : ''}Edited into{' '}
                  {children.map((child, index) => (
                    <span key={child}>
                      {index > 0 ? ', ' : ''}
                      <button
                        type="button"
                        className="link mono"
                        onClick={() => openRun(child)}
                        data-testid="run-child"
                      >
                        {child}
                      </button>
                    </span>
                  ))}
                </span>
              )}
            </p>
          )}
        </div>
        <div className="run__controls">
          {/* The pill is cut to one line; hover or focus shows all of it (title, and CSS unfolds it). */}
          <span
            className={`status status--${run.status}`}
            role="status"
            aria-live="polite"
            tabIndex={0}
            title={statusText}
            aria-describedby={`run-status-full-${run.runId}`}
            data-testid="run-status"
            data-status={run.status}
            data-run-id={run.runId}
          >
            {statusText}
          </span>
          <span id={`run-status-full-${run.runId}`} className="visually-hidden">
            {statusText}
          </span>
          <Elapsed run={run} />
          {run.status === 'running' && (
            <button
              type="button"
              className="button button--danger"
              onClick={() => void cancel()}
              disabled={cancelling}
              data-testid="run-cancel"
            >
              {cancelling ? 'Cancelling…' : 'Cancel run'}
            </button>
          )}
          {actions}
        </div>
      </header>
      <ErrorNote error={cancelError} />
      {run.warnings.length > 0 && (
        <div className="note note--warning" role="note" data-testid="run-warnings">
          {[...new Set(run.warnings)].map((w) => (
            <p key={w} className="note__text">
              ⚠ {w}
            </p>
          ))}
        </div>
      )}

      <AnswerPanel
        run={run}
        onOpenCitation={(c) =>
          setPassage({
            corpus: run.corpus,
            chunkId: c.chunkId,
            title: c.title,
            source: c.source,
            score: null,
          })
        }
      />

      {run.decomposition && (
        <section className="subq" aria-labelledby="subq-heading" data-testid="decomposition">
          <h3 id="subq-heading" className="panel__title">
            Sub-questions
            {run.decomposition.fallback && (
              <span className="badge badge--warn">decomposition failed; using the question</span>
            )}
          </h3>
          <ol className="subq__list">
            {run.decomposition.subQuestions.map((q, i) => (
              <li key={i}>{q}</li>
            ))}
          </ol>
        </section>
      )}

      <div className="run__grid">
        <div className="run__col">
          <StrategyTrace
            strategy={run.strategy}
            steps={run.steps}
            startedAt={run.startedAt}
            program={run.programs.at(-1)?.code ?? null}
            knownDocs={citedDocs}
            onOpenDoc={(doc) =>
              setPassage({
                corpus: run.corpus,
                chunkId: doc.id,
                title: doc.title,
                source: doc.source,
                score: doc.score,
              })
            }
          />
          {showProgram && (
            <>
              <ProgramPanel
                programs={run.programs}
                shown={shownProgram}
                following={selectedAttempt === null}
                onSelect={(attempt) => {
                  setSelectedAttempt(attempt);
                  if (attempt === null) setSelectedExecution(null);
                  setFocusLine(null);
                }}
                execution={codeExecution}
                executing={executingHere}
                focusLine={focusLine}
                executionsOf={executionsOf}
                cachedFrom={cachedFrom}
                editing={editing}
              />
              <BindingsTable
                executions={run.executions}
                shown={bindingsExecution}
                onSelectExecution={(execution) => {
                  setSelectedExecution(execution);
                  setSelectedAttempt(null);
                  setFocusLine(null);
                }}
                onShowLine={showLine}
              />
            </>
          )}
        </div>
        <div className="run__col">
          <RetryTimeline retries={run.retries} startedAt={run.startedAt} />
          <ToolTimeline
            cachedFrom={cachedFrom}
            executions={run.executions}
            liveCall={liveCall}
            onShowLine={showLine}
            onOpenChunk={(chunk) =>
              setPassage({
                corpus: run.corpus,
                chunkId: chunk.id,
                title: chunk.title,
                source: chunk.source,
                score: chunk.score,
              })
            }
          />
          <StepTimeline
            events={run.timeline}
            startedAt={run.startedAt}
            strategyLabel={labelOf}
            onShowProgram={(attempt) => {
              setSelectedAttempt(attempt);
              setFocusLine(null);
            }}
          />
        </div>
      </div>

      <MetricsPanel run={run} />

      {passage && <PassageView request={passage} onClose={closePassage} />}
    </article>
  );
}

/** Time since the run started, ticking while it runs. */
function Elapsed(props: { run: RunState }): React.JSX.Element | null {
  const { run } = props;
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (run.status !== 'running') return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [run.status]);
  if (run.startedAt === null) return null;
  const end =
    run.finishedAt ?? (run.status === 'running' ? Math.max(now, run.lastEventAt ?? now) : run.lastEventAt);
  if (end === null) return null;
  return (
    <span className="run__elapsed mono" aria-label="Elapsed time">
      {formatMs(Math.max(0, end - run.startedAt))}
    </span>
  );
}
