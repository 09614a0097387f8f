/**
 * A tiny external store for React: one state object, replaced (never mutated) on every change, read
 * through useSyncExternalStore so components re-render only when the slice they select changes.
 */
import { useSyncExternalStore } from 'react';

export interface Store<T> {
  get(): T;
  /** Replaces the state with `update(state)`, or merges a partial state. */
  set(update: Partial<T> | ((state: T) => T)): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T extends object>(initial: T): Store<T> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => state,
    set(update) {
      const next = typeof update === 'function' ? update(state) : { ...state, ...update };
      if (next === state) return;
      state = next;
      for (const listener of [...listeners]) listener();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/**
 * Reads a slice of a store. The selector must return a value already held in the state (or a
 * primitive), not a new object per call, or React would re-render forever.
 */
export function useStore<T, S>(store: Store<T>, selector: (state: T) => S): S {
  return useSyncExternalStore(store.subscribe, () => selector(store.get()));
}
