import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import type { StrategyStep } from './runState.ts';
import { selfAskChain } from './strategyTrace.ts';

const STOP_REASON: Record<string, string> = {
  cap: 'forced at the follow-up cap',
  'no-follow-up': 'forced: the model asked no follow-up question',
};

/** Self-Ask's follow-up chain: each question → intermediate answer, with the passages found for it. */
export function SelfAskChainView(props: {
  steps: readonly StrategyStep[];
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const { followUps, final } = selfAskChain(props.steps);
  return (
    <section className="panel" aria-labelledby="self-ask-heading" data-testid="self-ask-chain">
      <header className="panel__header">
        <h3 id="self-ask-heading" className="panel__title">
          Follow-up chain <span className="count">{followUps.length}</span>
        </h3>
      </header>
      {followUps.length === 0 && final === null && (
        <p className="muted panel__empty">Follow-up questions appear as the model asks them.</p>
      )}
      <ol className="trace-chain">
        {followUps.map((f) => (
          <li key={f.seq} className="trace-chain__item" data-testid="self-ask-follow-up">
            <p className="trace-chain__line">
              <span className="badge">Follow up {f.step}</span>{' '}
              <span data-testid="self-ask-question">{f.question}</span>
            </p>
            <p className="trace-chain__line">
              <span className="muted">Intermediate answer: </span>
              <strong data-testid="self-ask-intermediate">{f.intermediateAnswer}</strong>
            </p>
            <StepDocs docs={f.docs} newIds={f.newDocIds} onOpen={props.onOpenDoc} />
          </li>
        ))}
        {final && (
          <li className="trace-chain__item trace-chain__item--final" data-testid="self-ask-final">
            <span className="muted">So the final answer is: </span>
            <strong>{final.answer}</strong>
            {final.forced && (
              <span className="badge badge--warn">{STOP_REASON[final.stopReason ?? ''] ?? 'forced'}</span>
            )}
          </li>
        )}
      </ol>
    </section>
  );
}
