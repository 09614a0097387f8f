import { useEffect, useState } from 'react';
import { llmSettingsSchema } from '../../../preload/contract.ts';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { NumberField } from '../components/NumberField.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { formatBytes, formatSeconds, percent } from '../format.ts';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import type { Download, ModelCheckState } from '../state/modelsStore.ts';
import type { CatalogModel, Settings } from '../state/types.ts';

/** What each kind of model is called in the tables. */
const MODEL_KIND_LABEL: Record<CatalogModel['kind'], string> = {
  llm: 'code model',
  embedder: 'embedder',
  reranker: 'reranker (cross-encoder)',
};

const SPEC_EXAMPLES = ['openai:http://127.0.0.1:8080/v1#qwen2.5-coder', 'replay:/path/to/run.replay.jsonl'];

/** Models: the active model, its llama.cpp settings, the catalog with downloads, and the files found on disk. */
export function ModelsView(): React.JSX.Element {
  const model = useAppModel();
  const error = useStore(model.models.store, (s) => s.error);
  const modelsDir = useStore(model.models.store, (s) => s.modelsDir);
  useEffect(() => {
    void model.models.refresh();
  }, [model]);
  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">Models</h1>
        <p className="view__subtitle">
          Model weights never leave this machine. Folder: <code className="path">{modelsDir ?? '…'}</code>
        </p>
      </header>
      <ErrorNote error={error} title="Could not list the models" />
      <ActiveModel />
      <Catalog />
      <LocalFiles />
    </div>
  );
}

function ActiveModel(): React.JSX.Element {
  const model = useAppModel();
  const settings = useStore(model.app.store, (s) => s.settings);
  const info = useStore(model.app.store, (s) => s.info);
  const local = useStore(model.models.store, (s) => s.local);
  const llms = local.filter((m) => m.kind === 'llm');
  const [choice, setChoice] = useState('');
  const [spec, setSpec] = useState('');
  const [error, setError] = useState<UiError | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const check = useStore(model.models.store, (s) => s.check);
  const active = settings?.activeModel ?? null;
  // A model is "ready" only once a check of it has passed: check it whenever it is chosen.
  useEffect(() => {
    if (active !== null) void model.models.check(active, { generate: false });
  }, [model, active]);
  const activeCheck = active !== null && check?.spec === active ? check : null;

  async function apply(value: string | null): Promise<void> {
    setError(null);
    setSaved(null);
    try {
      await model.app.updateSettings({ activeModel: value });
      setSaved(value ? `Active model set to ${value}.` : 'Active model cleared.');
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  const trimmed = spec.trim();
  const specError =
    (/^openai:/i.test(trimmed) && !/^openai:https?:\/\/[^\s]+$/i.test(trimmed)) ||
    /^replay:\s*$/i.test(trimmed)
      ? 'Use openai:http://host:port/v1#model, replay:/path/file.jsonl, or a path to a .gguf file.'
      : null;

  return (
    <section className="panel" aria-labelledby="active-heading" data-testid="active-model">
      <header className="panel__header">
        <h2 id="active-heading" className="panel__title">
          Active model
        </h2>
        {info && <ReadinessBadge active={active} check={activeCheck} />}
      </header>
      <p className="active-model mono" data-testid="active-model-value">
        {settings?.activeModel ?? <span className="muted">none chosen</span>}
      </p>
      {active !== null && (
        <div className="form-row">
          <button
            type="button"
            className="button"
            disabled={activeCheck?.running === true}
            onClick={() => void model.models.check(active, { generate: false })}
            data-testid="model-check"
            title="Check the file, its header or the server, without loading the model"
          >
            Check
          </button>
          <button
            type="button"
            className="button"
            disabled={activeCheck?.running === true}
            onClick={() => void model.models.check(active, { generate: true })}
            data-testid="model-test"
            title="Load the model and generate one token"
          >
            Test (one token)
          </button>
        </div>
      )}
      {activeCheck && <CheckResult check={activeCheck} />}
      <div className="form-row">
        <label className="field field--grow">
          <span className="field__label">A model file found on disk</span>
          <select
            className="input mono"
            value={choice}
            onChange={(e) => setChoice(e.target.value)}
            data-testid="model-local-select"
          >
            <option value="">{llms.length ? 'Choose a .gguf file…' : 'No .gguf files found'}</option>
            {llms.map((m) => (
              <option key={m.path} value={m.path}>
                {m.path} ({formatBytes(m.sizeBytes)})
              </option>
            ))}
          </select>
        </label>
        <div className="field field--action">
          <button
            type="button"
            className="button button--primary"
            disabled={!choice}
            onClick={() => void apply(choice)}
            data-testid="model-local-apply"
          >
            Use this file
          </button>
        </div>
      </div>
      <form
        className="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          if (spec.trim() && !specError) void apply(spec.trim());
        }}
      >
        <label className="field field--grow">
          <span className="field__label">Or a model server, replay file or .gguf path</span>
          <input
            className="input mono"
            value={spec}
            placeholder={SPEC_EXAMPLES[0]}
            onChange={(e) => setSpec(e.target.value)}
            aria-invalid={specError !== null}
            aria-describedby="spec-hint"
            data-testid="model-spec"
          />
          <span className="field__hint" id="spec-hint">
            {specError ? (
              <span className="field__error">{specError}</span>
            ) : (
              <>e.g. {SPEC_EXAMPLES.join('  or  ')}</>
            )}
          </span>
        </label>
        <div className="field field--action">
          <button
            type="submit"
            className="button button--primary"
            disabled={!spec.trim() || specError !== null}
            data-testid="model-spec-apply"
          >
            Use this model
          </button>
        </div>
        <div className="field field--action">
          <button
            type="button"
            className="button"
            disabled={!settings?.activeModel}
            onClick={() => void apply(null)}
          >
            Clear
          </button>
        </div>
      </form>
      <ErrorNote error={error} pre />
      {saved && (
        <p className="note note--ok" role="status">
          {saved}
        </p>
      )}
      {settings && <LlmSettings key={JSON.stringify(settings.llm)} settings={settings} />}
    </section>
  );
}

