import { useState } from 'react';
import { StepDocs, type OpenStepDoc } from './StepDocs.tsx';
import type { StrategyStep } from './runState.ts';
import { programTrace, type ProgramCandidate, type ProgramTrace } from './strategyTrace.ts';

const fixed = (value: number | null, digits = 3): string => (value === null ? '–' : value.toFixed(digits));

/** A p-value as the table shows it: small ones in exponent form. */
function pText(p: number | null): string {
  if (p === null) return '–';
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

const TEST_LABEL: Record<string, string> = {
  'too-few': 'too few passages',
  'zero-variance': 'zero variance',
  'small-group': 'group too small',
  locked: 'locked earlier',
};

/**
 * PROGRAM's trace: the program table of each pruning round — type, chosen sub-query (its scored
 * candidates expandable), passages held, support score, t statistic, p-value, sufficiency and
 * status — with controls to step through rounds 1…T (following the latest while the run is live),
 * then the pooled evidence and its rerank order.
 */
export function ProgramRoundsView(props: {
  steps: readonly StrategyStep[];
  onOpenDoc: OpenStepDoc;
}): React.JSX.Element {
  const trace = programTrace(props.steps);
  const [selected, setSelected] = useState<number | null>(null);
  const { rounds } = trace;
  const shownIndex = selected === null ? rounds.length - 1 : Math.min(selected, rounds.length - 1);
  const round = rounds[shownIndex];
  const select = (index: number): void => setSelected(index >= rounds.length - 1 ? null : index);

  return (
    <section className="panel" aria-labelledby="program-rounds-heading" data-testid="program-rounds">
      <header className="panel__header">
        <h3 id="program-rounds-heading" className="panel__title">
          Programs by round <span className="count">{rounds.length}</span>
        </h3>
        {rounds.length > 0 && (
          <div className="round-stepper" role="group" aria-label="Round">
            <button
              type="button"
              className="button"
              onClick={() => select(shownIndex - 1)}
              disabled={shownIndex <= 0}
              data-testid="program-round-prev"
              aria-label="Previous round"
            >
              ‹
            </button>
            {rounds.map((r, i) => (
              <button
                key={r.seq}
                type="button"
                className={`button round-stepper__round${i === shownIndex ? ' is-selected' : ''}`}
                aria-pressed={i === shownIndex}
                onClick={() => select(i)}
                data-testid={`program-round-${r.round}`}
              >
                {r.round}
              </button>
            ))}
            <button
              type="button"
              className="button"
              onClick={() => select(shownIndex + 1)}
              disabled={shownIndex >= rounds.length - 1}
              data-testid="program-round-next"
              aria-label="Next round"
            >
              ›
            </button>
          </div>
        )}
      </header>
      {trace.types.length > 0 && (
        <p className="panel__meta" data-testid="program-types">
          <span className="muted">Program types: </span>
          {trace.types.join(', ')}
        </p>
      )}
      {round === undefined ? (
        <CandidatesOnly trace={trace} />
      ) : (
        <>
          <p className="panel__meta" data-testid="program-round-label">
            Round {round.round} of {rounds.length}
            {round.groupMean !== null && ` · group mean support ${fixed(round.groupMean)}`}
            {round.level !== null && ` · pruned when p < ${round.level}`}
          </p>
          <div className="table-wrap">
            <table
              className="table table--compact"
              data-testid="program-round-table"
              data-round={round.round}
            >
              <caption className="visually-hidden">Programs in round {round.round}</caption>
              <thead>
                <tr>
                  <th scope="col">Program</th>
                  <th scope="col">Sub-query</th>
                  <th scope="col" className="num">
                    Support
                  </th>
                  <th scope="col" className="num">
                    t
                  </th>
                  <th scope="col" className="num">
                    p
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Passages</th>
                </tr>
              </thead>
              <tbody>
                {round.rows.map((row) => (
                  <tr
                    key={row.program}
                    data-testid="program-row"
                    data-status={row.status}
                    data-program={row.program}
                  >
                    <td>
                      {row.program + 1}. {row.type}
                    </td>
                    <td>
                      <span data-testid="program-subquery">{row.subQuery}</span>
                      <Candidates
                        candidates={trace.candidates.find((c) => c.program === row.program)?.candidates ?? []}
                      />
                    </td>
                    <td className="num mono">{fixed(row.support)}</td>
                    <td className="num mono">{fixed(row.t, 2)}</td>
                    <td className="num mono" title={TEST_LABEL[row.test] ?? row.test}>
                      {row.test === 'performed' ? pText(row.pValue) : (TEST_LABEL[row.test] ?? row.test)}
                    </td>
                    <td>
                      <span
                        className={`badge${row.status === 'pruned' ? ' badge--error' : row.status === 'locked' ? ' badge--ok' : ''}`}
                        data-testid="program-status"
                      >
                        {row.status}
                      </span>
                      {row.sufficient !== null && row.status !== 'pruned' && (
                        <span className="muted small"> {row.sufficient ? 'sufficient' : 'needs more'}</span>
                      )}
                    </td>
                    <td>
                      <details>
                        <summary data-testid="program-docs-count">{row.docs.length}</summary>
                        <StepDocs docs={row.docs} onOpen={props.onOpenDoc} />
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {trace.pool && (
        <div className="program-final" data-testid="program-pool">
          <h4 className="citations__title">
            Pooled evidence ({trace.pool.docs.length} passages
            {trace.pool.stopReason ? `; rounds stopped: ${trace.pool.stopReason}` : ''})
          </h4>
          {trace.rerank && (
            <ol className="step-docs" data-testid="program-rerank">
              {trace.rerank.order.map((entry) => (
                <li key={entry.doc.id} data-kept={entry.kept} data-testid="program-rerank-entry">
                  <button
                    type="button"
                    className="step-doc"
                    data-testid="step-doc"
                    data-chunk-id={entry.doc.id}
                    onClick={() => props.onOpenDoc(entry.doc)}
                  >
                    <span className="step-doc__title">{entry.doc.title || `Chunk ${entry.doc.id}`}</span>
                    <span className="step-doc__score mono">{fixed(entry.score)}</span>
                    {entry.poolRank !== null && <span className="muted small">pool #{entry.poolRank}</span>}
                    {entry.kept ? (
                      <span className="badge badge--ok">kept</span>
                    ) : (
                      <span className="badge">dropped</span>
                    )}
                  </button>
                </li>
              ))}
            </ol>
          )}
          {trace.rerank?.reranker && (
            <p className="muted small">Reranked by {rerankerText(trace.rerank.reranker)}.</p>
          )}
        </div>
      )}
    </section>
  );
}

/** What the trace's `reranker` field (`cross-encoder:<id>`, `embedding`, `bm25`, `retrieval-order`; `lexical` in older runs) means. */
function rerankerText(reranker: string): string {
  if (reranker.startsWith('cross-encoder:'))
    return `the cross-encoder ${reranker.slice('cross-encoder:'.length)}`;
  if (reranker === 'retrieval-order') return 'retrieval score (no reranking)';
  if (reranker === 'bm25') return 'BM25 score for the question';
  if (reranker === 'lexical') return 'lexical (TF-IDF) similarity to the question';
  return `${reranker} similarity to the question`;
}

/** A program's scored candidate sub-queries: IG + α·similarity, the chosen one marked. */
function Candidates(props: { candidates: readonly ProgramCandidate[] }): React.JSX.Element | null {
  if (props.candidates.length === 0) return null;
  return (
    <details className="program-candidates">
      <summary>{props.candidates.length} candidates</summary>
      <table className="table table--compact" data-testid="program-candidates">
        <thead>
          <tr>
            <th scope="col">Candidate</th>
            <th scope="col" className="num">
              IG
            </th>
            <th scope="col" className="num">
              Similarity
            </th>
            <th scope="col" className="num">
              Score
            </th>
          </tr>
        </thead>
        <tbody>
          {props.candidates.map((c, i) => (
            <tr key={i} data-chosen={c.chosen} data-testid="program-candidate">
              <td>
                {c.query} {c.chosen && <span className="badge badge--ok">chosen</span>}
              </td>
              <td className="num mono">{fixed(c.informationGain)}</td>
              <td className="num mono">{fixed(c.similarity)}</td>
              <td className="num mono">{fixed(c.score)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** Before the first round (or when none ran): the programs and their candidates. */
function CandidatesOnly(props: { trace: ProgramTrace }): React.JSX.Element {
  if (props.trace.candidates.length === 0)
    return <p className="muted panel__empty">The program table appears once the programs are chosen.</p>;
  return (
    <ul className="trace-chain">
      {props.trace.candidates.map((p) => (
        <li key={p.program} className="trace-chain__item">
          {p.program + 1}. {p.type}: {p.candidates.find((c) => c.chosen)?.query ?? ''}
          <Candidates candidates={p.candidates} />
        </li>
      ))}
    </ul>
  );
}
