import { useMemo, useRef, useState } from 'react';
import {
  corpusNameSchema,
  DEFAULT_MAX_UPLOAD_FILE_BYTES,
  searchModeSchema,
} from '../../../preload/contract.ts';
import { Callout } from '../components/Callout.tsx';
import { ConfirmButton } from '../components/ConfirmButton.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { ProgressBar } from '../components/ProgressBar.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { formatBytes, formatCount, formatMs, formatSeconds, percent } from '../format.ts';
import { PassageView, type PassageRequest } from '../run/PassageView.tsx';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import { latestJob, type IngestJob } from '../state/libraryStore.ts';
import type { CorpusSummary, DocumentSummary, SearchMode, SearchResult } from '../state/types.ts';
import { chosenFiles, droppedFiles } from '../state/droppedFiles.ts';
import { uploadFiles, type UploadItem } from '../state/uploadFiles.ts';

/** Documents listed at most (the rest are counted). Default 500. */
export const MAX_DOCUMENT_ROWS = 500;
/** Library: corpora with their counts, adding files and folders, ingestion progress, documents and search. */
export function LibraryView(): React.JSX.Element {
  const model = useAppModel();
  const corpora = useStore(model.library.store, (s) => s.corpora);
  const corporaError = useStore(model.library.store, (s) => s.corporaError);
  const selected = useStore(model.library.store, (s) => s.selected);
  const selectedCorpus = corpora?.find((c) => c.name === selected) ?? null;
  const desktop = model.bridge.desktop !== undefined;

  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">Library</h1>
        <p className="view__subtitle">
          Your documents, indexed for retrieval. Files stay where they are; Reckon keeps an index.
        </p>
      </header>
      <ErrorNote error={corporaError} title="Could not list the corpora" />
      {corpora !== null && corpora.length === 0 && (
        <Callout title="No documents yet" testId="library-empty">
          <p>
            {desktop
              ? 'Add documents below: press “Choose files…” or “Choose folder…”, drop files or folders onto “Add documents”, or type their absolute paths (one per line), then press “Add to corpus”.'
              : 'Add documents below: drop files or folders onto “Add documents” (or press “Upload files…” or “Upload folder…”) to upload them to the Reckon server, or type absolute paths on the server’s disk (one per line), then press “Add to corpus”.'}{' '}
            Or press “Add sample corpus” to fill in the bundled HotpotQA sample.
          </p>
        </Callout>
      )}
      {corpora !== null && corpora.length > 0 && <CorporaTable corpora={corpora} selected={selected} />}
      <AddDocuments />
      {selectedCorpus && <CorpusDetails key={selectedCorpus.name} corpus={selectedCorpus} />}
    </div>
  );
}

