/**
 * The React side of createStore: a component reads a slice through useSyncExternalStore and
 * re-renders only when that slice changes.
 */
import { useSyncExternalStore } from 'react';
import type { Store } from './createStore.ts';

/**
 * Reads a slice of a store. The selector must return a value already held in the state (or a
 * primitive), not a new object per call, or React would re-render forever.
 */
export function useStore<T, S>(store: Store<T>, selector: (state: T) => S): S {
  return useSyncExternalStore(store.subscribe, () => selector(store.get()));
}
