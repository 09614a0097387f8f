/**
 * The AppService across a message port, so the desktop app can run the engine in its own process
 * (an Electron utility process) and keep the Electron main process — windows, menus, IPC — free of
 * SQLite queries, index rebuilds and model loading, and alive if a native library crashes. The
 * protocol is plain structured-clone messages; runAppServiceHost (its own module, which loads the
 * engine) is the engine side and `connectAppService` here the caller side, which imports nothing but
 * types so the Electron main process never loads the engine. Both only need a `MessagePortLike`, so
 * the same code runs over Electron's parentPort / UtilityProcess in the app and over a
 * worker_threads MessageChannel in tests.
 */
import type { ErrorPayload, EventName, InvokeResult } from '../../../preload/contract.ts';
import type { AppServiceOptions } from './AppService.ts';

/** Anything that can post structured-clone messages and report the ones it receives. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  /** Adds a listener for incoming messages (already unwrapped from any event object). */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** What the engine process needs to create its service; sent as the first message. */
export type AppServiceInit = Omit<
  AppServiceOptions,
  'llmProvider' | 'now' | 'fetch' | 'engineOptions' | 'onWarning'
> & {
  /** Check outputs against the contract (development). Default: false. */
  validateOutput?: boolean;
};

/** Messages to the engine side. */
export type PortRequest =
  | { type: 'init'; init: AppServiceInit }
  | { type: 'invoke'; id: number; name: unknown; input: unknown }
  | { type: 'close'; id: number };

/** Messages from the engine side. */
export type PortResponse =
  | { type: 'ready' }
  | { type: 'init-failed'; error: ErrorPayload }
  | { type: 'result'; id: number; result: InvokeResult }
  | { type: 'event'; name: EventName; payload: unknown }
  | { type: 'closed'; id: number };

/** The caller side of the port. */
export interface AppServiceConnection {
  /** Resolves once the engine side created its service (rejects with its error if it could not). */
  ready: Promise<void>;
  /** Runs a command on the engine side; resolves with its InvokeResult (never rejects). */
  invoke(name: unknown, input: unknown): Promise<InvokeResult>;
  /** Receives every event the engine side emits. */
  onEvent(listener: (name: EventName, payload: unknown) => void): () => void;
  /** Asks the engine side to close its service; resolves when it did or after `timeoutMs`. */
  close(timeoutMs?: number): Promise<void>;
  /** Answers every pending invoke with `error` (the engine process died). */
  failPending(error: ErrorPayload): void;
}

/** How long close() waits for the engine side to confirm by default. */
export const DEFAULT_PORT_CLOSE_TIMEOUT_MS = 15_000;

/**
 * Connects to a runAppServiceHost over `port`: posts `init` at once, then matches results to
 * invokes by id. close() waits at most `timeoutMs` (default DEFAULT_PORT_CLOSE_TIMEOUT_MS, 15 s).
 */
export function connectAppService(port: MessagePortLike, init: AppServiceInit): AppServiceConnection {
  let nextId = 1;
  const pending = new Map<number, (result: InvokeResult) => void>();
  const closers = new Map<number, () => void>();
  const listeners = new Set<(name: EventName, payload: unknown) => void>();
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => undefined);

  port.onMessage((raw) => {
    const message = raw as PortResponse;
    if (typeof message !== 'object' || message === null) return;
    switch (message.type) {
      case 'ready':
        resolveReady();
        break;
      case 'init-failed':
        rejectReady(
          Object.assign(new Error(message.error.message), {
            name: message.error.name,
            code: message.error.code,
          }),
        );
        break;
      case 'result': {
        const resolve = pending.get(message.id);
        pending.delete(message.id);
        resolve?.(message.result);
        break;
      }
      case 'event':
        for (const listener of [...listeners]) listener(message.name, message.payload);
        break;
      case 'closed':
        closers.get(message.id)?.();
        break;
    }
  });
  port.postMessage({ type: 'init', init } satisfies PortRequest);

  return {
    ready,
    invoke(name, input) {
      const id = nextId++;
      return new Promise<InvokeResult>((resolve) => {
        pending.set(id, resolve);
        port.postMessage({ type: 'invoke', id, name, input } satisfies PortRequest);
      });
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    close(timeoutMs = DEFAULT_PORT_CLOSE_TIMEOUT_MS) {
      const id = nextId++;
      return new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          closers.delete(id);
          resolve();
        }
        closers.set(id, done);
        port.postMessage({ type: 'close', id } satisfies PortRequest);
      });
    },
    failPending(error) {
      for (const resolve of pending.values()) resolve({ ok: false, error });
      pending.clear();
      for (const close of [...closers.values()]) close();
    },
  };
}
