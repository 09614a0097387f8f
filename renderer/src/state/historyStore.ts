/** History state: the saved runs matching the search box, and the run opened from the list. */
import type { ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';
import type { RunSummary } from './types.ts';

/** Runs listed at most. Default 200. */
export const HISTORY_LIMIT = 200;

export interface HistoryState {
  search: string;
  runs: RunSummary[] | null;
  loading: boolean;
  error: UiError | null;
  openRunId: string | null;
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;

export function createHistoryStore(bridge: ReckonBridge) {
  const store = createStore<HistoryState>({
    search: '',
    runs: null,
    loading: false,
    error: null,
    openRunId: null,
  });
  let generation = 0;

  async function refresh(): Promise<void> {
    const mine = ++generation;
    const search = store.get().search.trim();
    store.set({ loading: true });
    try {
      const { runs } = await bridge.invoke('listRuns', {
        limit: HISTORY_LIMIT,
        ...(search ? { search } : {}),
      });
      // A newer search may have been typed meanwhile; only the latest answer counts.
      if (mine === generation) store.set({ runs, loading: false, error: null });
    } catch (error) {
      if (mine === generation) store.set({ loading: false, error: toUiError(error) });
    }
  }

  return {
    store,
    refresh,
    setSearch: (search: string) => store.set({ search }),
    open: (runId: string | null) => store.set({ openRunId: runId }),
    /** Refreshes only if the list has been loaded before (a run finished while History was open or visited). */
    refreshIfLoaded: () => (store.get().runs !== null ? refresh() : Promise.resolve()),
  };
}
