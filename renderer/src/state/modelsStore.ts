/** Models state: the catalog, the model files found on disk, and downloads with their progress. */
import type { ReckonBridge } from '../../../preload/contract.ts';
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

export interface ModelsState {
  modelsDir: string | null;
  catalog: CatalogModel[] | null;
  local: LocalModel[];
  error: UiError | null;
  /** Downloads by model id. */
  downloads: Record<string, Download>;
}

export type ModelsStore = ReturnType<typeof createModelsStore>;

export function createModelsStore(bridge: ReckonBridge, onInstalled: () => void) {
  const store = createStore<ModelsState>({
    modelsDir: null,
    catalog: null,
    local: [],
    error: null,
    downloads: {},
  });

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

  async function cancel(modelId: string): Promise<void> {
    const jobId = store.get().downloads[modelId]?.jobId;
    if (!jobId) return;
    try {
      await bridge.invoke('cancelJob', { jobId });
    } catch (error) {
      patchDownload(modelId, { error: toUiError(error) });
    }
  }

  function onProgress(event: DownloadProgressEvent): void {
    patchDownload(event.modelId, {
      jobId: event.jobId,
      file: event.file,
      receivedBytes: event.receivedBytes,
      totalBytes: event.totalBytes,
      bytesPerSecond: event.bytesPerSecond,
      etaSeconds: event.etaSeconds,
      done: event.done || event.error !== null,
      error: event.error ? toUiError(event.error) : null,
    });
    if (event.done || event.error) {
      void refresh();
      if (event.done && !event.error) onInstalled();
    }
  }

  return { store, refresh, pull, cancel, onProgress };
}
