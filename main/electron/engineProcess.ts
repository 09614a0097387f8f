/**
 * Starts and supervises the engine's utility process and talks to it through connectAppService. If
 * the process dies (a native crash, out of memory), waiting commands fail with ENGINE_CRASHED and a
 * new process is started, a bounded number of times.
 */
import { utilityProcess, type UtilityProcess } from 'electron';
import type { ErrorPayload, EventName, InvokeResult } from '../../preload/contract.ts';
import {
  connectAppService,
  type AppServiceConnection,
  type AppServiceInit,
} from '../engine/app/AppServicePort.ts';

/** Restarts allowed within RESTART_WINDOW_MS before the engine is left down. */
export const MAX_RESTARTS = 3;
/** The window MAX_RESTARTS counts in. */
export const RESTART_WINDOW_MS = 60_000;

/** Options of startEngineProcess; all required. */
export interface EngineProcessOptions {
  /** The built serviceProcess.js. */
  modulePath: string;
  /** Sent to the process to create its AppService. */
  init: AppServiceInit;
  /** Every event of the engine. */
  onEvent: (name: EventName, payload: unknown) => void;
}

/** The engine as the main process sees it. */
export interface EngineProcess {
  invoke(name: unknown, input: unknown): Promise<InvokeResult>;
  /** Asks the engine to finish cleanly (cancel work, close stores), then ends the process. */
  close(): Promise<void>;
}

/**
 * Forks the engine process and restarts it after a crash (at most MAX_RESTARTS times per
 * RESTART_WINDOW_MS); after that, commands fail with ENGINE_DOWN telling the user to restart the app.
 */
export function startEngineProcess(options: EngineProcessOptions): EngineProcess {
  let child: UtilityProcess | undefined;
  let connection: AppServiceConnection | undefined;
  let closing = false;
  const restarts: number[] = [];

  const spawn = (): void => {
    const current = utilityProcess.fork(options.modulePath, [], {
      serviceName: 'Reckon engine',
      stdio: 'inherit',
    });
    const messageListeners = new Set<(message: unknown) => void>();
    current.on('message', (message: unknown) => {
      for (const listener of messageListeners) listener(message);
    });
    const currentConnection = connectAppService(
      {
        postMessage: (message) => current.postMessage(message),
        onMessage: (listener) => {
          messageListeners.add(listener);
          return () => messageListeners.delete(listener);
        },
      },
      options.init,
    );
    currentConnection.onEvent(options.onEvent);
    current.on('exit', (code) => {
      if (child !== current) return;
      currentConnection.failPending({
        name: 'ReckonError',
        code: 'ENGINE_CRASHED',
        message: `Reckon's engine stopped unexpectedly (exit code ${code}); it is being restarted. Work in progress was lost — start it again.`,
      });
      child = undefined;
      connection = undefined;
      if (closing) return;
      const now = Date.now();
      while (restarts.length > 0 && now - restarts[0]! > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length >= MAX_RESTARTS) {
        console.error(
          `The engine process crashed ${MAX_RESTARTS + 1} times within a minute; not restarting it.`,
        );
        return;
      }
      restarts.push(now);
      spawn();
    });
    child = current;
    connection = currentConnection;
  };
  spawn();

  const down: ErrorPayload = {
    name: 'ReckonError',
    code: 'ENGINE_DOWN',
    message:
      "Reckon's engine keeps crashing and was stopped. Quit and restart the app; if it happens again, check the log.",
  };

  return {
    async invoke(name, input) {
      if (!connection) return { ok: false, error: down };
      return connection.invoke(name, input);
    },
    async close() {
      closing = true;
      const current = child;
      await connection?.close();
      current?.kill();
    },
  };
}
