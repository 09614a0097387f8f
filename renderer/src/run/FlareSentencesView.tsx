import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import type { StrategyStep } from './runState.ts';
import { flareTrace, markTokens, type StepDoc } from './strategyTrace.ts';

/**
 * FLARE's answer sentence by sentence: each with its lowest token probability; a sentence whose
 * look-ahead had low-confidence tokens shows them highlighted, the masked query it retrieved with,
 * the passages found, and the sentence regenerated over them.
 */
export function FlareSentencesView(props: {
  steps: readonly StrategyStep[];
  known: ReadonlyMap<number, StepDoc>;
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const { initialRetrieval, sentences } = flareTrace(props.steps, props.known);
  return (
    <section className="panel" aria-labelledby="flare-heading" data-testid="flare-sentences">
      <header className="panel__header">
        <h3 id="flare-heading" className="panel__title">
          Sentences and active retrieval <span className="count">{sentences.length}</span>
        </h3>
      </header>
      <ol className="trace-chain">
        {initialRetrieval && (
          <li
            className="trace-chain__item trace-chain__item--retrieval"
            data-testid="flare-initial-retrieval"
          >
            <p className="trace-chain__line">
              <span className="badge">retrieve</span> <span className="muted">with the question: </span>
              {initialRetrieval.query}
            </p>
            <StepDocs docs={initialRetrieval.docs} onOpen={props.onOpenDoc} />
          </li>
        )}
        {sentences.map((s) => (
          <li
            key={s.seq}
            className="trace-chain__item"
            data-testid="flare-sentence"
            data-triggered={s.triggeredRetrieval}
          >
            <p className="trace-chain__line">
              <span className="badge">sentence {s.index}</span>{' '}
              {s.triggeredRetrieval ? (
                <span className="badge badge--warn">low confidence → retrieved</span>
              ) : (
                <span className="badge badge--ok">accepted</span>
              )}{' '}
              {s.minProbability !== null && (
                <span className="muted small">lowest token probability {s.minProbability.toFixed(2)}</span>
              )}
            </p>
            {s.triggeredRetrieval ? (
              <>
                <p className="trace-chain__line">
                  <span className="muted">Look-ahead: </span>
                  {markTokens(s.lookahead, s.lowConfidenceTokens).map((segment, i) =>
                    segment.probability === null ? (
                      <span key={i}>{segment.text}</span>
                    ) : (
                      <mark
                        key={i}
                        className="flare-token"
                        data-testid="flare-low-token"
                        title={`probability ${segment.probability.toFixed(2)}`}
                      >
                        {segment.text}
                      </mark>
                    ),
                  )}
                </p>
                <p className="trace-chain__line">
                  <span className="muted">Masked query: </span>
                  <span className="mono" data-testid="flare-query">
                    {s.query ?? ''}
                  </span>
                </p>
                <StepDocs docs={s.docs} onOpen={props.onOpenDoc} />
                <p className="trace-chain__line">
                  <span className="muted">Regenerated: </span>
                  <span data-testid="flare-text">{s.sentence}</span>
                </p>
              </>
            ) : (
              <p className="trace-chain__line" data-testid="flare-text">
                {s.sentence}
              </p>
            )}
          </li>
        ))}
      </ol>
    </section>
  );
}
