import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import type { StrategyStep } from './runState.ts';
import { iterRetgenRounds } from './strategyTrace.ts';

/** ITER-RETGEN's rounds: the query (question + previous generation), the passages it found, the generation. */
export function IterRetgenRoundsView(props: {
  steps: readonly StrategyStep[];
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const rounds = iterRetgenRounds(props.steps);
  return (
    <section className="panel" aria-labelledby="iter-retgen-heading" data-testid="iter-retgen-rounds">
      <header className="panel__header">
        <h3 id="iter-retgen-heading" className="panel__title">
          Retrieval–generation rounds <span className="count">{rounds.length}</span>
        </h3>
      </header>
      <ol className="trace-chain">
        {rounds.map((round) => (
          <li key={round.seq} className="trace-chain__item" data-testid="iter-retgen-round">
            <p className="trace-chain__line">
              <span className="badge">round {round.round}</span> <span className="muted">query: </span>
              {round.query}
            </p>
            <StepDocs docs={round.docs} newIds={round.newDocIds} onOpen={props.onOpenDoc} />
            <p className="trace-chain__line">
              <span className="muted">Generation: </span>
              <strong>{round.answer || '(no answer)'}</strong>
            </p>
            {round.reasoning && <p className="small muted pre-wrap">{round.reasoning}</p>}
          </li>
        ))}
      </ol>
    </section>
  );
}
