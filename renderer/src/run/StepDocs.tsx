import type { StepDoc } from './strategyTrace.ts';

/** Opens one passage of a step in the passage drawer. */
export type OpenStepDoc = (doc: StepDoc) => void;

/**
 * The passages a step found, each a button that opens it in the passage drawer (as citations do);
 * passages new to the run's collection are marked when `newIds` is given.
 */
export function StepDocs(props: {
  docs: readonly StepDoc[];
  onOpen: OpenStepDoc;
  newIds?: readonly number[];
  /** Shown instead of the list when there are no passages. Default "No passages found." */
  empty?: string;
}): React.JSX.Element {
  const { docs, onOpen, newIds, empty } = props;
  if (docs.length === 0) return <p className="muted small">{empty ?? 'No passages found.'}</p>;
  const fresh = new Set(newIds ?? []);
  return (
    <ol className="step-docs" data-testid="step-docs">
      {docs.map((doc, i) => (
        <li key={`${doc.id}-${i}`}>
          <button
            type="button"
            className="step-doc"
            data-testid="step-doc"
            data-chunk-id={doc.id}
            onClick={() => onOpen(doc)}
            aria-label={`Open passage ${doc.title || `chunk ${doc.id}`}`}
          >
            <span className="step-doc__title">{doc.title || `Chunk ${doc.id}`}</span>
            {doc.score !== null && <span className="step-doc__score mono">{doc.score.toFixed(2)}</span>}
            {newIds !== undefined && fresh.has(doc.id) && <span className="badge badge--ok">new</span>}
          </button>
        </li>
      ))}
    </ol>
  );
}
