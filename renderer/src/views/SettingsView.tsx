import { useState } from 'react';
import { retrySettingsSchema, sandboxSettingsSchema } from '../../../preload/contract.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { NumberField } from '../components/NumberField.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/createStore.ts';
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

type Fields = Record<
  | 'memoryMiB'
  | 'stackKiB'
  | 'deadlineMs'
  | 'maxHostCalls'
  | 'maxAttempts'
  | 'baseDelayMs'
  | 'maxDelayMs'
  | 'timeoutMs',
  string
>;

function LimitsForm(props: { settings: Settings }): React.JSX.Element {
  const { settings } = props;
  const model = useAppModel();
  const [fields, setFields] = useState<Fields>({
    memoryMiB: String(Math.round((settings.sandbox.memoryBytes / MIB) * 100) / 100),
    stackKiB: String(Math.round((settings.sandbox.stackBytes / KIB) * 100) / 100),
    deadlineMs: String(settings.sandbox.deadlineMs),
    maxHostCalls: String(settings.sandbox.maxHostCalls),
    maxAttempts: String(settings.retry.maxAttempts),
    baseDelayMs: String(settings.retry.baseDelayMs),
    maxDelayMs: String(settings.retry.maxDelayMs),
    timeoutMs: String(settings.retry.timeoutMs),
  });
  const [error, setError] = useState<UiError | null>(null);
  const [saved, setSaved] = useState(false);
  const set = (key: keyof Fields) => (value: string) => {
    setSaved(false);
    setFields((f) => ({ ...f, [key]: value }));
  };

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
  // The schema speaks bytes; the form speaks MiB / KiB, so its limits are restated in those units.
  const explain: Record<string, string> = {
    memoryBytes: 'Between 1 and 1024 MiB.',
    stackBytes: 'Between 16 and 256 KiB (larger stacks let runaway recursion crash the host).',
  };
  if (!sandboxCheck.success) {
    for (const issue of sandboxCheck.error.issues) {
      const key = String(issue.path[0]);
      issues.set(key, explain[key] ?? issue.message);
    }
  }
  if (!retryCheck.success)
    for (const issue of retryCheck.error.issues) issues.set(String(issue.path[0]), issue.message);
  if (retryCheck.success && retry.maxDelayMs < retry.baseDelayMs)
    issues.set('maxDelayMs', 'Must be at least the base delay.');
  const valid = issues.size === 0 && sandboxCheck.success && retryCheck.success;

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
          <NumberField
            label="Memory (MiB)"
            value={fields.memoryMiB}
            onChange={set('memoryMiB')}
            hint="1–1024 MiB"
            error={issues.get('memoryBytes')}
            testId="settings-memory"
          />
          <NumberField
            label="Stack (KiB)"
            value={fields.stackKiB}
            onChange={set('stackKiB')}
            hint="32–256 KiB"
            error={issues.get('stackBytes')}
            testId="settings-stack"
          />
          <NumberField
            label="Deadline (ms)"
            value={fields.deadlineMs}
            onChange={set('deadlineMs')}
            hint="Per program run, 100–600000"
            error={issues.get('deadlineMs')}
            testId="settings-deadline"
          />
          <NumberField
            label="Max host calls"
            value={fields.maxHostCalls}
            onChange={set('maxHostCalls')}
            hint="retrieve() + answer(), 1–10000"
            error={issues.get('maxHostCalls')}
            testId="settings-max-host-calls"
          />
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
          <NumberField
            label="Attempts"
            value={fields.maxAttempts}
            onChange={set('maxAttempts')}
            hint="1–20"
            error={issues.get('maxAttempts')}
            testId="settings-attempts"
          />
          <NumberField
            label="Base delay (ms)"
            value={fields.baseDelayMs}
            onChange={set('baseDelayMs')}
            hint="0–60000"
            error={issues.get('baseDelayMs')}
            testId="settings-base-delay"
          />
          <NumberField
            label="Max delay (ms)"
            value={fields.maxDelayMs}
            onChange={set('maxDelayMs')}
            hint="0–600000"
            error={issues.get('maxDelayMs')}
            testId="settings-max-delay"
          />
          <NumberField
            label="Timeout per call (ms)"
            value={fields.timeoutMs}
            onChange={set('timeoutMs')}
            hint="1000–3600000"
            error={issues.get('timeoutMs')}
            testId="settings-timeout"
          />
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
