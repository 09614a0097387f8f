/**
 * The Electron adapter: app lifecycle, the window, hardening and the IPC bridge. Thin by design —
 * the engine runs in its own utility process (engineProcess.ts) and every decision that can be
 * made without Electron (sender checks, navigation rules, static files, CSP) lives in
 * main/engine/app. The renderer is served from app://reckon (appProtocol.ts), sandboxed, with
 * context isolation and no Node; it reaches the engine only through the preload's invoke/on.
 */
import { app, BrowserWindow, session } from 'electron';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventName } from '../../preload/contract.ts';
import { electronRendererDevUrl, resolveSettings } from '../engine/config.ts';
import { APP_ORIGIN, type OriginPolicyOptions } from '../engine/app/senderPolicy.ts';
import { handleAppProtocol, registerAppScheme } from './appProtocol.ts';
import { startEngineProcess, type EngineProcess } from './engineProcess.ts';
import { invokeWithDesktopCommands } from './desktopCommands.ts';
import { denyAllPermissions, hardenAllWebContents } from './hardening.ts';
import { registerIpcBridge } from './ipcBridge.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
/** electron-vite's dev server (`npm run dev`); never honoured in a packaged app. */
const devServerUrl = app.isPackaged ? undefined : electronRendererDevUrl();
const origins: OriginPolicyOptions = {
  allowedOrigins: devServerUrl ? [APP_ORIGIN, new URL(devServerUrl).origin] : [APP_ORIGIN],
};
/** webContents ids of the windows this app created: the only senders IPC accepts. */
const trustedIds = new Set<number>();
let engine: EngineProcess | undefined;
let engineClosing: Promise<void> | undefined;
let engineClosed = false;

// Before `ready`: the scheme's privileges, the sandbox for every renderer, and the hardening of
// every webContents that will ever exist.
registerAppScheme();
app.enableSandbox();
hardenAllWebContents(origins);

if (!app.requestSingleInstanceLock()) {
  // One app per data directory: a second instance would be a second writer.
  app.quit();
} else {
  app.on('second-instance', () => {
    const window = BrowserWindow.getAllWindows()[0];
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
  });
  void app.whenReady().then(start);
}

function start(): void {
  handleAppProtocol(path.join(here, '../renderer'));
  denyAllPermissions(session.defaultSession);
  app.on('session-created', denyAllPermissions);

  const settings = resolveSettings();
  let sendEvent: (name: EventName, payload: unknown) => void = () => {};
  const started = startEngineProcess({
    modulePath: path.join(here, 'serviceProcess.js'),
    init: {
      dataDir: settings.dataDir,
      modelsDir: settings.modelsDir,
      host: 'electron',
      ...(settings.openAiApiKey !== undefined ? { openAiApiKey: settings.openAiApiKey } : {}),
      validateOutput: !app.isPackaged,
    },
    onEvent: (name, payload) => sendEvent(name, payload),
  });
  engine = started;
  sendEvent = registerIpcBridge({
    invoke: (name, input, sender) =>
      invokeWithDesktopCommands(name, input, sender, (engineName, engineInput) =>
        started.invoke(engineName, engineInput),
      ),
    trustedIds,
    origins,
  });

  createMainWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
}

function createMainWindow(): void {
  const window = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 800,
    minHeight: 560,
    show: false,
    title: 'Reckon',
    webPreferences: {
      preload: path.join(here, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      // Middle-click would otherwise try to open links in new windows (denied anyway).
      disableBlinkFeatures: 'Auxclick',
      devTools: !app.isPackaged,
    },
  });
  const id = window.webContents.id;
  trustedIds.add(id);
  window.webContents.once('destroyed', () => trustedIds.delete(id));
  window.once('ready-to-show', () => window.show());
  void window.loadURL(devServerUrl ?? `${APP_ORIGIN}/index.html`);
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

// Let the engine cancel its work and close its stores before the app exits.
app.on('before-quit', (event) => {
  if (engineClosed || !engine) return;
  event.preventDefault();
  engineClosing ??= engine.close().finally(() => {
    engineClosed = true;
    app.quit();
  });
});
