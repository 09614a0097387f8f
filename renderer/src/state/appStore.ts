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

export function createAppStore(bridge: ReckonBridge) {
  const store = createStore<AppState>({ view: 'ask', info: null, settings: null, loadError: null });

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
    navigate: (view: ViewId) => store.set({ view }),
    refreshInfo,
    refreshSettings,
    updateSettings,
  };
}
