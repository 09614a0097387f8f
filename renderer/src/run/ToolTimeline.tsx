import { formatArgs, formatMs, inline, shortPath } from '../format.ts';
import { executionLabel } from './BindingsTable.tsx';
import { DEFAULT_CACHED_FROM } from './programDecorations.ts';
import type { ExecutionEntry, RetrievedChunk } from './runState.ts';

/**
 * Tool calls per execution — any host tool the strategy offers — with arguments, line, duration and
 * result; passages expand. A result served from an earlier execution of the run (its inputs were
 * unchanged after a retrieval boost) is marked "cached"; the boosted calls of an execution are listed.
 */
export function ToolTimeline(props: {
  executions: readonly ExecutionEntry[];
  liveCall: { execution: number; callIndex: number } | null;
  onOpenChunk: (chunk: RetrievedChunk) => void;
  onShowLine: (line: number, execution: number) => void;
  /** Where cached results came from. Default: DEFAULT_CACHED_FROM (the previous execution of this run). */
  cachedFrom?: string;
}): React.JSX.Element {
  const { executions, liveCall, onOpenChunk, onShowLine } = props;
  const cachedFrom = props.cachedFrom ?? DEFAULT_CACHED_FROM;
  const total = executions.reduce((sum, e) => sum + e.toolCalls.length, 0);
  return (
    <section className="panel" aria-labelledby="tools-heading">
      <header className="panel__header">
        <h3 id="tools-heading" className="panel__title">
          Tool calls <span className="count">{total}</span>
        </h3>
      </header>
      <div data-testid="tool-timeline">
        {executions.length === 0 && <p className="muted panel__empty">No tool calls yet.</p>}
        {executions.map((execution) => (
          <div key={execution.execution} className="tool-group">
            <h4 className="tool-group__title">{executionLabel(execution)}</h4>
            {execution.boosted.length > 0 && (
              <p className="tool-group__note" data-testid="execution-boosted">
                Boosted: {execution.boosted.map((b) => `tool call #${b.callIndex} → k=${b.k}`).join(', ')}
              </p>
            )}
            {cachedCount(execution) > 0 && (
              <p className="tool-group__note" data-testid="execution-cached">
                {cachedCount(execution)} of {execution.toolCalls.length} tool calls served from {cachedFrom}{' '}
                (inputs unchanged), not run again.
              </p>
            )}
            <ol className="tool-list">
              {execution.toolCalls.map((call) => {
                const live =
                  liveCall?.execution === call.execution &&
                  liveCall.callIndex === call.callIndex &&
                  call.result === null;
                const result = call.result;
                return (
                  <li
                    key={call.callIndex}
                    className={`tool-call tool-call--${toolClass(call.tool)}${result?.error ? ' is-failed' : ''}${live ? ' is-live' : ''}${result?.cached ? ' is-cached' : ''}`}
                    data-testid="tool-call"
                    data-tool={call.tool}
                    data-cached={result?.cached === true}
                  >
                    <details>
                      <summary>
                        <span className="tool-call__chevron" aria-hidden="true">
                          ▸
                        </span>
                        <span className="tool-call__index">#{call.callIndex}</span>
                        <code className="tool-call__sig">
                          <span className="tok tok--tool">{call.tool}</span>(
                          {inline(formatArgs(call.args), 90)})
                        </code>
                        <span className="tool-call__result">
                          {result?.cached && (
                            <span
                              className="badge badge--cached"
                              title={`Served from ${cachedFrom}: same inputs, not run again`}
                              data-testid="tool-cached"
                            >
                              cached
                            </span>
                          )}{' '}
                          {live ? (
                            <span className="badge badge--live">running…</span>
                          ) : result?.error ? (
                            <span className="text-error">failed: {inline(result.error, 80)}</span>
                          ) : result ? (
                            <>→ {inline(result.summary, 80)}</>
                          ) : null}
                        </span>
                        <span className="tool-call__meta">
                          {result ? (result.cached ? 'cached' : formatMs(result.durationMs)) : ''}
                          {call.line !== null && ` · L${call.line}`}
                        </span>
                      </summary>
                      <div className="tool-call__body">
                        <dl className="kv">
                          <dt>Arguments</dt>
                          <dd>
                            <pre className="pre-wrap mono">{formatArgs(call.args) || '(none)'}</pre>
                          </dd>
                          {call.line !== null && (
                            <>
                              <dt>Line</dt>
                              <dd>
                                <button
                                  type="button"
                                  className="link"
                                  onClick={() => onShowLine(call.line!, call.execution)}
                                >
                                  Show line {call.line} in the program
                                </button>
                              </dd>
                            </>
                          )}
                          {result?.cached && (
                            <>
                              <dt>Source</dt>
                              <dd>The call with the same inputs in {cachedFrom} (not run again).</dd>
                            </>
                          )}
                          {result && result.answer === null && result.chunks === null && !result.error && (
                            <>
                              <dt>Result</dt>
                              <dd className="mono pre-wrap">{result.summary}</dd>
                            </>
                          )}
                          {result?.answer !== null && result?.answer !== undefined && (
                            <>
                              <dt>Answer</dt>
                              <dd className="mono pre-wrap">{result.answer}</dd>
                            </>
                          )}
                          {result?.error && (
                            <>
                              <dt>Error</dt>
                              <dd className="text-error pre-wrap">{result.error}</dd>
                            </>
                          )}
                        </dl>
                        {result?.chunks && (
                          <table className="table table--compact passages" data-testid="retrieved-passages">
                            <caption className="visually-hidden">
                              Passages returned by tool call #{call.callIndex}
                            </caption>
                            <thead>
                              <tr>
                                <th scope="col" className="num">
                                  #
                                </th>
                                <th scope="col">Title</th>
                                <th scope="col" className="num">
                                  Score
                                </th>
                                <th scope="col">Source</th>
                              </tr>
                            </thead>
                            <tbody>
                              {result.chunks.map((chunk, i) => (
                                <tr key={`${chunk.id}-${i}`}>
                                  <td className="num muted">{i + 1}</td>
                                  <td>
                                    <button
                                      type="button"
                                      className="link"
                                      onClick={() => onOpenChunk(chunk)}
                                      title={`Open chunk ${chunk.id}`}
                                    >
                                      {chunk.title || `chunk ${chunk.id}`}
                                    </button>
                                  </td>
                                  <td className="num mono">{chunk.score.toFixed(3)}</td>
                                  <td className="mono small" title={chunk.source}>
                                    {shortPath(chunk.source, 1)}
                                  </td>
                                </tr>
                              ))}
                              {result.chunks.length === 0 && (
                                <tr>
                                  <td colSpan={4} className="muted">
                                    No passages.
                                  </td>
                                </tr>
                              )}
                            </tbody>
                          </table>
                        )}
                      </div>
                    </details>
                  </li>
                );
              })}
            </ol>
            {execution.logs.length > 0 && (
              <ul className="log-list" aria-label={`Console output of execution ${execution.execution}`}>
                {execution.logs.map((log) => (
                  <li key={log.seq} className={`log log--${log.level}`}>
                    <span className="mono">console.{log.level}</span> {log.message}
                  </li>
                ))}
              </ul>
            )}
            {execution.runtimeError && (
              <p className="text-error tool-group__error" role="note">
                ✗ {execution.runtimeError.kind}
                {execution.runtimeError.errorName ? ` (${execution.runtimeError.errorName})` : ''}
                {execution.runtimeError.line !== null ? ` on line ${execution.runtimeError.line}` : ''}:{' '}
                {execution.runtimeError.message}
              </p>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}

function cachedCount(execution: ExecutionEntry): number {
  return execution.toolCalls.filter((call) => call.result?.cached === true).length;
}

/** A tool name as a CSS class suffix (any tool name may come from a strategy). */
function toolClass(tool: string): string {
  return tool.replace(/[^A-Za-z0-9_-]/g, '_') || 'tool';
}
