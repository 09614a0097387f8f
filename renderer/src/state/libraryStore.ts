/**
 * Library state: corpora, the selected corpus's documents and the ingestion jobs. Ingestion progress
 * events are applied here whatever view is showing, so a job started in Library keeps its progress
 * while the user is elsewhere.
 */
import type { ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';
import type { CorpusSummary, DocumentSummary, IngestProgressEvent } from './types.ts';

export interface IngestJob {
  jobId: string;
  corpus: string;
  kind: 'ingest' | 'reindex';
  startedAt: number;
  /** The latest progress event; null until the first arrives. */
  last: IngestProgressEvent | null;
  /** Set when starting the job failed or its last event carries an error. */
  error: UiError | null;
  finished: boolean;
}

export interface LibraryState {
  corpora: CorpusSummary[] | null;
  corporaError: UiError | null;
  selected: string | null;
  documents: { corpus: string; list: DocumentSummary[] } | null;
  documentsError: UiError | null;
  documentsLoading: boolean;
  /** Jobs by id, newest last. */
  jobs: Record<string, IngestJob>;
  /** Progress events of jobs whose id the UI has not received yet (events can beat the reply). */
  early: Record<string, IngestProgressEvent>;
}

export type LibraryStore = ReturnType<typeof createLibraryStore>;

export function createLibraryStore(bridge: ReckonBridge) {
  const store = createStore<LibraryState>({
    corpora: null,
    corporaError: null,
    selected: null,
    documents: null,
    documentsError: null,
    documentsLoading: false,
    jobs: {},
    early: {},
  });

  async function refreshCorpora(): Promise<void> {
    try {
      const { corpora } = await bridge.invoke('listCorpora', {});
      store.set((s) => ({
        ...s,
        corpora,
        corporaError: null,
        selected:
          s.selected && corpora.some((c) => c.name === s.selected) ? s.selected : (corpora[0]?.name ?? null),
      }));
      const selected = store.get().selected;
      if (selected && store.get().documents?.corpus !== selected) void loadDocuments(selected);
    } catch (error) {
      store.set({ corporaError: toUiError(error) });
    }
  }

  async function loadDocuments(corpus: string): Promise<void> {
    store.set({ documentsLoading: true, documentsError: null });
    try {
      const { documents } = await bridge.invoke('listDocuments', { corpus });
      if (store.get().selected !== corpus) return;
      store.set({ documents: { corpus, list: documents }, documentsLoading: false });
    } catch (error) {
      store.set({ documentsError: toUiError(error), documentsLoading: false });
    }
  }

  function select(corpus: string): void {
    store.set({ selected: corpus, documents: null });
    void loadDocuments(corpus);
  }

  function addJob(jobId: string, corpus: string, kind: IngestJob['kind']): void {
    store.set((s) => {
      const early = s.early[jobId] ?? null;
      const { [jobId]: _taken, ...rest } = s.early;
      const job: IngestJob = {
        jobId,
        corpus,
        kind,
        startedAt: Date.now(),
        last: early,
        error: early?.error ? toUiError(early.error) : null,
        finished: early ? early.result !== null || early.error !== null : false,
      };
      return { ...s, early: rest, jobs: { ...s.jobs, [jobId]: job } };
    });
  }

  /** Starts ingesting paths into a corpus (created when new). Throws the bridge's error. */
  async function ingest(corpus: string, paths: string[], embedder: 'auto' | 'none'): Promise<string> {
    const { jobId } = await bridge.invoke('ingestPaths', { corpus, paths, embedder });
    addJob(jobId, corpus, 'ingest');
    store.set({ selected: corpus });
    return jobId;
  }

  /**
   * Ingests a finished upload (uploadFiles) into a corpus, with any server-side `paths` in the same
   * job. Throws the bridge's error.
   */
  async function ingestUpload(
    corpus: string,
    uploadId: string,
    paths: string[],
    embedder: 'auto' | 'none',
  ): Promise<string> {
    const { jobId } = await bridge.invoke('finishUpload', { uploadId, corpus, paths, embedder });
    addJob(jobId, corpus, 'ingest');
    store.set({ selected: corpus });
    return jobId;
  }

  async function reindex(corpus: string): Promise<string> {
    const { jobId } = await bridge.invoke('reindexCorpus', { corpus });
    addJob(jobId, corpus, 'reindex');
    return jobId;
  }

  async function cancel(jobId: string): Promise<void> {
    await bridge.invoke('cancelJob', { jobId });
  }

  async function remove(corpus: string): Promise<void> {
    await bridge.invoke('removeCorpus', { corpus });
    store.set((s) => ({
      ...s,
      selected: s.selected === corpus ? null : s.selected,
      documents: s.documents?.corpus === corpus ? null : s.documents,
    }));
    await refreshCorpora();
  }

  function onProgress(event: IngestProgressEvent): void {
    const finished = event.result !== null || event.error !== null;
    store.set((s) => {
      const job = s.jobs[event.jobId];
      if (!job) return { ...s, early: { ...s.early, [event.jobId]: event } };
      const next: IngestJob = {
        ...job,
        last: event,
        error: event.error ? toUiError(event.error) : job.error,
        finished: job.finished || finished,
      };
      return { ...s, jobs: { ...s.jobs, [event.jobId]: next } };
    });
    if (finished) {
      void refreshCorpora().then(() => {
        if (store.get().selected === event.corpus) void loadDocuments(event.corpus);
      });
    }
  }

  return {
    store,
    refreshCorpora,
    loadDocuments,
    select,
    ingest,
    ingestUpload,
    reindex,
    cancel,
    remove,
    onProgress,
  };
}

/** The newest job of a corpus, if any. */
export function latestJob(jobs: Record<string, IngestJob>, corpus: string | null): IngestJob | null {
  let latest: IngestJob | null = null;
  for (const job of Object.values(jobs)) {
    if (corpus !== null && job.corpus !== corpus) continue;
    if (!latest || job.startedAt >= latest.startedAt) latest = job;
  }
  return latest;
}
