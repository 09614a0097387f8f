import { useId } from 'react';
import {
  draftValue,
  isChanged,
  optionDefaultText,
  type OptionDraftValue,
  type OptionDrafts,
} from '../state/strategyOptions.ts';
import type { StrategyInfo, StrategyOptionInfo } from '../state/types.ts';

/**
 * The selected strategy's options, one field per option its descriptor declares: a number field
 * (with its range) for integer and number options, a checkbox for booleans, a select for enums, a
 * text field otherwise — each with its description and default, changed ones marked — and a control
 * that puts them all back to their defaults. Collapsed until opened, unless a field is invalid.
 */
export function StrategyOptionsForm(props: {
  strategy: StrategyInfo;
  drafts: OptionDrafts;
  /** Messages of invalid fields, by key. */
  errors: Readonly<Record<string, string>>;
  open: boolean;
  onToggle: (open: boolean) => void;
  onChange: (key: string, value: OptionDraftValue) => void;
  onReset: () => void;
}): React.JSX.Element {
  const { strategy, drafts, errors, open, onToggle, onChange, onReset } = props;
  const changed = strategy.options.filter((option) => isChanged(option, drafts)).length;
  const invalid = Object.keys(errors).length;
  return (
    <details
      className="strategy-options"
      open={open || invalid > 0}
      onToggle={(e) => onToggle(e.currentTarget.open)}
      data-testid="strategy-options"
    >
      <summary className="strategy-options__summary" data-testid="strategy-options-toggle">
        <span className="strategy-options__title">{strategy.label} options</span>
        <span className="muted small" data-testid="strategy-options-changed">
          {strategy.options.length === 0
            ? 'none'
            : changed === 0
              ? 'all at their defaults'
              : `${changed} changed from the default${changed === 1 ? '' : 's'}`}
        </span>
        {invalid > 0 && <span className="badge badge--error">{invalid} invalid</span>}
      </summary>
      {strategy.options.length === 0 ? (
        <p className="muted small">This strategy has no options.</p>
      ) : (
        <>
          <div className="strategy-options__grid">
            {strategy.options.map((option) => (
              <OptionField
                key={option.key}
                option={option}
                value={draftValue(option, drafts)}
                changed={isChanged(option, drafts)}
                error={errors[option.key]}
                onChange={(value) => onChange(option.key, value)}
              />
            ))}
          </div>
          <div className="strategy-options__actions">
            <button
              type="button"
              className="button"
              onClick={onReset}
              disabled={changed === 0}
              data-testid="strategy-options-reset"
            >
              Reset to defaults
            </button>
            <span className="muted small">
              Only options that differ from their default are sent with the run.
            </span>
          </div>
        </>
      )}
    </details>
  );
}

function OptionField(props: {
  option: StrategyOptionInfo;
  value: OptionDraftValue;
  changed: boolean;
  error: string | undefined;
  onChange: (value: OptionDraftValue) => void;
}): React.JSX.Element {
  const { option, value, changed, error, onChange } = props;
  const id = useId();
  const hintId = `${id}-hint`;
  const common = {
    id,
    'aria-describedby': hintId,
    'aria-invalid': error !== undefined,
    'data-testid': `option-${option.key}`,
  };
  let control: React.JSX.Element;
  switch (option.type) {
    case 'boolean':
      control = (
        <input
          {...common}
          type="checkbox"
          checked={value === true}
          onChange={(e) => onChange(e.target.checked)}
        />
      );
      break;
    case 'integer':
    case 'number':
      control = (
        <input
          {...common}
          className="input num-input"
          type="number"
          inputMode={option.type === 'integer' ? 'numeric' : 'decimal'}
          step={option.type === 'integer' ? 1 : 'any'}
          {...(option.minimum !== undefined ? { min: option.minimum } : {})}
          {...(option.maximum !== undefined ? { max: option.maximum } : {})}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
    case 'enum':
      control = (
        <select
          {...common}
          className="input"
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
        >
          {(option.values ?? []).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
      break;
    case 'string':
      control = (
        <input
          {...common}
          className="input"
          type="text"
          maxLength={1000}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value)}
        />
      );
      break;
  }
  return (
    <div
      className={`option-field${option.type === 'boolean' ? ' option-field--check' : ''}${changed ? ' is-changed' : ''}`}
      data-testid={`option-field-${option.key}`}
      data-changed={changed}
    >
      <label className="option-field__label" htmlFor={id}>
        <code>{option.key}</code>
        {changed && <span className="badge badge--live">changed</span>}
      </label>
      {control}
      <span className="field__hint" id={hintId}>
        {error ? <span className="field__error">{error}</span> : null}
        <span className="option-field__default" data-testid={`option-default-${option.key}`}>
          {optionDefaultText(option)}
        </span>
        <span className="option-field__description">{option.description}</span>
      </span>
    </div>
  );
}
