/** The Ask form's draft and the run it started last (kept while the user visits other views). */
import { createStore } from './createStore.ts';
import type { SearchMode, Strategy } from './types.ts';

export interface AskDraft {
  question: string;
  corpus: string;
  strategy: Strategy;
  /** '' = the active model from Settings. */
  model: string;
  /** '' = the default (5 passages per retrieve()). */
  k: string;
  mode: SearchMode;
}

export interface AskState {
  draft: AskDraft;
  currentRunId: string | null;
}

export const EMPTY_DRAFT: AskDraft = {
  question: '',
  corpus: '',
  strategy: 'pyrag',
  model: '',
  k: '',
  mode: 'hybrid',
};

export type AskStore = ReturnType<typeof createAskStore>;

export function createAskStore() {
  const store = createStore<AskState>({ draft: EMPTY_DRAFT, currentRunId: null });
  return {
    store,
    setDraft: (patch: Partial<AskDraft>) => store.set((s) => ({ ...s, draft: { ...s.draft, ...patch } })),
    setCurrentRun: (runId: string | null) => store.set({ currentRunId: runId }),
  };
}
