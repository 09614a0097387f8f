/**
 * Entry of the engine's utility process (started by engineProcess.ts with utilityProcess.fork): runs
 * the AppService here, so SQLite, index rebuilds and model loading never block the Electron main
 * process, and a crash in a native library takes down only this process. Everything it does is in
 * the engine (runAppServiceHost); this file only adapts Electron's parentPort.
 */
import type { ParentPort } from 'electron';
import { runAppServiceHost } from '../engine/app/runAppServiceHost.ts';

const parentPort: ParentPort | undefined = (process as { parentPort?: ParentPort }).parentPort;
if (!parentPort) {
  console.error('serviceProcess: this file runs only as an Electron utility process.');
  process.exit(1);
}

runAppServiceHost(
  {
    postMessage: (message) => parentPort.postMessage(message),
    onMessage: (listener) => {
      const handler = (event: Electron.MessageEvent): void => listener(event.data);
      parentPort.on('message', handler);
      return () => parentPort.off('message', handler);
    },
  },
  {
    dispatch: {
      onUnexpectedError: (error, command) => console.error(`Unexpected error in ${command}:`, error),
    },
    onClosed: () => process.exit(0),
  },
);
