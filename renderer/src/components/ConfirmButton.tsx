import { useEffect, useRef, useState } from 'react';

/**
 * A destructive action that asks first: the button turns into "<question> Confirm / Keep" inline,
 * with focus moved to "Keep" so Enter never destroys by accident.
 */
export function ConfirmButton(props: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  disabled?: boolean;
  testId?: string;
}): React.JSX.Element {
  const { label, question, confirmLabel, onConfirm, disabled, testId } = props;
  const [asking, setAsking] = useState(false);
  const keepRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) keepRef.current?.focus();
  }, [asking]);
  if (!asking) {
    return (
      <button
        type="button"
        className="button button--danger"
        disabled={disabled}
        onClick={() => setAsking(true)}
        {...(testId ? { 'data-testid': testId } : {})}
      >
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label={question}>
      <span className="confirm__question">{question}</span>
      <button
        type="button"
        className="button button--danger"
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        {...(testId ? { 'data-testid': `${testId}-confirm` } : {})}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button" ref={keepRef} onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}
