/**
 * Lock-down that applies to every webContents the app ever creates: no navigation away from the app,
 * no new windows, no webviews, no permissions. The decisions themselves are plain functions in the
 * engine (senderPolicy.ts); this file only attaches them to Electron's events.
 */
import { app, BrowserWindow, dialog, shell, type Session, type WebContents } from 'electron';
import { classifyExternalUrl, isAppUrl, type OriginPolicyOptions } from '../engine/app/senderPolicy.ts';

/**
 * Asks the user before opening an https link in the system browser; anything else is ignored.
 * Never opens a link inside the app.
 */
export async function openExternalAfterConfirmation(
  url: string,
  owner: WebContents | undefined,
): Promise<void> {
  if (classifyExternalUrl(url) !== 'confirm') {
    console.warn(`Refused to open a non-https link: ${url.slice(0, 200)}`);
    return;
  }
  const window = owner ? BrowserWindow.fromWebContents(owner) : null;
  const options = {
    type: 'question' as const,
    buttons: ['Open in browser', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    message: 'Open this link in your web browser?',
    detail: url,
  };
  const { response } = window
    ? await dialog.showMessageBox(window, options)
    : await dialog.showMessageBox(options);
  if (response === 0) await shell.openExternal(url);
}

/**
 * Registers the hardening for every webContents (`web-contents-created`): window.open and
 * target=_blank are denied (https links go through openExternalAfterConfirmation), navigations and
 * redirects of any frame to a URL outside the app origin are prevented (https ones offered to the
 * system browser), and `<webview>` is never attached. Call once, before creating windows.
 */
export function hardenAllWebContents(origins: OriginPolicyOptions): void {
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(({ url }) => {
      void openExternalAfterConfirmation(url, contents);
      return { action: 'deny' };
    });
    contents.on('will-navigate', (event) => {
      if (isAppUrl(event.url, origins)) return;
      event.preventDefault();
      void openExternalAfterConfirmation(event.url, contents);
    });
    contents.on('will-frame-navigate', (event) => {
      if (!isAppUrl(event.url, origins)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isAppUrl(event.url, origins)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}

/**
 * Denies every permission request and check (camera, microphone, notifications, geolocation,
 * clipboard reads, HID/serial/USB devices, display capture…) in `session`: the app needs none.
 */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
  session.setDisplayMediaRequestHandler((_request, callback) => callback({}));
}
