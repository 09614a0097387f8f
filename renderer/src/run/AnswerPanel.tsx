import type { Citation, RunState } from './runState.ts';

/** The final answer with its reasoning and citations; a citation opens its passage. */
export function AnswerPanel(props: {
  run: RunState;
  onOpenCitation: (citation: Citation) => void;
}): React.JSX.Element | null {
  const { run, onOpenCitation } = props;
  if (!run.answer) {
    if (run.status === 'running') return null;
    if (run.status === 'cancelled') {
      return (
        <section className="answer answer--muted" aria-label="Outcome">
          <p>The run was cancelled before it answered.</p>
        </section>
      );
    }
    if (run.status === 'failed') {
      return (
        <section className="answer answer--failed" aria-label="Outcome" data-testid="run-error">
          <h3 className="answer__label">No answer</h3>
          <p className="answer__error">{run.error?.message ?? 'The run failed.'}</p>
          {run.error?.code && <span className="note__code">{run.error.code}</span>}
        </section>
      );
    }
    return null;
  }
  const { answer, reasoning, citations } = run.answer;
  return (
    <section className="answer" aria-labelledby="answer-heading" data-testid="final-answer">
      <h3 id="answer-heading" className="answer__label">
        Answer
      </h3>
      <p className="answer__text" data-testid="final-answer-text">
        {answer}
      </p>
      {reasoning && (
        <p className="answer__reasoning">
          <span className="muted">Reasoning: </span>
          {reasoning}
        </p>
      )}
      {citations.length > 0 && (
        <div className="citations">
          <h4 className="citations__title">Citations</h4>
          <ol className="citations__list">
            {citations.map((c, i) => (
              <li key={`${c.chunkId}-${i}`}>
                <button
                  type="button"
                  className="citation"
                  data-testid={`citation-${i + 1}`}
                  onClick={() => onOpenCitation(c)}
                  aria-label={`Open citation ${i + 1}: ${c.title}`}
                >
                  <span className="citation__n">[{i + 1}]</span>
                  <span className="citation__title">{c.title}</span>
                  <span className="citation__source mono">{c.source}</span>
                  <span className="citation__excerpt">{c.excerpt}</span>
                </button>
              </li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
