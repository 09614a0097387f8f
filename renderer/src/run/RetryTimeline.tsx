import { formatMs } from '../format.ts';
import type { TraceEventOf } from './runState.ts';

/**
 * Every retry of a model call with its backoff: attempt n/max, role, reason, the delay waited
 * (drawn to scale against the longest), and whether it retried or gave up.
 */
export function RetryTimeline(props: {
  retries: readonly TraceEventOf<'retry'>[];
  startedAt: number | null;
}): React.JSX.Element {
  const { retries, startedAt } = props;
  const maxDelay = Math.max(1, ...retries.map((r) => r.delayMs));
  const gaveUp = retries.filter((r) => r.outcome === 'giving-up').length;
  return (
    <section
      className={`panel panel--retry${retries.length > 0 ? ' has-items' : ''}`}
      aria-labelledby="retry-heading"
    >
      <header className="panel__header">
        <h3 id="retry-heading" className="panel__title">
          Retries &amp; backoff <span className="count">{retries.length}</span>
        </h3>
        {gaveUp > 0 && <span className="badge badge--error">{gaveUp} gave up</span>}
      </header>
      <ol className="retry-list" data-testid="retry-timeline" aria-label="Retry and backoff timeline">
        {retries.length === 0 && <li className="muted retry-list__empty">No model call needed a retry.</li>}
        {retries.map((r) => (
          <li key={r.seq} className={`retry retry--${r.outcome}`} data-testid="retry-event">
            <span className="retry__time mono">
              {startedAt !== null ? `+${formatMs(r.at - startedAt)}` : ''}
            </span>
            <span className="retry__main">
              <span className="retry__attempt">
                <span className="mono">{r.role}</span> attempt {r.attempt}/{r.maxAttempts}
              </span>
              <span className="retry__reason">{r.reason}</span>
            </span>
            <span className="retry__delay">
              <span className="retry__bar" aria-hidden="true">
                <span style={{ width: `${(r.delayMs / maxDelay) * 100}%` }} />
              </span>
              {r.outcome === 'retrying' ? `retry in ${formatMs(r.delayMs)}` : 'gave up'}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
