/** A labelled numeric text field with a hint, or the validation message in its place. */
export function NumberField(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  placeholder?: string;
  hint?: string;
  error?: string | undefined;
  testId?: string;
}): React.JSX.Element {
  const { label, value, onChange, placeholder, hint, error, testId } = props;
  const id = `field-${(testId ?? label).replace(/\W+/g, '-')}`;
  return (
    <label className="field">
      <span className="field__label">{label}</span>
      <input
        className="input num-input"
        inputMode="numeric"
        value={value}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error !== undefined}
        aria-describedby={`${id}-hint`}
        {...(testId ? { 'data-testid': testId } : {})}
      />
      <span className="field__hint" id={`${id}-hint`}>
        {error ? <span className="field__error">{error}</span> : hint}
      </span>
    </label>
  );
}
