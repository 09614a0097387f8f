/**
 * The preload bridge (sandboxed, CommonJS): exposes exactly `window.reckon.invoke(name, input)` and
 * `window.reckon.on(event, listener) → unsubscribe` over the contract — never ipcRenderer itself,
 * never a generic send — plus `desktop.pathForFile(file)`, the path of a file dropped onto the page
 * (webUtils.getPathForFile; it reads a File the page already holds and sends nothing). Main checks the sender and parses every input; failures come back as an
 * InvokeResult and are rejected here as a plain {name, code, message}, because Error objects lose
 * their properties crossing the context bridge (renderer/src/bridge.ts turns them back into Errors).
 * Imports only types from the contract, so nothing but `electron` is required at run time.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { InvokeResult, ReckonBridge } from './contract.ts';

// One IPC listener fans events out, however many components subscribe.
const listeners = new Map<unknown, Set<(payload: never) => void>>();
ipcRenderer.on('reckon:event', (_event, name: unknown, payload: unknown) => {
  for (const listener of [...(listeners.get(name) ?? [])]) {
    try {
      listener(payload as never);
    } catch (error) {
      console.error(`A listener of ${String(name)} failed:`, error);
    }
  }
});

const bridge: ReckonBridge = {
  async invoke(name, input) {
    const result = (await ipcRenderer.invoke('reckon:invoke', name, input)) as InvokeResult;
    if (result.ok) return result.value as never;
    throw { name: result.error.name, code: result.error.code, message: result.error.message };
  },
  on(event, listener) {
    const set = listeners.get(event) ?? new Set();
    listeners.set(event, set);
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  },
  desktop: {
    pathForFile: (file) => webUtils.getPathForFile(file),
  },
};

contextBridge.exposeInMainWorld('reckon', bridge);
