/**
 * The strategies the engine's registry offers (listStrategies): the Ask view's picker and options
 * form, the labels of strategy ids in History and the run view, and the labels of each strategy's
 * own figures in the Metrics panel. The renderer lists no strategy names of its own.
 */
import type { ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';
import type { StrategyInfo } from './types.ts';

export interface StrategiesState {
  /** In registry order; null until loaded. */
  strategies: StrategyInfo[] | null;
  loading: boolean;
  /** Set when listStrategies failed; the picker then offers only the draft's strategy id. */
  error: UiError | null;
}

export type StrategiesStore = ReturnType<typeof createStrategiesStore>;

export function createStrategiesStore(bridge: ReckonBridge) {
  const store = createStore<StrategiesState>({ strategies: null, loading: false, error: null });

  /** Loads the registry's strategies; a failure is kept in `error` (never thrown). */
  async function refresh(): Promise<void> {
    store.set({ loading: true });
    try {
      const { strategies } = await bridge.invoke('listStrategies', {});
      store.set({ strategies, loading: false, error: null });
    } catch (error) {
      store.set({ loading: false, error: toUiError(error) });
    }
  }

  return { store, refresh };
}

/** The strategy with `id`, if the registry has it. */
export function findStrategy(
  strategies: readonly StrategyInfo[] | null,
  id: string | null,
): StrategyInfo | undefined {
  return id === null ? undefined : strategies?.find((strategy) => strategy.id === id);
}

/** The label of strategy `id` ("PyRAG …"); the id itself when the registry does not know it. */
export function strategyLabel(strategies: readonly StrategyInfo[] | null, id: string): string {
  return findStrategy(strategies, id)?.label ?? id;
}