/** "ready" only after a check of the active model passed. */
function ReadinessBadge(props: { active: string | null; check: ModelCheckState | null }): React.JSX.Element {
  const { active, check } = props;
  const [label, tone] =
    active === null
      ? ['no model chosen', 'badge--warn']
      : check === null || check.running
        ? ['checking…', 'badge--live']
        : check.result?.ok
          ? ['ready', 'badge--ok']
          : ['not usable', 'badge--error'];
  return (
    <span className={`badge ${tone}`} data-testid="model-readiness">
      {label}
    </span>
  );
}

/** What a model check found: the header, the replay file or the server, and any problem. */
function CheckResult(props: { check: ModelCheckState }): React.JSX.Element {
  const { check } = props;
  if (check.running) {
    return (
      <p className="note" role="status" data-testid="model-check-result">
        {check.generate ? 'Loading the model and generating one token…' : 'Checking…'}
      </p>
    );
  }
  if (check.error) return <ErrorNote error={check.error} title="Could not check the model" />;
  const result = check.result;
  if (!result) return <></>;
  const facts: string[] = [];
  if (result.gguf) {
    const g = result.gguf;
    facts.push(
      `GGUF: ${g.architecture}${g.name ? ` (${g.name})` : ''}, ${g.quantization}, ${formatBytes(g.sizeBytes)}` +
        `${g.contextLength !== null ? `, trained context ${g.contextLength}` : ''}`,
      `Memory (estimate): about ${formatBytes(g.memory.estimatedBytes)} of ${formatBytes(g.memory.totalMemoryBytes)}, ${g.memory.fits ? 'fits' : 'may not fit'}`,
    );
  }
  if (result.replay) {
    const r = result.replay;
    facts.push(
      `Replay file: ${r.outputs} recorded ${r.outputs === 1 ? 'output' : 'outputs'}, ${r.failures} recorded ${r.failures === 1 ? 'failure' : 'failures'}`,
      r.recordedFor
        ? `Recorded for "${r.recordedFor.question}" (${r.recordedFor.strategy}); prompts are checked when it plays`
        : 'Hand-written script: prompts are not checked',
    );
  }
  if (result.server) {
    facts.push(
      `Server reachable${result.server.models.length > 0 ? `; it lists ${result.server.models.join(', ')}` : ''}`,
    );
  }
  if (result.generation) {
    facts.push(`Generated one token in ${result.generation.durationMs} ms`);
  }
  return (
    <div data-testid="model-check-result">
      {facts.length > 0 && (
        <ul className="note note--ok">
          {facts.map((fact) => (
            <li key={fact}>{fact}</li>
          ))}
        </ul>
      )}
      {result.warnings.map((warning) => (
        <p key={warning} className="note note--warning">
          {warning}
        </p>
      ))}
      {result.problem && (
        <p className="note note--error" role="alert">
          Not usable: {result.problem.message}
        </p>
      )}
    </div>
  );
}

