import { useState } from 'react';
import { formatMs, inline } from '../format.ts';
import type { TimelineEvent } from './runState.ts';

/** Timeline entries rendered at most, newest kept. Default 400. */
export const MAX_TIMELINE_ENTRIES = 400;

/**
 * The run step by step: model calls, programs, syntax errors, executions, repairs, boosts, retries,
 * warnings, strategy steps (their title and detail; the generic step list shows their data), the outcome.
 */
export function StepTimeline(props: {
  events: readonly TimelineEvent[];
  startedAt: number | null;
  onShowProgram: (attempt: number) => void;
  /** The label of a strategy id (from listStrategies). */
  strategyLabel: (id: string) => string;
}): React.JSX.Element {
  const { events, startedAt, onShowProgram, strategyLabel } = props;
  const [showLlm, setShowLlm] = useState(false);
  const visible = showLlm ? events : events.filter((e) => e.type !== 'llm-call');
  const shown = visible.slice(-MAX_TIMELINE_ENTRIES);
  return (
    <section className="panel" aria-labelledby="steps-heading">
      <header className="panel__header">
        <h3 id="steps-heading" className="panel__title">
          Steps
        </h3>
        <label className="inline-field">
          <input type="checkbox" checked={showLlm} onChange={(e) => setShowLlm(e.target.checked)} />
          <span>Show model calls</span>
        </label>
      </header>
      {visible.length > shown.length && (
        <p className="muted panel__meta">
          Showing the last {shown.length} of {visible.length} steps.
        </p>
      )}
      <ol className="steps" data-testid="step-timeline">
        {shown.map((event) => (
          <li key={event.seq} className={`step step--${event.type}`} data-testid={`step-${event.type}`}>
            <span className="step__time mono">
              {startedAt !== null ? `+${formatMs(event.at - startedAt)}` : ''}
            </span>
            <span className="step__kind">
              {event.type === 'step' ? inline(event.kind, 24) : KIND_LABEL[event.type]}
            </span>
            <span className="step__text">{describe(event, onShowProgram, strategyLabel)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

const KIND_LABEL: Record<TimelineEvent['type'], string> = {
  'run-started': 'start',
  decomposition: 'decompose',
  'llm-call': 'model',
  retry: 'retry',
  'program-generated': 'program',
  'syntax-error': 'syntax',
  'execution-started': 'execute',
  log: 'console',
  'runtime-error': 'error',
  'repair-requested': 'repair',
  'retrieval-boosted': 'boost',
  step: 'step',
  warning: 'warning',
  'final-answer': 'answer',
  'run-finished': 'finish',
};

function describe(
  event: TimelineEvent,
  onShowProgram: (attempt: number) => void,
  strategyLabel: (id: string) => string,
): React.ReactNode {
  switch (event.type) {
    case 'run-started':
      return `${strategyLabel(event.strategy)} · model ${event.model}${event.corpus ? ` · corpus ${event.corpus}` : ''}`;
    case 'decomposition':
      return event.fallback
        ? `Decomposition failed after ${event.attempts} attempts; using the question itself.`
        : `${event.subQuestions.length} sub-question${event.subQuestions.length === 1 ? '' : 's'} (attempt ${event.attempts}).`;
    case 'llm-call':
      return `${event.role} #${event.callIndex}: ${event.promptTokens} prompt + ${event.completionTokens} generated tokens in ${formatMs(event.durationMs)}`;
    case 'retry':
      return `${event.role}: attempt ${event.attempt}/${event.maxAttempts} failed (${event.reason}); ${
        event.outcome === 'retrying' ? `retrying in ${formatMs(event.delayMs)}` : 'giving up'
      }`;
    case 'program-generated':
      return (
        <>
          Program attempt {event.attempt} ({event.purpose}, {event.code.split('\n').length} lines){' '}
          <button type="button" className="link" onClick={() => onShowProgram(event.attempt)}>
            show
          </button>
        </>
      );
    case 'syntax-error':
      return `Attempt ${event.attempt} does not parse${event.line !== null ? ` (line ${event.line})` : ''}: ${event.message}`;
    case 'execution-started':
      return `Execution ${event.execution}${
        event.boosted.length
          ? ` with boosted retrieval: ${event.boosted.map((b) => `tool call #${b.callIndex} → k=${b.k}`).join(', ')}`
          : ''
      }`;
    case 'log':
      return `console.${event.level}: ${inline(event.message)}`;
    case 'runtime-error':
      return `${event.kind}${event.errorName ? ` (${event.errorName})` : ''}${event.line !== null ? ` on line ${event.line}` : ''}: ${event.message}`;
    case 'repair-requested':
      return (
        <span data-testid="repair-event">
          Repair round {event.round}: asking the model to fix {event.kind}
          {event.line !== null ? ` on line ${event.line}` : ''} — {inline(event.message, 120)}
        </span>
      );
    case 'retrieval-boosted':
      return (
        <span data-testid="boost-event">
          Adaptive retrieval ({event.path}): “{event.sentinel}” → tool call #{event.callIndex} re-run at k=
          {event.toK} (was {event.fromK})
        </span>
      );
    case 'step':
      return event.detail ? `${inline(event.title)} — ${inline(event.detail)}` : inline(event.title);
    case 'warning':
      return event.message;
    case 'final-answer':
      return `Answer: ${inline(event.answer)}`;
    case 'run-finished':
      return event.error ? `Run ${event.status}: ${event.error.message}` : `Run ${event.status}.`;
  }
}
