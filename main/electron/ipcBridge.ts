/**
 * The IPC side of the preload bridge: one handler for `reckon:invoke` that checks who is asking
 * before anything runs, and event delivery to our own windows only.
 */
import { ipcMain, webContents as allWebContents, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { EventName, InvokeResult } from '../../preload/contract.ts';
import { isAppUrl, isTrustedSender, type OriginPolicyOptions } from '../engine/app/senderPolicy.ts';

/** The channel preload/index.ts invokes. */
export const INVOKE_CHANNEL = 'reckon:invoke';
/** The channel events are sent on. */
export const EVENT_CHANNEL = 'reckon:event';

/** Options of registerIpcBridge; all required. */
export interface IpcBridgeOptions {
  /** Runs a command (in the engine process, or here for desktop-only ones) for `sender`; never rejects. */
  invoke: (name: unknown, input: unknown, sender: WebContents) => Promise<InvokeResult>;
  /** Ids of the webContents of windows the app created; kept up to date by the caller. */
  trustedIds: ReadonlySet<number>;
  /** The origins that count as the app (see isAppUrl). */
  origins: OriginPolicyOptions;
}

/**
 * Registers the `reckon:invoke` handler. A message whose sender is not the main frame of one of our
 * windows showing the app origin (isTrustedSender) is rejected with an error and never reaches the
 * engine. Returns `sendEvent(name, payload)`, which delivers an event to each of our windows that
 * still shows the app.
 */
export function registerIpcBridge(options: IpcBridgeOptions): (name: EventName, payload: unknown) => void {
  ipcMain.handle(INVOKE_CHANNEL, async (event: IpcMainInvokeEvent, name: unknown, input: unknown) => {
    const frame = event.senderFrame;
    const trusted = isTrustedSender(
      {
        url: frame?.url,
        isMainFrame: frame !== null && frame === event.sender.mainFrame,
        webContentsId: event.sender.id,
      },
      options.trustedIds,
      options.origins,
    );
    if (!trusted) {
      console.warn(`Refused an IPC call from an untrusted frame (${frame?.url.slice(0, 200) ?? 'gone'}).`);
      throw new Error('Refused: this frame is not the Reckon app.');
    }
    return options.invoke(name, input, event.sender);
  });

  return (name, payload) => {
    for (const id of options.trustedIds) {
      const contents = allWebContents.fromId(id);
      if (!contents || contents.isDestroyed() || !isAppUrl(contents.getURL(), options.origins)) continue;
      contents.send(EVENT_CHANNEL, name, payload);
    }
  };
}
