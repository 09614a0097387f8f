/**
 * The Ask view's strategy options form, as pure functions over the options a strategy declares
 * (listStrategies): what a field holds while the user edits it (text for numbers, so a half-typed
 * value is kept and reported rather than lost), whether it is valid, and which values go into
 * startRun — only those that differ from their default, so a run records what the user changed and
 * every other option follows the strategy's own defaults.
 *
 * Pure: no DOM, no React, no bridge.
 */
import type { StrategyInfo, StrategyOptionInfo, StrategyOptionValues } from './types.ts';

/** What a field holds: a checkbox's state, or the text of any other field. */
export type OptionDraftValue = string | boolean;
/** Edited fields by option key; a key that is absent shows the option's default. */
export type OptionDrafts = Readonly<Record<string, OptionDraftValue>>;

export type ParsedOption = { ok: true; value: number | boolean | string } | { ok: false; message: string };

/** The field value of an option left at its default. */
export function defaultDraftValue(option: StrategyOptionInfo): OptionDraftValue {
  return option.type === 'boolean' ? option.default === true : String(option.default);
}

/** The field value of `option`: the edited one when it has the field's kind, else the default. */
export function draftValue(option: StrategyOptionInfo, drafts: OptionDrafts): OptionDraftValue {
  const value = drafts[option.key];
  if (value === undefined) return defaultDraftValue(option);
  const wantsBoolean = option.type === 'boolean';
  return (typeof value === 'boolean') === wantsBoolean ? value : defaultDraftValue(option);
}

/** The typed value of a field, or a message saying what it takes. */
export function parseOptionDraft(option: StrategyOptionInfo, value: OptionDraftValue): ParsedOption {
  switch (option.type) {
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: 'Check or clear it.' };
    case 'integer':
    case 'number': {
      const text = typeof value === 'string' ? value.trim() : '';
      const number = text === '' ? Number.NaN : Number(text);
      const whole = option.type === 'integer';
      if (!Number.isFinite(number) || (whole && !Number.isInteger(number)))
        return {
          ok: false,
          message: `Enter ${whole ? 'a whole number' : 'a number'} (${rangeText(option)}).`,
        };
      if (
        (option.minimum !== undefined && number < option.minimum) ||
        (option.maximum !== undefined && number > option.maximum)
      )
        return { ok: false, message: `Out of range (${rangeText(option)}).` };
      return { ok: true, value: number };
    }
    case 'enum': {
      const text = typeof value === 'string' ? value : '';
      return option.values === undefined || option.values.includes(text)
        ? { ok: true, value: text }
        : { ok: false, message: `Choose one of ${option.values.join(', ')}.` };
    }
    case 'string':
      return { ok: true, value: typeof value === 'string' ? value : String(value) };
  }
}

/** Whether a field's value differs from the option's default (an invalid value differs). */
export function isChanged(option: StrategyOptionInfo, drafts: OptionDrafts): boolean {
  const parsed = parseOptionDraft(option, draftValue(option, drafts));
  return !parsed.ok || parsed.value !== option.default;
}

/**
 * The options to send with startRun — only those whose value differs from the default — and a
 * message per invalid field, by key. Drafts of keys the strategy does not declare are ignored.
 */
export function collectOptions(
  strategy: Pick<StrategyInfo, 'options'>,
  drafts: OptionDrafts,
): { options: StrategyOptionValues; errors: Record<string, string> } {
  const options: StrategyOptionValues = {};
  const errors: Record<string, string> = {};
  for (const option of strategy.options) {
    const parsed = parseOptionDraft(option, draftValue(option, drafts));
    if (!parsed.ok) errors[option.key] = parsed.message;
    else if (parsed.value !== option.default) options[option.key] = parsed.value;
  }
  return { options, errors };
}

/** "default 3 · 0 to 10" and the like, for a field's hint. */
export function optionDefaultText(option: StrategyOptionInfo): string {
  const shown =
    option.type === 'boolean'
      ? option.default
        ? 'on'
        : 'off'
      : option.type === 'string' && option.default === ''
        ? '(empty)'
        : String(option.default);
  const range = option.type === 'integer' || option.type === 'number' ? rangeOnly(option) : '';
  return `default ${shown}${range ? ` · ${range}` : ''}`;
}

function rangeOnly(option: StrategyOptionInfo): string {
  const { minimum, maximum } = option;
  if (minimum !== undefined && maximum !== undefined) return `${minimum} to ${maximum}`;
  if (minimum !== undefined) return `≥ ${minimum}`;
  if (maximum !== undefined) return `≤ ${maximum}`;
  return '';
}

function rangeText(option: StrategyOptionInfo): string {
  const range = rangeOnly(option);
  return range ? `${range}, default ${String(option.default)}` : `default ${String(option.default)}`;
}
