import { SIMULATE_TOOL } from './programDecorations.ts';
import type { ExecutionEntry } from './runState.ts';

/** Lines of an execution where a helper call was simulated by the model (Chain-of-Code, ICRAG). */
function simulatedLines(execution: ExecutionEntry): Set<number> {
  return new Set(
    execution.toolCalls
      .filter((call) => call.tool === SIMULATE_TOOL && call.line !== null)
      .map((call) => call.line as number),
  );
}

/** Every top-level binding an execution made, in order: name, value preview, line. */
export function BindingsTable(props: {
  executions: readonly ExecutionEntry[];
  shown: ExecutionEntry | null;
  onSelectExecution: (execution: number | null) => void;
  onShowLine: (line: number, execution: number) => void;
}): React.JSX.Element {
  const { executions, shown, onSelectExecution, onShowLine } = props;
  return (
    <section className="panel" aria-labelledby="bindings-heading">
      <header className="panel__header">
        <h3 id="bindings-heading" className="panel__title">
          Bindings
        </h3>
        {executions.length > 1 && (
          <label className="inline-field">
            <span>Execution</span>
            <select
              value={shown?.execution ?? ''}
              onChange={(e) => onSelectExecution(e.target.value === '' ? null : Number(e.target.value))}
              data-testid="bindings-execution"
            >
              {executions.map((e) => (
                <option key={e.execution} value={e.execution}>
                  {executionLabel(e)}
                </option>
              ))}
            </select>
          </label>
        )}
      </header>
      {shown === null ? (
        <p className="muted panel__empty">Bindings appear as the program runs.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--compact" data-testid="bindings-table">
            <caption className="visually-hidden">Bindings of {executionLabel(shown)}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
                <th scope="col" className="num">
                  Line
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.bindings.length === 0 && (
                <tr>
                  <td colSpan={3} className="muted">
                    No bindings yet.
                  </td>
                </tr>
              )}
              {shown.bindings.map((b) => (
                <tr key={b.seq} data-testid="binding-row">
                  <td className="mono strong">{b.name}</td>
                  <td className="mono preview" title={b.preview}>
                    {b.preview}
                    {simulatedLines(shown).has(b.line) && (
                      <span
                        className="badge"
                        data-testid="binding-simulated"
                        title="This line's value came from a helper call the model simulated"
                      >
                        simulated
                      </span>
                    )}
                  </td>
                  <td className="num">
                    <button
                      type="button"
                      className="link mono"
                      onClick={() => onShowLine(b.line, shown.execution)}
                      aria-label={`Show line ${b.line} in the program`}
                    >
                      {b.line}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function executionLabel(e: ExecutionEntry): string {
  const parts = [`Execution ${e.execution}`];
  if (e.programAttempt !== null) parts.push(`program #${e.programAttempt}`);
  if (e.boosted.length > 0) parts.push(`boosted k=${e.boosted.map((b) => b.k).join('/')}`);
  if (e.runtimeError) parts.push(e.runtimeError.kind);
  return parts.join(' · ');
}
