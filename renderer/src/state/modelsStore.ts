/**
 * Models state: the catalog, the model files found on disk, and downloads with their progress. A
 * download can be paused (stopped, keeping what it downloaded for the next pull to resume from),
 * cancelled (stopped and its partial files deleted), and a paused one discarded.
 */
import type { ModelCheck, ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';
import type { CatalogModel, DownloadProgressEvent, LocalModel } from './types.ts';

export interface Download {
  modelId: string;
  jobId: string | null;
  file: string | null;
  receivedBytes: number;
  totalBytes: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
  done: boolean;
  error: UiError | null;
}

/** The latest check of a model spec (Models view: "Check" / "Test"). */
export interface ModelCheckState {
  spec: string;
  /** True for a check that also generated one token. */
  generate: boolean;
  running: boolean;
  result: ModelCheck | null;
  /** The check itself could not run (a bad spec, the service gone). */
  error: UiError | null;
}

export interface ModelsState {
  modelsDir: string | null;
  catalog: CatalogModel[] | null;
  local: LocalModel[];
  error: UiError | null;
  /** Downloads by model id. */
  downloads: Record<string, Download>;
  /** The latest model check; null before the first. */
  check: ModelCheckState | null;
}

export type ModelsStore = ReturnType<typeof createModelsStore>;

export function createModelsStore(bridge: ReckonBridge, onInstalled: () => void) {
  const store = createStore<ModelsState>({
    modelsDir: null,
    catalog: null,
    local: [],
    error: null,
    downloads: {},
    check: null,
  });

  /**
   * Checks `spec` (checkModel): its file, header or server; with `generate`, one token through the
   * real backend. A newer check replaces an older one still running.
   */
  async function check(spec: string, options: { generate: boolean }): Promise<void> {
    const started: ModelCheckState = {
      spec,
      generate: options.generate,
      running: true,
      result: null,
      error: null,
    };
    store.set({ check: started });
    let next: ModelCheckState;
    try {
      const result = await bridge.invoke('checkModel', { spec, generate: options.generate });
      next = { ...started, running: false, result };
    } catch (error) {
      next = { ...started, running: false, error: toUiError(error) };
    }
    // A check started meanwhile (another spec, or Test after Check) wins.
    if (store.get().check === started) store.set({ check: next });
  }

  async function refresh(): Promise<void> {
    try {
      const { modelsDir, catalog, local } = await bridge.invoke('listModels', {});
      store.set({ modelsDir, catalog, local, error: null });
    } catch (error) {
      store.set({ error: toUiError(error) });
    }
  }

  function patchDownload(modelId: string, patch: Partial<Download>): void {
    store.set((s) => {
      const current: Download = s.downloads[modelId] ?? {
        modelId,
        jobId: null,
        file: null,
        receivedBytes: 0,
        totalBytes: null,
        bytesPerSecond: 0,
        etaSeconds: null,
        done: false,
        error: null,
      };
      return { ...s, downloads: { ...s.downloads, [modelId]: { ...current, ...patch } } };
    });
  }

  async function pull(modelId: string): Promise<void> {
    patchDownload(modelId, {
      done: false,
      error: null,
      receivedBytes: 0,
      totalBytes: null,
      etaSeconds: null,
    });
    try {
      const { jobId } = await bridge.invoke('pullModel', { id: modelId });
      // Progress events may already have finished the job; keep their state.
      patchDownload(modelId, { jobId });
    } catch (error) {
      patchDownload(modelId, { error: toUiError(error), done: true });
    }
  }

  /**
   * Stops a running download: `discard: false` pauses it (its partial files stay for Resume),
   * `discard: true` cancels it (they are deleted). The list is read again afterwards.
   */
  async function stop(modelId: string, options: { discard: boolean }): Promise<void> {
    const jobId = store.get().downloads[modelId]?.jobId;
    if (!jobId) return;
    try {
      await bridge.invoke('cancelJob', { jobId, discard: options.discard });
      // The job has ended by now (the service waits for a download to let go of its files).
      patchDownload(modelId, { done: true, error: null });
    } catch (error) {
      patchDownload(modelId, { error: toUiError(error) });
    }
    await refresh();
  }

  /** Deletes what a paused download of `modelId` left, then reads the list again. */
  async function discard(modelId: string): Promise<void> {
    try {
      await bridge.invoke('discardDownload', { id: modelId });
      patchDownload(modelId, { done: true, error: null });
    } catch (error) {
      patchDownload(modelId, { error: toUiError(error), done: true });
    }
    await refresh();
  }

  function onProgress(event: DownloadProgressEvent): void {
    // A pause or a cancel ends the job with CANCELLED: the user asked for it, so it is no failure.
    const failure = event.error && event.error.code !== 'CANCELLED' ? toUiError(event.error) : null;
    patchDownload(event.modelId, {
      jobId: event.jobId,
      file: event.file,
      receivedBytes: event.receivedBytes,
      totalBytes: event.totalBytes,
      bytesPerSecond: event.bytesPerSecond,
      etaSeconds: event.etaSeconds,
      done: event.done || event.error !== null,
      error: failure,
    });
    if (event.done || event.error) {
      void refresh();
      if (event.done && !event.error) onInstalled();
    }
  }

  return {
    store,
    refresh,
    pull,
    pause: (modelId: string) => stop(modelId, { discard: false }),
    cancel: (modelId: string) => stop(modelId, { discard: true }),
    discard,
    onProgress,
    check,
  };
}
