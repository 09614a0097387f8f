/**
 * The preload bridge (sandboxed, CommonJS): exposes exactly `window.reckon.invoke(name, input)` and
 * `window.reckon.on(event, listener) → unsubscribe` over the contract — never ipcRenderer itself,
 * never a generic send. Main checks the sender and parses every input; failures come back as an
 * InvokeResult and are rejected here as a plain {name, code, message}, because Error objects lose
 * their properties crossing the context bridge (renderer/src/bridge.ts turns them back into Errors).
 * Imports only types from the contract, so nothing but `electron` is required at run time.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { InvokeResult, ReckonBridge } from './contract.ts';

const bridge: ReckonBridge = {
  async invoke(name, input) {
    const result = (await ipcRenderer.invoke('reckon:invoke', name, input)) as InvokeResult;
    if (result.ok) return result.value as never;
    throw { name: result.error.name, code: result.error.code, message: result.error.message };
  },
  on(event, listener) {
    const handler = (_event: IpcRendererEvent, name: unknown, payload: unknown): void => {
      if (name === event) listener(payload as never);
    };
    ipcRenderer.on('reckon:event', handler);
    return () => {
      ipcRenderer.removeListener('reckon:event', handler);
    };
  },
};

contextBridge.exposeInMainWorld('reckon', bridge);
