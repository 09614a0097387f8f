import type { UiError } from '../errors.ts';

/**
 * An error as the bridge reported it: the message (which says what to do) and its code. `pre` keeps
 * line breaks, for messages with instructions (offline downloads list URLs and folders).
 */
export function ErrorNote(props: {
  error: UiError | null;
  title?: string;
  pre?: boolean;
  testId?: string;
}): React.JSX.Element | null {
  const { error, title, pre, testId } = props;
  if (!error) return null;
  return (
    <div className="note note--error" role="alert" {...(testId ? { 'data-testid': testId } : {})}>
      {title && <strong className="note__title">{title}</strong>}
      {pre ? <pre className="note__pre">{error.message}</pre> : <p className="note__text">{error.message}</p>}
      {error.code && <span className="note__code">{error.code}</span>}
    </div>
  );
}
