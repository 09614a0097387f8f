/**
 * A tiny external store: one state object, replaced (never mutated) on every change. Components read
 * it through useStore (useStore.ts); this module imports no React, so the stores and the router can
 * be unit-tested under the Node typecheck without React's DOM type stubs.
 */

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
