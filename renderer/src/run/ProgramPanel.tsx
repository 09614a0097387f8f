import { useEffect, useState } from 'react';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { ProgramCode } from './ProgramCode.tsx';
import type { ExecutionEntry, ProgramAttempt } from './runState.ts';

/** What editing a run's program needs: whether it may be re-run now, and how. */
export interface ProgramEditing {
  /** Why the program cannot be re-run now (the run is still running…); null when it can. */
  unavailable: string | null;
  /** Runs the edited program (reusing the results of `execution`, the one shown); rejects with the bridge's error. */
  run(code: string, execution: number | null): Promise<void>;
}

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
  /** Where cached results came from, for their tooltips (see ProgramCode). */
  cachedFrom?: string;
  /** Edit & re-run; absent where the program cannot be edited. */
  editing?: ProgramEditing;
}): React.JSX.Element {
  const { programs, shown, following, onSelect, execution, executing, focusLine, executionsOf } = props;
  const { editing, cachedFrom } = props;
  const [draft, setDraft] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<UiError | null>(null);
  const isEditing = draft !== null;
  // Another program shown: the edit belonged to the previous one.
  useEffect(() => {
    setDraft(null);
    setError(null);
  }, [shown?.attempt]);

  async function runEdited(): Promise<void> {
    if (!editing || draft === null) return;
    setStarting(true);
    setError(null);
    try {
      await editing.run(draft, execution?.execution ?? null);
      setDraft(null);
    } catch (caught) {
      setError(toUiError(caught));
    } finally {
      setStarting(false);
    }
  }

  const empty = draft !== null && draft.trim() === '';
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
      {shown && editing && (
        <div className="toolbar program-edit" role="group" aria-label="Edit and re-run">
          <button
            type="button"
            className={`button${isEditing ? ' is-selected' : ''}`}
            aria-pressed={isEditing}
            onClick={() => {
              setError(null);
              setDraft(isEditing ? null : shown.code);
            }}
            data-testid="program-edit"
          >
            {isEditing ? 'Discard edits' : 'Edit program'}
          </button>
          {isEditing && (
            <button
              type="button"
              className="button button--primary"
              onClick={() => void runEdited()}
              disabled={starting || empty || editing.unavailable !== null}
              title={
                editing.unavailable ??
                (empty
                  ? 'The program is empty'
                  : 'Run the edited program: calls whose inputs did not change reuse this run’s results')
              }
              data-testid="program-run-edited"
            >
              {starting ? 'Starting…' : 'Run edited program'}
            </button>
          )}
          {isEditing && (
            <span className="muted small" data-testid="program-edit-hint">
              {editing.unavailable ??
                'Unchanged retrieve() and answer() calls reuse this run’s recorded results; new ones run.'}
            </span>
          )}
        </div>
      )}
      <ErrorNote error={error} testId="program-edit-error" />
      {shown ? (
        <>
          <p className="panel__meta">
            Attempt {shown.attempt} · {purposeLabel(shown.purpose)}
            {isEditing
              ? ' · editing (values hidden until it runs)'
              : shown.syntaxError
                ? ' · did not parse'
                : execution
                  ? ` · values from execution ${execution.execution}`
                  : ' · not executed yet'}
          </p>
          <ProgramCode
            program={shown}
            execution={execution}
            executing={executing}
            focusLine={focusLine}
            editable={isEditing}
            onEdit={setDraft}
            {...(cachedFrom !== undefined ? { cachedFrom } : {})}
          />
        </>
      ) : (
        <p className="muted panel__empty">The program appears here once the model has written it.</p>
      )}
    </section>
  );
}
