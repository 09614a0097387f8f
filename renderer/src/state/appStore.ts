/** App-wide state: the current view, the app info (paths, hasModel) and the settings. */
import type { ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';
import type { AppInfo, Settings, SettingsPatch, ViewId } from './types.ts';

export interface AppState {
  view: ViewId;
  info: AppInfo | null;
  settings: Settings | null;
  /** Set when the app info could not be loaded (the bridge is down). */
  loadError: UiError | null;
}

export type AppStore = ReturnType<typeof createAppStore>;

/** Says why leaving the view now would lose something (the question to ask), or null when nothing would. */
export type LeaveGuard = () => string | null;

/** Options of createAppStore. */
export interface AppStoreOptions {
  /** Asks the user a yes/no question. Default: the browser's `confirm()`. */
  confirm?: (question: string) => boolean;
}

export function createAppStore(bridge: ReckonBridge, options: AppStoreOptions = {}) {
  const store = createStore<AppState>({ view: 'ask', info: null, settings: null, loadError: null });
  // Typed structurally: the store is also compiled (in tests) without the DOM's types.
  const confirm =
    options.confirm ??
    ((question: string) =>
      (globalThis as unknown as { confirm(question: string): boolean }).confirm(question));
  const guards = new Set<LeaveGuard>();

  /** Asks every leave guard that has something to lose; true when there is nothing or the user agrees. */
  function confirmLeave(): boolean {
    for (const guard of guards) {
      const question = guard();
      if (question !== null && !confirm(question)) return false;
    }
    return true;
  }

  async function refreshInfo(): Promise<void> {
    try {
      const info = await bridge.invoke('getAppInfo', {});
      store.set({ info, loadError: null });
    } catch (error) {
      store.set({ loadError: toUiError(error) });
    }
  }

  async function refreshSettings(): Promise<void> {
    try {
      store.set({ settings: await bridge.invoke('getSettings', {}) });
    } catch (error) {
      store.set({ loadError: toUiError(error) });
    }
  }

  /** Saves a settings patch; throws the bridge's error for the caller to show. */
  async function updateSettings(patch: SettingsPatch): Promise<Settings> {
    const settings = await bridge.invoke('updateSettings', patch);
    store.set({ settings });
    // hasModel depends on the active model.
    void refreshInfo();
    return settings;
  }

  return {
    store,
    /** Shows another view once the leave guards agree; false when the user chose to stay. */
    navigate(view: ViewId): boolean {
      if (view !== store.get().view && !confirmLeave()) return false;
      store.set({ view });
      return true;
    },
    confirmLeave,
    /** Whether a leave guard has something to lose now (for the page's beforeunload). */
    hasUnsavedChanges: (): boolean => [...guards].some((guard) => guard() !== null),
    /**
     * Installs a view's leave guard (Settings with unsaved edits): navigating away, in the app or
     * with back/forward, asks its question first. Returns the function that removes it.
     */
    setLeaveGuard(guard: LeaveGuard): () => void {
      guards.add(guard);
      return () => {
        guards.delete(guard);
      };
    },
    refreshInfo,
    refreshSettings,
    updateSettings,
  };
}