function CorporaTable(props: { corpora: CorpusSummary[]; selected: string | null }): React.JSX.Element {
  const { corpora, selected } = props;
  const model = useAppModel();
  return (
    <section className="panel" aria-labelledby="corpora-heading">
      <header className="panel__header">
        <h2 id="corpora-heading" className="panel__title">
          Corpora <span className="count">{corpora.length}</span>
        </h2>
      </header>
      <div className="table-wrap">
        <table className="table" data-testid="corpus-list">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" className="num">
                Documents
              </th>
              <th scope="col" className="num">
                Sections
              </th>
              <th scope="col" className="num">
                Chunks
              </th>
              <th scope="col" className="num">
                Vectors
              </th>
              <th scope="col">Embedder</th>
              <th scope="col" className="num">
                Failed
              </th>
            </tr>
          </thead>
          <tbody>
            {corpora.map((c) => (
              <tr
                key={c.name}
                className={c.name === selected ? 'is-selected' : undefined}
                data-testid="corpus-row"
              >
                <td>
                  <button
                    type="button"
                    className="link strong"
                    aria-current={c.name === selected ? 'true' : undefined}
                    onClick={() => model.library.select(c.name)}
                    data-testid={`corpus-${c.name}`}
                  >
                    {c.name}
                  </button>
                  {c.error && (
                    <p className="text-error small" data-testid={`corpus-error-${c.name}`}>
                      Damaged ({c.error.code}): {c.error.message}
                    </p>
                  )}
                </td>
                <td className="num">{formatCount(c.documents)}</td>
                <td className="num">{formatCount(c.sections)}</td>
                <td className="num">{formatCount(c.chunks)}</td>
                <td className="num">{formatCount(c.vectors)}</td>
                <td className="mono small">
                  {c.embedderId ?? <span className="muted">none (BM25 only)</span>}
                </td>
                <td className={`num${c.failedDocuments > 0 ? ' text-error' : ''}`}>
                  {formatCount(c.failedDocuments)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function AddDocuments(): React.JSX.Element {
  const model = useAppModel();
  const { bridge } = model;
  const desktop = bridge.desktop;
  const info = useStore(model.app.store, (s) => s.info);
  const selected = useStore(model.library.store, (s) => s.selected);
  const jobs = useStore(model.library.store, (s) => s.jobs);
  const [name, setName] = useState('');
  const [paths, setPaths] = useState('');
  const [embeddings, setEmbeddings] = useState(true);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  /** Files dropped or chosen in the browser host, to be uploaded when the form is submitted. */
  const [staged, setStaged] = useState<UploadItem[]>([]);
  const [upload, setUpload] = useState<{ sent: number; total: number; controller: AbortController } | null>(
    null,
  );
  const [dragging, setDragging] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const corpusName = name.trim() || selected || '';
  const nameCheck = corpusName ? corpusNameSchema.safeParse(corpusName) : null;
  const nameError =
    nameCheck && !nameCheck.success
      ? `Corpus name: ${nameCheck.error.issues[0]?.message ?? 'invalid'}`
      : null;
  const pathList = paths
    .split(/\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  const job = latestJob(jobs, null);
  const running = job !== null && !job.finished;
  const stagedBytes = staged.reduce((sum, item) => sum + item.file.size, 0);

  // The main side knows where the app's sample corpus is (null when this build does not ship it).
  const sampleDir = info?.sampleCorpusDir ?? null;

  function addSample(): void {
    if (sampleDir === null) return;
    setPaths(sampleDir);
    if (!name.trim()) setName('sample');
  }

  /** Adds paths to the text field, one per line, leaving out those already there. */
  function addPaths(added: readonly string[]): void {
    const fresh = added.filter((p) => p && !pathList.includes(p));
    if (fresh.length > 0) setPaths([...pathList, ...fresh].join('\n'));
  }

  function stage(items: readonly UploadItem[]): void {
    setStaged((current) => {
      const known = new Set(current.map((item) => item.path));
      return [...current, ...items.filter((item) => !known.has(item.path))];
    });
  }

  async function choose(select: 'files' | 'folder'): Promise<void> {
    setError(null);
    try {
      const result = await bridge.invoke('showOpenDialog', { select });
      addPaths(result.paths);
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  async function onDrop(e: React.DragEvent): Promise<void> {
    e.preventDefault();
    setDragging(false);
    setError(null);
    if (desktop) {
      const dropped = [...e.dataTransfer.files].map((file) => desktop.pathForFile(file));
      if (dropped.some((p) => p === '')) {
        setError({
          message: 'Some of what was dropped is not a file on this computer, so it was left out.',
          code: null,
        });
      }
      addPaths(dropped);
      return;
    }
    try {
      stage(await droppedFiles(e.dataTransfer));
    } catch (caught) {
      setError(toUiError(caught));
    }
  }

  async function ingest(): Promise<void> {
    if (!corpusName) {
      setError({ message: 'Give the corpus a name.', code: null });
      return;
    }
    if (nameError) return;
    if (pathList.length === 0 && staged.length === 0) {
      setError({
        message: desktop
          ? 'Choose files or a folder, drop them here, or type at least one absolute path (one per line).'
          : 'Drop files or folders here (or press “Upload files…”), or type at least one absolute path on the server’s disk (one per line).',
        code: null,
      });
      return;
    }
    setBusy(true);
    setError(null);
    const embedder = embeddings ? 'auto' : 'none';
    try {
      if (staged.length > 0) {
        const controller = new AbortController();
        setUpload({ sent: 0, total: stagedBytes, controller });
        const uploadId = await uploadFiles(bridge, staged, {
          signal: controller.signal,
          onProgress: (sent, total) => setUpload({ sent, total, controller }),
        });
        await model.library.ingestUpload(corpusName, uploadId, pathList, embedder);
        setStaged([]);
      } else {
        await model.library.ingest(corpusName, pathList, embedder);
      }
    } catch (caught) {
      setError(toUiError(caught));
    } finally {
      setUpload(null);
      setBusy(false);
    }
  }

  return (
    <section className="panel" aria-labelledby="add-heading">
      <header className="panel__header">
        <h2 id="add-heading" className="panel__title">
          Add documents
        </h2>
      </header>
      <form
        className={`add-form drop-zone${dragging ? ' is-dragging' : ''}`}
        onSubmit={(e) => {
          e.preventDefault();
          void ingest();
        }}
        onDragOver={(e) => {
          if (![...e.dataTransfer.types].includes('Files')) return;
          e.preventDefault();
          e.dataTransfer.dropEffect = 'copy';
          setDragging(true);
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={(e) => void onDrop(e)}
        data-testid="add-documents"
      >
        <p className="drop-zone__hint muted small" data-testid="drop-hint">
          {desktop
            ? 'Drop files or folders here to add their paths.'
            : `Drop files or folders here to upload them to the Reckon server (up to ${formatBytes(DEFAULT_MAX_UPLOAD_FILE_BYTES)} a file); they are kept in its data folder and indexed from there.`}
        </p>
        <div className="form-row">
          <label className="field">
            <span className="field__label">Corpus</span>
            <input
              className="input"
              value={name}
              placeholder={selected ?? 'e.g. notes'}
              onChange={(e) => setName(e.target.value)}
              aria-invalid={nameError !== null}
              aria-describedby="corpus-name-hint"
              data-testid="corpus-name"
            />
            <span className="field__hint" id="corpus-name-hint">
              {nameError ? <span className="field__error">{nameError}</span> : 'A new name creates a corpus.'}
            </span>
          </label>
          <label className="field field--grow">
            <span className="field__label">
              {desktop
                ? 'Files or folders (absolute paths, one per line)'
                : 'Files or folders on the server’s disk (absolute paths, one per line)'}
            </span>
            <textarea
              className="input mono"
              rows={3}
              value={paths}
              placeholder={'/home/me/Documents/papers\n/home/me/notes/todo.md'}
              onChange={(e) => setPaths(e.target.value)}
              data-testid="corpus-paths"
            />
          </label>
        </div>
        {staged.length > 0 && (
          <div className="staged" data-testid="staged-uploads">
            <p className="small">
              <strong>
                {staged.length} file{staged.length === 1 ? '' : 's'} to upload
              </strong>{' '}
              · {formatBytes(stagedBytes)}:{' '}
              <span className="mono">
                {staged
                  .slice(0, 5)
                  .map((item) => item.path)
                  .join(', ')}
                {staged.length > 5 ? `, … and ${staged.length - 5} more` : ''}
              </span>
            </p>
            <button
              type="button"
              className="button button--small"
              onClick={() => setStaged([])}
              disabled={busy}
              data-testid="staged-clear"
            >
              Clear
            </button>
          </div>
        )}
        {upload && (
          <div className="ingest__head" data-testid="upload-progress">
            <span role="status" className="small">
              Uploading {formatBytes(upload.sent)} of {formatBytes(upload.total)}…
            </span>
            <ProgressBar label="Uploading files" value={percent(upload.sent, Math.max(upload.total, 1))} />
            <button
              type="button"
              className="button button--small"
              onClick={() => upload.controller.abort()}
              data-testid="upload-cancel"
            >
              Cancel upload
            </button>
          </div>
        )}
        <div className="toolbar">
          <button
            type="submit"
            className="button button--primary"
            disabled={busy || running}
            data-testid="ingest-button"
          >
            {upload ? 'Uploading…' : busy ? 'Starting…' : 'Add to corpus'}
          </button>
          {desktop ? (
            <>
              <button
                type="button"
                className="button"
                onClick={() => void choose('files')}
                data-testid="choose-files"
              >
                Choose files…
              </button>
              <button
                type="button"
                className="button"
                onClick={() => void choose('folder')}
                data-testid="choose-folder"
              >
                Choose folder…
              </button>
            </>
          ) : (
            <>
              <button
                type="button"
                className="button"
                onClick={() => filesInput.current?.click()}
                disabled={busy}
                data-testid="upload-files"
              >
                Upload files…
              </button>
              <button
                type="button"
                className="button"
                onClick={() => folderInput.current?.click()}
                disabled={busy}
                data-testid="upload-folder"
              >
                Upload folder…
              </button>
              <input
                ref={filesInput}
                type="file"
                multiple
                hidden
                onChange={(e) => {
                  stage(chosenFiles(e.target.files));
                  e.target.value = '';
                }}
                data-testid="upload-files-input"
              />
              <input
                ref={folderInput}
                type="file"
                hidden
                {...{ webkitdirectory: '' }}
                onChange={(e) => {
                  stage(chosenFiles(e.target.files));
                  e.target.value = '';
                }}
                data-testid="upload-folder-input"
              />
            </>
          )}
          <button
            type="button"
            className="button"
            onClick={addSample}
            disabled={sampleDir === null}
            title={
              info && sampleDir === null ? 'This installation does not include the sample corpus.' : undefined
            }
            data-testid="add-sample"
          >
            Add sample corpus
          </button>
          <label className="inline-field">
            <input
              type="checkbox"
              checked={embeddings}
              onChange={(e) => setEmbeddings(e.target.checked)}
              data-testid="ingest-embeddings"
            />
            <span>Compute embeddings (when an embedding model is installed)</span>
          </label>
          <span className="muted small">
            .txt .md .html .pdf .docx, source code, QA datasets (.json/.jsonl)
          </span>
        </div>
        <ErrorNote error={error} testId="ingest-error" />
      </form>
      {job && <IngestProgress job={job} />}
    </section>
  );
}

const PHASE_LABEL: Record<string, string> = {
  scan: 'Scanning files',
  parse: 'Reading and chunking',
  embed: 'Computing embeddings',
  index: 'Building the vector index',
  done: 'Done',
};

function IngestProgress(props: { job: IngestJob }): React.JSX.Element {
  const { job } = props;
  const model = useAppModel();
  const [cancelError, setCancelError] = useState<UiError | null>(null);
  const p = job.last?.progress ?? null;
  const result = job.last?.result ?? null;
  const value =
    p === null
      ? null
      : p.phase === 'embed' && p.chunksToEmbed > 0
        ? percent(p.chunksEmbedded, p.chunksToEmbed)
        : p.bytesTotal > 0
          ? percent(p.bytesDone, p.bytesTotal)
          : p.filesTotal > 0
            ? percent(p.filesDone, p.filesTotal)
            : null;
  const statusText = job.error
    ? `Ingestion into ${job.corpus} failed.`
    : result
      ? result.cancelled
        ? `Ingestion into ${job.corpus} cancelled.`
        : `Ingestion into ${job.corpus} finished.`
      : p
        ? `${PHASE_LABEL[p.phase] ?? p.phase}: ${p.filesDone} of ${p.filesTotal} files${value !== null ? `, ${Math.round(value)}%` : ''}.`
        : `Starting ingestion into ${job.corpus}…`;
  return (
    <div className="ingest" data-testid="ingest-progress">
      <div className="ingest__head">
        <strong>
          {job.kind === 'reindex' ? 'Re-index' : 'Ingest'} · {job.corpus}
        </strong>
        <span role="status" aria-live="polite" className="ingest__status" data-testid="ingest-status">
          {statusText}
        </span>
        {!job.finished && (
          <button
            type="button"
            className="button button--small"
            onClick={() =>
              model.library.cancel(job.jobId).catch((e: unknown) => setCancelError(toUiError(e)))
            }
            data-testid="ingest-cancel"
          >
            Cancel
          </button>
        )}
      </div>
      {!job.finished && <ProgressBar label={`Ingesting into ${job.corpus}`} value={value} />}
      {p && !job.finished && (
        <p className="ingest__numbers mono small">
          files {p.filesDone}/{p.filesTotal} · {formatBytes(p.bytesDone)} / {formatBytes(p.bytesTotal)} ·{' '}
          {formatCount(p.chunksWritten)} chunks written · {formatCount(p.chunksEmbedded)}/
          {formatCount(p.chunksToEmbed)} embedded
          {p.failed > 0 ? ` · ${p.failed} failed` : ''} · ETA {formatSeconds(p.etaSeconds)}
          {p.currentFile && (
            <>
              <br />
              <span className="muted" title={p.currentFile}>
                {p.currentFile}
              </span>
            </>
          )}
        </p>
      )}
      <ErrorNote error={job.error} pre />
      <ErrorNote error={cancelError} />
      {result && (
        <div className="ingest__result" data-testid="ingest-summary">
          <p>
            {result.added} added · {result.updated} updated · {result.unchanged} unchanged · {result.removed}{' '}
            removed ·{' '}
            <span className={result.failed.length ? 'text-error' : undefined}>
              {result.failed.length} failed
            </span>{' '}
            · {formatCount(result.chunksWritten)} chunks written · {formatCount(result.chunksEmbedded)}{' '}
            embedded · {formatMs(result.durationMs)}
            {result.skippedUnsupported > 0 ? ` · ${result.skippedUnsupported} unsupported files skipped` : ''}
          </p>
          {result.embeddingSkipped && (
            <p className="muted">No vectors computed: {result.embeddingSkipped}. Search uses BM25.</p>
          )}
          {result.missing.length > 0 && (
            <p className="text-error">
              Not found: <span className="mono">{result.missing.join(', ')}</span>
            </p>
          )}
          {result.skipped.length > 0 && (
            <ul className="fail-list" data-testid="ingest-skipped">
              {result.skipped.map((skip) => (
                <li key={skip.path}>
                  Skipped <span className="mono">{skip.path}</span> — {skip.reason}{' '}
                  <span className="note__code">{skip.code}</span>
                </li>
              ))}
            </ul>
          )}
          {result.failed.length > 0 && (
            <ul className="fail-list">
              {result.failed.slice(0, 50).map((f) => (
                <li key={f.path}>
                  <span className="mono">{f.path}</span> — {f.message}{' '}
                  <span className="note__code">{f.code}</span>
                </li>
              ))}
              {result.failed.length > 50 && (
                <li className="muted">…and {result.failed.length - 50} more (see the documents table).</li>
              )}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function CorpusDetails(props: { corpus: CorpusSummary }): React.JSX.Element {
  const { corpus } = props;
  const model = useAppModel();
  const jobs = useStore(model.library.store, (s) => s.jobs);
  const [actionError, setActionError] = useState<UiError | null>(null);
  const running = Object.values(jobs).some((j) => j.corpus === corpus.name && !j.finished);
  return (
    <section className="panel" aria-labelledby="corpus-heading" data-testid="corpus-details">
      <header className="panel__header">
        <h2 id="corpus-heading" className="panel__title">
          {corpus.name}
        </h2>
        <div className="toolbar">
          <button
            type="button"
            className="button"
            disabled={running}
            onClick={() => {
              setActionError(null);
              model.library.reindex(corpus.name).catch((e: unknown) => setActionError(toUiError(e)));
            }}
            data-testid="reindex-button"
          >
            Re-index
          </button>
          <ConfirmButton
            label="Remove corpus"
            question={`Remove “${corpus.name}” and its index? Your files are not touched.`}
            confirmLabel="Remove"
            disabled={running}
            onConfirm={() => {
              setActionError(null);
              model.library.remove(corpus.name).catch((e: unknown) => setActionError(toUiError(e)));
            }}
            testId="remove-corpus"
          />
        </div>
      </header>
      <ErrorNote error={actionError} />
      <SearchBox corpus={corpus.name} />
      <DocumentsTable corpus={corpus.name} />
    </section>
  );
}

function SearchBox(props: { corpus: string }): React.JSX.Element {
  const { corpus } = props;
  const { bridge } = useAppModel();
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState<SearchMode>('hybrid');
  const [result, setResult] = useState<SearchResult | null>(null);
  const [error, setError] = useState<UiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [passage, setPassage] = useState<PassageRequest | null>(null);

  async function search(): Promise<void> {
    if (!query.trim()) return;
    setBusy(true);
    setError(null);
    try {
      setResult(await bridge.invoke('search', { corpus, query: query.trim(), k: 10, mode }));
      setPassage(null);
    } catch (caught) {
      setError(toUiError(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="subpanel">
      <h3 className="subpanel__title">Try a search</h3>
      <form
        className="toolbar"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          void search();
        }}
      >
        <label className="field field--grow">
          <span className="visually-hidden">Search query</span>
          <input
            className="input"
            type="search"
            value={query}
            placeholder="Search this corpus"
            onChange={(e) => setQuery(e.target.value)}
            data-testid="search-query"
          />
        </label>
        <label className="inline-field">
          <span>Mode</span>
          <select
            className="input"
            value={mode}
            onChange={(e) => setMode(searchModeSchema.parse(e.target.value))}
            data-testid="search-mode"
          >
            {searchModeSchema.options.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="button" disabled={busy || !query.trim()} data-testid="search-button">
          {busy ? 'Searching…' : 'Search'}
        </button>
      </form>
      <ErrorNote error={error} />
      {result && (
        <div data-testid="search-results">
          <p className="muted small" role="status">
            {result.hits.length} hit{result.hits.length === 1 ? '' : 's'} · {result.mode}
          </p>
          {result.warnings.map((w) => (
            <p key={w} className="note note--warning small">
              {w}
            </p>
          ))}
          <ol className="hits">
            {result.hits.map((hit) => (
              <li key={hit.chunkId} className="hit">
                {/* Opens the passage drawer, as a citation does: the hit within its surrounding text. */}
                <button
                  type="button"
                  className={`hit__head${passage?.chunkId === hit.chunkId ? ' is-open' : ''}`}
                  aria-haspopup="dialog"
                  onClick={() =>
                    setPassage({
                      corpus,
                      chunkId: hit.chunkId,
                      title: hit.title,
                      source: hit.path,
                      score: hit.score,
                    })
                  }
                  data-testid="search-hit"
                >
                  <span className="strong">{hit.title || `chunk ${hit.chunkId}`}</span>
                  <span className="mono small">{hit.score.toFixed(3)}</span>
                  <span className="mono small muted path">
                    {hit.path}
                    {hit.page !== null ? ` · p. ${hit.page}` : ''}
                  </span>
                </button>
                <p className="hit__text">{hit.text}</p>
              </li>
            ))}
          </ol>
        </div>
      )}
      {passage && <PassageView request={passage} onClose={() => setPassage(null)} />}
    </div>
  );
}

function DocumentsTable(props: { corpus: string }): React.JSX.Element {
  const { corpus } = props;
  const model = useAppModel();
  const documents = useStore(model.library.store, (s) => s.documents);
  const loading = useStore(model.library.store, (s) => s.documentsLoading);
  const error = useStore(model.library.store, (s) => s.documentsError);
  const [filter, setFilter] = useState('');
  const [onlyFailed, setOnlyFailed] = useState(false);

  const list: DocumentSummary[] = useMemo(
    () => (documents?.corpus === corpus ? documents.list : []),
    [documents, corpus],
  );
  const filtered = useMemo(() => {
    const needle = filter.trim().toLowerCase();
    return list.filter(
      (d) =>
        (!onlyFailed || d.status === 'failed') &&
        (needle === '' ||
          d.path.toLowerCase().includes(needle) ||
          (d.title ?? '').toLowerCase().includes(needle)),
    );
  }, [list, filter, onlyFailed]);
  const shown = filtered.slice(0, MAX_DOCUMENT_ROWS);
  const failed = list.filter((d) => d.status === 'failed').length;

  return (
    <div className="subpanel">
      <h3 className="subpanel__title">
        Documents <span className="count">{list.length}</span>
        {failed > 0 && <span className="badge badge--error">{failed} failed</span>}
      </h3>
      <div className="toolbar">
        <label className="field field--grow">
          <span className="visually-hidden">Filter documents</span>
          <input
            className="input"
            type="search"
            value={filter}
            placeholder="Filter by path or title"
            onChange={(e) => setFilter(e.target.value)}
            data-testid="documents-filter"
          />
        </label>
        <label className="inline-field">
          <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.target.checked)} />
          <span>Only failed</span>
        </label>
        <button type="button" className="button" onClick={() => void model.library.loadDocuments(corpus)}>
          Refresh
        </button>
      </div>
      <ErrorNote error={error} />
      {loading && list.length === 0 && <p className="muted">Loading documents…</p>}
      {filtered.length > shown.length && (
        <p className="muted small" data-testid="documents-cap">
          Showing the first {shown.length} of {filtered.length} documents; filter to narrow the list.
        </p>
      )}
      <div className="table-wrap table-wrap--tall">
        <table className="table table--compact" data-testid="documents-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Path</th>
              <th scope="col">Title</th>
              <th scope="col">Kind</th>
              <th scope="col" className="num">
                Chunks
              </th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr
                key={d.path}
                className={d.status === 'failed' ? 'is-failed' : undefined}
                data-testid="document-row"
              >
                <td>
                  <span className={`badge ${d.status === 'ok' ? 'badge--ok' : 'badge--error'}`}>
                    {d.status}
                  </span>
                </td>
                <td className="mono path" title={d.path}>
                  {d.path}
                </td>
                <td>{d.title ?? <span className="muted">–</span>}</td>
                <td className="small">{d.kind ?? '–'}</td>
                <td className="num">{formatCount(d.chunkCount)}</td>
                <td className="num">{formatBytes(d.size)}</td>
                <td className="small text-error">
                  {d.error ? (
                    <>
                      {d.error} {d.errorCode && <span className="note__code">{d.errorCode}</span>}
                    </>
                  ) : null}
                </td>
              </tr>
            ))}
            {shown.length === 0 && !loading && (
              <tr>
                <td colSpan={7} className="muted">
                  {list.length === 0 ? 'No documents in this corpus.' : 'No document matches the filter.'}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
