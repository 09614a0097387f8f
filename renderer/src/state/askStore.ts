/** The Ask form's draft and the run it started last (kept while the user visits other views). */
import { DEFAULT_STRATEGY_ID } from '../../../preload/contract.ts';
import { createStore } from './createStore.ts';
import type { OptionDraftValue, OptionDrafts } from './strategyOptions.ts';
import type { SearchMode, StrategyId } from './types.ts';

export interface AskDraft {
  question: string;
  corpus: string;
  /** A registered strategy id (listStrategies); DEFAULT_STRATEGY_ID until the user picks one. */
  strategy: StrategyId;
  /**
   * Edited option fields per strategy id (kept per strategy, so switching strategies and back keeps
   * the edits); fields not here show their defaults.
   */
  options: Readonly<Record<StrategyId, OptionDrafts>>;
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
  strategy: DEFAULT_STRATEGY_ID,
  options: {},
  model: '',
  k: '',
  mode: 'hybrid',
};

export type AskStore = ReturnType<typeof createAskStore>;

export function createAskStore() {
  const store = createStore<AskState>({ draft: EMPTY_DRAFT, currentRunId: null });
  const setDraft = (patch: Partial<AskDraft>): void =>
    store.set((s) => ({ ...s, draft: { ...s.draft, ...patch } }));
  return {
    store,
    setDraft,
    /** Sets one option field of one strategy. */
    setOption: (strategy: StrategyId, key: string, value: OptionDraftValue) =>
      store.set((s) => ({
        ...s,
        draft: {
          ...s.draft,
          options: { ...s.draft.options, [strategy]: { ...s.draft.options[strategy], [key]: value } },
        },
      })),
    /** Puts every option of `strategy` back to its default. */
    resetOptions: (strategy: StrategyId) =>
      store.set((s) => {
        if (!(strategy in s.draft.options)) return s;
        const { [strategy]: _dropped, ...rest } = s.draft.options;
        return { ...s, draft: { ...s.draft, options: rest } };
      }),
    setCurrentRun: (runId: string | null) => store.set({ currentRunId: runId }),
  };
}
