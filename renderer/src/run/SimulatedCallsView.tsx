import type { StrategyStep } from './runState.ts';
import { simulatedCalls } from './strategyTrace.ts';

/** Characters of a simulated call's arguments or value shown at most. Default 200. */
export const MAX_SIMULATED_TEXT = 200;

function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? 'undefined';
  } catch {
    text = String(value);
  }
  return text.length > MAX_SIMULATED_TEXT ? `${text.slice(0, MAX_SIMULATED_TEXT - 1)}…` : text;
}

/**
 * Chain-of-Code's (and ICRAG's) simulated lines: each helper call the program made that no code
 * defines — or undeclared name it read — with the value the model gave it. Every other line of the
 * program was executed by the sandbox (the program view and bindings table mark the simulated ones).
 */
export function SimulatedCallsView(props: {
  steps: readonly StrategyStep[];
  /** The program that ran; with it, each of its lines is shown as run by the sandbox or simulated. */
  program?: string | null;
}): React.JSX.Element {
  const calls = simulatedCalls(props.steps);
  const simulatedLines = new Set(calls.flatMap((call) => (call.line === null ? [] : [call.line])));
  return (
    <section className="panel" aria-labelledby="simulated-heading" data-testid="simulated-calls">
      <header className="panel__header">
        <h3 id="simulated-heading" className="panel__title">
          Simulated by the model <span className="count">{calls.length}</span>
        </h3>
      </header>
      {calls.length === 0 ? (
        <p className="muted panel__empty">No line was simulated: the sandbox executed every line.</p>
      ) : (
        <div className="table-wrap">
          <table className="table table--compact">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Line
                </th>
                <th scope="col">Call</th>
                <th scope="col">Simulated value</th>
              </tr>
            </thead>
            <tbody>
              {calls.map((call) => (
                <tr key={call.seq} data-testid="simulated-call">
                  <td className="num mono">{call.line ?? '–'}</td>
                  <td className="mono">
                    {call.args === null ? call.name : `${call.name}(${call.args.map(shown).join(', ')})`}
                  </td>
                  <td className="mono">
                    <span data-testid="simulated-value">{shown(call.value)}</span>{' '}
                    <span className="badge">simulated</span>
                    {call.attempts > 1 && <span className="muted small"> ({call.attempts} tries)</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {props.program && (
        <details className="simulated-lines">
          <summary>Lines executed vs simulated</summary>
          <ol className="simulated-lines__list mono small" data-testid="simulated-lines">
            {props.program.split('\n').map((text, i) => {
              const simulated = simulatedLines.has(i + 1);
              return (
                <li
                  key={i}
                  className={simulated ? 'simulated-lines__line--simulated' : undefined}
                  data-testid="simulated-line"
                  data-mode={simulated ? 'simulated' : 'executed'}
                >
                  <span className="simulated-lines__mark">{simulated ? 'sim' : 'run'}</span> {text}
                </li>
              );
            })}
          </ol>
          <p className="muted small">
            run: executed by the sandbox (when reached) · sim: a call on the line was answered by the model.
          </p>
        </details>
      )}
    </section>
  );
}