function LlmSettings(props: { settings: Settings }): React.JSX.Element {
  const { settings } = props;
  const model = useAppModel();
  const [threads, setThreads] = useState(settings.llm.threads === null ? '' : String(settings.llm.threads));
  const [gpuLayers, setGpuLayers] = useState(String(settings.llm.gpuLayers));
  const [contextSize, setContextSize] = useState(String(settings.llm.contextSize));
  const [error, setError] = useState<UiError | null>(null);
  const [saved, setSaved] = useState(false);

  const candidate = {
    threads: threads.trim() === '' ? null : Number(threads),
    gpuLayers: Number(gpuLayers),
    contextSize: Number(contextSize),
  };
  const check = llmSettingsSchema.safeParse(candidate);
  const issues = new Map<string, string>();
  if (!check.success)
    for (const issue of check.error.issues) issues.set(String(issue.path[0]), issue.message);

  async function save(): Promise<void> {
    if (!check.success) return;
    setError(null);
    setSaved(false);
    try {
      await model.app.updateSettings({ llm: check.data });
      setSaved(true);
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  return (
    <form
      className="subpanel"
      aria-labelledby="llm-settings-heading"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3 id="llm-settings-heading" className="subpanel__title">
        llama.cpp settings (local .gguf models)
      </h3>
      <div className="form-row">
        <NumberField
          label="Threads"
          value={threads}
          onChange={setThreads}
          placeholder="auto"
          hint="Empty: physical cores less one."
          error={issues.get('threads')}
          testId="llm-threads"
        />
        <NumberField
          label="GPU layers"
          value={gpuLayers}
          onChange={setGpuLayers}
          hint="0 = CPU only."
          error={issues.get('gpuLayers')}
          testId="llm-gpu-layers"
        />
        <NumberField
          label="Context size (tokens)"
          value={contextSize}
          onChange={setContextSize}
          hint="512–262144."
          error={issues.get('contextSize')}
          testId="llm-context-size"
        />
        <div className="field field--action">
          <button type="submit" className="button" disabled={!check.success} data-testid="llm-save">
            Save
          </button>
        </div>
      </div>
      <ErrorNote error={error} />
      {saved && (
        <p className="note note--ok" role="status">
          Saved. The next run uses these settings.
        </p>
      )}
    </form>
  );
}

function Catalog(): React.JSX.Element {
  const model = useAppModel();
  const catalog = useStore(model.models.store, (s) => s.catalog);
  const downloads = useStore(model.models.store, (s) => s.downloads);
  return (
    <section className="panel" aria-labelledby="catalog-heading">
      <header className="panel__header">
        <h2 id="catalog-heading" className="panel__title">
          Recommended models
        </h2>
      </header>
      {catalog === null ? (
        <p className="muted">Loading the catalog…</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="model-catalog">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Kind</th>
                <th scope="col">License</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {catalog.map((m) => (
                <CatalogRow key={m.id} entry={m} download={downloads[m.id] ?? null} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CatalogRow(props: { entry: CatalogModel; download: Download | null }): React.JSX.Element {
  const { entry, download } = props;
  const model = useAppModel();
  const active = download !== null && !download.done;
  // Pause, cancel and discard wait for the service; one at a time per row.
  const [busy, setBusy] = useState(false);
  function act(action: () => Promise<void>): void {
    setBusy(true);
    void action().finally(() => setBusy(false));
  }
  const resumable = entry.partialBytes > 0;
  return (
    <>
      <tr data-testid={`catalog-${entry.id}`} className={download?.error ? 'has-error' : undefined}>
        <td>
          <div className="strong">{entry.title}</div>
          <div className="small muted">{entry.description}</div>
          <details className="small">
            <summary>Files and folder</summary>
            <p>
              Goes to <code className="path">{entry.installDir}</code>
            </p>
            <ul className="url-list">
              {entry.urls.map((u) => (
                <li key={u} className="mono">
                  {u}
                </li>
              ))}
            </ul>
          </details>
        </td>
        <td className="catalog__kind">{MODEL_KIND_LABEL[entry.kind]}</td>
        <td className="mono small">{entry.license}</td>
        <td className="catalog__status">
          {entry.installed ? (
            <span className="badge badge--ok">installed</span>
          ) : active ? (
            <div className="download" data-testid={`download-progress-${entry.id}`}>
              <ProgressBar
                label={`Downloading ${entry.title}`}
                value={download.totalBytes ? percent(download.receivedBytes, download.totalBytes) : null}
              />
              <p className="small mono" role="status" aria-live="polite">
                {formatBytes(download.receivedBytes)}
                {download.totalBytes ? ` / ${formatBytes(download.totalBytes)}` : ''} ·{' '}
                {formatBytes(download.bytesPerSecond)}/s · ETA {formatSeconds(download.etaSeconds)}
                {download.file ? ` · ${download.file}` : ''}
              </p>
              <div className="download__actions">
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => act(() => model.models.pause(entry.id))}
                  disabled={!download.jobId || busy}
                  title="Stop for now; the next Resume continues from what is downloaded"
                  data-testid={`download-pause-${entry.id}`}
                >
                  Pause
                </button>
                <button
                  type="button"
                  className="button button--small"
                  onClick={() => act(() => model.models.cancel(entry.id))}
                  disabled={!download.jobId || busy}
                  title="Stop and delete what was downloaded"
                  data-testid={`download-cancel-${entry.id}`}
                >
                  Cancel
                </button>
              </div>
            </div>
          ) : (
            <div className="download__actions">
              <button
                type="button"
                className="button"
                onClick={() => void model.models.pull(entry.id)}
                disabled={busy}
                data-testid={`download-${entry.id}`}
              >
                {resumable
                  ? `Resume (${formatBytes(entry.partialBytes)}${
                      entry.sizeBytes ? ` of ${formatBytes(entry.sizeBytes)}` : ''
                    } downloaded)`
                  : download?.error
                    ? 'Try again'
                    : 'Download'}
              </button>
              {resumable && (
                <button
                  type="button"
                  className="link small"
                  onClick={() => act(() => model.models.discard(entry.id))}
                  disabled={busy}
                  title="Delete the partly downloaded files"
                  data-testid={`download-discard-${entry.id}`}
                >
                  Discard
                </button>
              )}
            </div>
          )}
        </td>
      </tr>
      {download?.error && (
        <tr className="catalog__error-row">
          <td colSpan={4} data-testid={`download-error-${entry.id}`}>
            <ErrorNote error={download.error} pre title={`Downloading ${entry.title} failed`} />
          </td>
        </tr>
      )}
    </>
  );
}

function LocalFiles(): React.JSX.Element {
  const model = useAppModel();
  const local = useStore(model.models.store, (s) => s.local);
  const settings = useStore(model.app.store, (s) => s.settings);
  const [error, setError] = useState<UiError | null>(null);
  return (
    <section className="panel" aria-labelledby="local-heading">
      <header className="panel__header">
        <h2 id="local-heading" className="panel__title">
          Model files on disk <span className="count">{local.length}</span>
        </h2>
        <button type="button" className="button button--small" onClick={() => void model.models.refresh()}>
          Rescan
        </button>
      </header>
      <ErrorNote error={error} />
      <div className="table-wrap">
        <table className="table table--compact" data-testid="local-models">
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Path</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">
                <span className="visually-hidden">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {local.length === 0 && (
              <tr>
                <td colSpan={4} className="muted">
                  No model files found. Download one above, or copy a .gguf file into the models folder’s llm/
                  and press Rescan.
                </td>
              </tr>
            )}
            {local.map((m) => (
              <tr key={m.path}>
                <td>{MODEL_KIND_LABEL[m.kind]}</td>
                <td className="mono path" title={m.path}>
                  {m.path}
                </td>
                <td className="num">{formatBytes(m.sizeBytes)}</td>
                <td>
                  {m.kind === 'llm' &&
                    (settings?.activeModel === m.path ? (
                      <span className="badge badge--ok">active</span>
                    ) : (
                      <button
                        type="button"
                        className="button button--small"
                        onClick={() =>
                          model.app
                            .updateSettings({ activeModel: m.path })
                            .catch((e: unknown) => setError(toUiError(e)))
                        }
                      >
                        Use
                      </button>
                    ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
