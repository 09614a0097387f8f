/** A labelled progress bar; `value` null shows an indeterminate bar. */
export function ProgressBar(props: {
  label: string;
  value: number | null;
  testId?: string;
}): React.JSX.Element {
  const { label, value, testId } = props;
  return (
    <div
      className={`progress${value === null ? ' progress--indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      {...(value !== null ? { 'aria-valuenow': Math.round(value) } : {})}
      {...(testId ? { 'data-testid': testId } : {})}
    >
      <div className="progress__fill" style={value !== null ? { width: `${value}%` } : undefined} />
    </div>
  );
}
