import { useEffect, useState } from 'react';
import type { z } from 'zod';
import { retrySettingsSchema, sandboxSettingsSchema } from '../../../preload/contract.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { NumberField } from '../components/NumberField.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import type { Settings } from '../state/types.ts';

const KIB = 1024;
const MIB = 1024 * 1024;

/** Settings: where data lives (read-only), the sandbox's limits and the model-call retry policy. */
export function SettingsView(): React.JSX.Element {
  const model = useAppModel();
  const settings = useStore(model.app.store, (s) => s.settings);
  const info = useStore(model.app.store, (s) => s.info);
  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">Settings</h1>
        <p className="view__subtitle">Changes apply to the next run.</p>
      </header>
      <section className="panel" aria-labelledby="paths-heading">
        <header className="panel__header">
          <h2 id="paths-heading" className="panel__title">
            Folders
          </h2>
        </header>
        <div className="form-row">
          <label className="field field--grow">
            <span className="field__label">Data directory (corpora and run history)</span>
            <input
              className="input mono"
              readOnly
              value={settings?.dataDir ?? ''}
              data-testid="settings-data-dir"
            />
          </label>
          <label className="field field--grow">
            <span className="field__label">Models folder</span>
            <input
              className="input mono"
              readOnly
              value={settings?.modelsDir ?? ''}
              data-testid="settings-models-dir"
            />
          </label>
        </div>
        <p className="muted small">
          Set with <code>--data-dir</code> / <code>RECKON_HOME</code> and <code>--models-dir</code> /{' '}
          <code>RECKON_MODELS_DIR</code> when starting Reckon.
          {info
            ? ` Reckon ${info.version}, ${info.host === 'electron' ? 'desktop app' : 'browser host'}.`
            : ''}
        </p>
      </section>
      {settings ? (
        <LimitsForm key={JSON.stringify([settings.sandbox, settings.retry])} settings={settings} />
      ) : (
        <p className="muted">Loading settings…</p>
      )}
    </div>
  );
}

type FieldKey =
  | 'memoryMiB'
  | 'stackKiB'
  | 'deadlineMs'
  | 'maxHostCalls'
  | 'maxAttempts'
  | 'baseDelayMs'
  | 'maxDelayMs'
  | 'timeoutMs';
type Fields = Record<FieldKey, string>;

/** One form field over one numeric setting, shown in `unit` (`scale` bytes or ms per unit). */
interface FieldSpec {
  key: FieldKey;
  group: 'sandbox' | 'retry';
  setting: keyof Settings['sandbox'] | keyof Settings['retry'];
  label: string;
  unit: string;
  scale: number;
  what?: string;
  testId: string;
}

const FIELDS: readonly FieldSpec[] = [
  {
    key: 'memoryMiB',
    group: 'sandbox',
    setting: 'memoryBytes',
    label: 'Memory (MiB)',
    unit: 'MiB',
    scale: MIB,
    testId: 'settings-memory',
  },
  {
    key: 'stackKiB',
    group: 'sandbox',
    setting: 'stackBytes',
    label: 'Stack (KiB)',
    unit: 'KiB',
    scale: KIB,
    what: 'larger stacks let runaway recursion crash the host',
    testId: 'settings-stack',
  },
  {
    key: 'deadlineMs',
    group: 'sandbox',
    setting: 'deadlineMs',
    label: 'Deadline (ms)',
    unit: 'ms',
    scale: 1,
    what: 'per program run',
    testId: 'settings-deadline',
  },
  {
    key: 'maxHostCalls',
    group: 'sandbox',
    setting: 'maxHostCalls',
    label: 'Max host calls',
    unit: '',
    scale: 1,
    what: 'retrieve() + answer()',
    testId: 'settings-max-host-calls',
  },
  {
    key: 'maxAttempts',
    group: 'retry',
    setting: 'maxAttempts',
    label: 'Attempts',
    unit: '',
    scale: 1,
    testId: 'settings-attempts',
  },
  {
    key: 'baseDelayMs',
    group: 'retry',
    setting: 'baseDelayMs',
    label: 'Base delay (ms)',
    unit: 'ms',
    scale: 1,
    testId: 'settings-base-delay',
  },
  {
    key: 'maxDelayMs',
    group: 'retry',
    setting: 'maxDelayMs',
    label: 'Max delay (ms)',
    unit: 'ms',
    scale: 1,
    testId: 'settings-max-delay',
  },
  {
    key: 'timeoutMs',
    group: 'retry',
    setting: 'timeoutMs',
    label: 'Timeout per call (ms)',
    unit: 'ms',
    scale: 1,
    testId: 'settings-timeout',
  },
];

/** The question asked before unsaved edits are dropped. */
export const UNSAVED_SETTINGS_QUESTION = 'Settings has unsaved changes. Leave without saving them?';

/** A field's valid range as the settings schema states it, in the field's unit ("32–256 KiB"). */
function rangeOf(spec: FieldSpec): { min: number; max: number; text: string } {
  const schema = spec.group === 'sandbox' ? sandboxSettingsSchema : retrySettingsSchema;
  const number = (schema.shape as Record<string, z.ZodNumber>)[spec.setting];
  const min = (number?.minValue ?? Number.NEGATIVE_INFINITY) / spec.scale;
  const max = (number?.maxValue ?? Number.POSITIVE_INFINITY) / spec.scale;
  const unit = spec.unit ? ` ${spec.unit}` : '';
  return { min, max, text: `${formatNumber(min)}–${formatNumber(max)}${unit}` };
}

