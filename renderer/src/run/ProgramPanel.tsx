import { ProgramCode } from './ProgramCode.tsx';
import type { ExecutionEntry, ProgramAttempt } from './runState.ts';

/** Labels of the purposes the UI knows better names for; any other purpose is shown as it is. */
const PURPOSE_LABEL: Readonly<Record<string, string>> = { user: 'your program' };

function purposeLabel(purpose: string): string {
  return PURPOSE_LABEL[purpose] ?? purpose;
}

/** The run's programs: every attempt selectable (plan / repair / fallback, syntax errors marked). */
export function ProgramPanel(props: {
  programs: readonly ProgramAttempt[];
  shown: ProgramAttempt | null;
  following: boolean;
  onSelect: (attempt: number | null) => void;
  execution: ExecutionEntry | null;
  executing: { line: number; inFlight: boolean } | null;
  focusLine: number | null;
  executionsOf: (attempt: number) => number[];
}): React.JSX.Element {
  const { programs, shown, following, onSelect, execution, executing, focusLine, executionsOf } = props;
  return (
    <section className="panel" aria-labelledby="program-heading">
      <header className="panel__header">
        <h3 id="program-heading" className="panel__title">
          Program
        </h3>
        {programs.length > 1 && (
          <div className="segmented" role="group" aria-label="Program attempts">
            {programs.map((p) => {
              const runs = executionsOf(p.attempt);
              const state = p.syntaxError
                ? 'syntax error'
                : runs.length > 0
                  ? `ran in execution ${runs.join(', ')}`
                  : 'not run';
              return (
                <button
                  key={p.attempt}
                  type="button"
                  className={`segmented__item${shown?.attempt === p.attempt ? ' is-selected' : ''}${p.syntaxError ? ' is-bad' : ''}`}
                  aria-pressed={shown?.attempt === p.attempt}
                  title={`Attempt ${p.attempt} (${purposeLabel(p.purpose)}): ${state}`}
                  data-testid={`program-attempt-${p.attempt}`}
                  onClick={() => onSelect(p.attempt)}
                >
                  #{p.attempt} {purposeLabel(p.purpose)}
                  {p.syntaxError ? ' ✗' : ''}
                </button>
              );
            })}
            <button
              type="button"
              className={`segmented__item${following ? ' is-selected' : ''}`}
              aria-pressed={following}
              title="Always show the newest program"
              onClick={() => onSelect(null)}
            >
              latest
            </button>
          </div>
        )}
      </header>
      {shown ? (
        <>
          <p className="panel__meta">
            Attempt {shown.attempt} · {purposeLabel(shown.purpose)}
            {shown.syntaxError
              ? ' · did not parse'
              : execution
                ? ` · values from execution ${execution.execution}`
                : ' · not executed yet'}
          </p>
          <ProgramCode program={shown} execution={execution} executing={executing} focusLine={focusLine} />
        </>
      ) : (
        <p className="muted panel__empty">The program appears here once the model has written it.</p>
      )}
    </section>
  );
}
