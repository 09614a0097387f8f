import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import type { StrategyStep } from './runState.ts';
import { ircotChain } from './strategyTrace.ts';

/** IRCoT's reasoning: retrievals and chain-of-thought sentences interleaved, then what the reader read. */
export function IrcotChainView(props: {
  steps: readonly StrategyStep[];
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const { entries, reader } = ircotChain(props.steps);
  const thoughts = entries.filter((entry) => entry.kind === 'thought').length;
  return (
    <section className="panel" aria-labelledby="ircot-heading" data-testid="ircot-chain">
      <header className="panel__header">
        <h3 id="ircot-heading" className="panel__title">
          Interleaved reasoning and retrieval <span className="count">{thoughts}</span>
        </h3>
      </header>
      <ol className="trace-chain">
        {entries.map((entry) =>
          entry.kind === 'retrieval' ? (
            <li
              key={entry.seq}
              className="trace-chain__item trace-chain__item--retrieval"
              data-testid="ircot-retrieval"
            >
              <p className="trace-chain__line">
                <span className="badge">retrieve</span>{' '}
                <span className="muted">
                  {entry.step === 0 ? 'with the question: ' : `with sentence ${entry.step}: `}
                </span>
                <span data-testid="ircot-query">{entry.query}</span>
              </p>
              <StepDocs docs={entry.docs} newIds={entry.newDocIds} onOpen={props.onOpenDoc} />
            </li>
          ) : (
            <li key={entry.seq} className="trace-chain__item" data-testid="ircot-thought">
              <p className="trace-chain__line">
                <span className="badge">thought {entry.step}</span>{' '}
                <span data-testid="ircot-sentence">{entry.sentence}</span>
                {entry.answerSentence && <span className="badge badge--ok">states the answer</span>}
              </p>
            </li>
          ),
        )}
        {reader && (
          <li className="trace-chain__item trace-chain__item--final" data-testid="ircot-reader">
            <p className="trace-chain__line">
              <span className="badge">reader</span> read {reader.docs.length} of {reader.collected} collected
              passage{reader.collected === 1 ? '' : 's'}
            </p>
            <StepDocs docs={reader.docs} onOpen={props.onOpenDoc} />
          </li>
        )}
      </ol>
    </section>
  );
}