function formatNumber(value: number): string {
  return Number.isFinite(value) ? value.toLocaleString('en-US') : String(value);
}

function initialFields(settings: Settings): Fields {
  const value = (spec: FieldSpec): number =>
    spec.group === 'sandbox'
      ? settings.sandbox[spec.setting as keyof Settings['sandbox']]
      : settings.retry[spec.setting as keyof Settings['retry']];
  return Object.fromEntries(
    FIELDS.map((spec) => [spec.key, String(Math.round((value(spec) / spec.scale) * 100) / 100)]),
  ) as Fields;
}

function LimitsForm(props: { settings: Settings }): React.JSX.Element {
  const { settings } = props;
  const model = useAppModel();
  const [initial] = useState<Fields>(() => initialFields(settings));
  const [fields, setFields] = useState<Fields>(initial);
  const [error, setError] = useState<UiError | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (key: keyof Fields) => (value: string) => {
    setSaved(false);
    setFields((f) => ({ ...f, [key]: value }));
  };
  const dirty = FIELDS.some((spec) => fields[spec.key].trim() !== initial[spec.key]);

  // Navigating away (in the app, back/forward, reload, closing) with unsaved edits asks first.
  useEffect(() => {
    if (!dirty) return;
    return model.app.setLeaveGuard(() => UNSAVED_SETTINGS_QUESTION);
  }, [model, dirty]);

  const num = (value: string): number => (value.trim() === '' ? Number.NaN : Number(value));
  const sandbox = {
    memoryBytes: Math.round(num(fields.memoryMiB) * MIB),
    stackBytes: Math.round(num(fields.stackKiB) * KIB),
    deadlineMs: num(fields.deadlineMs),
    maxHostCalls: num(fields.maxHostCalls),
  };
  const retry = {
    maxAttempts: num(fields.maxAttempts),
    baseDelayMs: num(fields.baseDelayMs),
    maxDelayMs: num(fields.maxDelayMs),
    timeoutMs: num(fields.timeoutMs),
  };
  const sandboxCheck = sandboxSettingsSchema.safeParse(sandbox);
  const retryCheck = retrySettingsSchema.safeParse(retry);
  const issues = new Map<string, string>();
  // The schema speaks bytes; the form speaks MiB / KiB, so an out-of-range value is explained with
  // the range restated in the field's unit.
  const explain = (setting: string, message: string): string => {
    const spec = FIELDS.find((f) => f.setting === setting);
    if (!spec) return message;
    const value = num(fields[spec.key]);
    return Number.isFinite(value) ? `Must be ${rangeOf(spec).text}.` : 'Type a number.';
  };
  if (!sandboxCheck.success) {
    for (const issue of sandboxCheck.error.issues) {
      const key = String(issue.path[0]);
      issues.set(key, explain(key, issue.message));
    }
  }
  if (!retryCheck.success)
    for (const issue of retryCheck.error.issues) {
      const key = String(issue.path[0]);
      issues.set(key, explain(key, issue.message));
    }
  if (retryCheck.success && retry.maxDelayMs < retry.baseDelayMs)
    issues.set('maxDelayMs', 'Must be at least the base delay.');
  const valid = issues.size === 0 && sandboxCheck.success && retryCheck.success;

  const field = (key: FieldKey): React.JSX.Element => {
    const spec = FIELDS.find((f) => f.key === key)!;
    const range = rangeOf(spec);
    return (
      <NumberField
        label={spec.label}
        value={fields[key]}
        onChange={set(key)}
        hint={spec.what ? `${range.text}; ${spec.what}` : range.text}
        error={issues.get(spec.setting)}
        testId={spec.testId}
      />
    );
  };

  async function save(): Promise<void> {
    if (!sandboxCheck.success || !retryCheck.success || !valid) return;
    setError(null);
    try {
      await model.app.updateSettings({ sandbox: sandboxCheck.data, retry: retryCheck.data });
      setSaved(true);
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      aria-label="Limits"
    >
      <section className="panel" aria-labelledby="sandbox-heading">
        <header className="panel__header">
          <h2 id="sandbox-heading" className="panel__title">
            Sandbox limits
          </h2>
        </header>
        <p className="muted small">
          Every program the model writes runs in a fresh QuickJS sandbox with these limits.
        </p>
        <div className="form-row">
          {field('memoryMiB')}
          {field('stackKiB')}
          {field('deadlineMs')}
          {field('maxHostCalls')}
        </div>
      </section>
      <section className="panel" aria-labelledby="retry-settings-heading">
        <header className="panel__header">
          <h2 id="retry-settings-heading" className="panel__title">
            Retry policy for model calls
          </h2>
        </header>
        <p className="muted small">
          Exponential backoff with jitter; each retry shows in the run’s retry timeline.
        </p>
        <div className="form-row">
          {field('maxAttempts')}
          {field('baseDelayMs')}
          {field('maxDelayMs')}
          {field('timeoutMs')}
        </div>
      </section>
      <div className="toolbar">
        <button
          type="submit"
          className="button button--primary"
          disabled={!valid}
          data-testid="settings-save"
        >
          Save settings
        </button>
        {!valid && <span className="field__error">Fix the fields marked above.</span>}
        {valid && dirty && !saved && (
          <span className="muted small" data-testid="settings-unsaved">
            Unsaved changes.
          </span>
        )}
        {saved && (
          <span className="note note--ok" role="status">
            Saved.
          </span>
        )}
      </div>
      <ErrorNote error={error} />
    </form>
  );
}
