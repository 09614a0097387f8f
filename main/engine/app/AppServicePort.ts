/**
 * The AppService across a message port, so the desktop app can run the engine in its own process
 * (an Electron utility process) and keep the Electron main process — windows, menus, IPC — free of
 * SQLite queries, index rebuilds and model loading, and alive if a native library crashes. The
 * protocol is plain structured-clone messages; `runAppServiceHost` is the engine side and
 * `connectAppService` the caller side. Both only need a `MessagePortLike`, so the same code runs
 * over Electron's parentPort / UtilityProcess in the app and over a worker_threads MessageChannel in
 * tests.
 */
import { EVENT_NAMES, isEventName, type ErrorPayload, type EventName, type InvokeResult } from '../../../preload/contract.ts';
import { createAppService, type AppService, type AppServiceOptions } from './AppService.ts';
import { dispatchCommand, type DispatchOptions } from './dispatchCommand.ts';

/** Anything that can post structured-clone messages and report the ones it receives. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  /** Adds a listener for incoming messages (already unwrapped from any event object). */
  onMessage(listener: (message: unknown) => void): () => void;
}

/** What the engine process needs to create its service; sent as the first message. */
export type AppServiceInit = Omit<AppServiceOptions, 'llmProvider' | 'now' | 'fetch' | 'engineOptions' | 'onWarning'> & {
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

export interface AppServiceHostOptions {
  /** Creates the service from the init message. Default: createAppService. */
  createService?: (init: AppServiceInit) => AppService;
  /** Passed to dispatchCommand (validateOutput comes from the init message). Default: {}. */
  dispatch?: Omit<DispatchOptions, 'validateOutput'>;
  /** Called after a 'close' request was handled (the engine process exits here). Default: nothing. */
  onClosed?: () => void;
}

/**
 * The engine side: waits for `{type: 'init'}`, creates the service (default createAppService with
 * the init options) and answers `ready` (or `init-failed`), then runs each `invoke` through
 * dispatchCommand and posts its `result`, forwards every contract event as `event`, and on `close`
 * closes the service and answers `closed`. Invokes that arrive before init are answered with a
 * 'NOT_READY' error. Returns a function that detaches from the port (without closing the service).
 */
export function runAppServiceHost(port: MessagePortLike, options: AppServiceHostOptions = {}): () => void {
  let service: AppService | undefined;
  let dispatch: DispatchOptions = { ...options.dispatch };
  let unsubscribeEvents: (() => void)[] = [];
  const post = (message: PortResponse): void => port.postMessage(message);

  const detach = port.onMessage((raw) => {
    const message = raw as PortRequest;
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'init') {
      if (service) return;
      try {
        service = (options.createService ?? createAppService)(message.init);
      } catch (error) {
        const reckon = error as { name?: unknown; code?: unknown; message?: unknown };
        post({
          type: 'init-failed',
          error: {
            name: typeof reckon.name === 'string' ? reckon.name : 'ReckonError',
            code: typeof reckon.code === 'string' ? reckon.code : 'INTERNAL',
            message: typeof reckon.message === 'string' ? reckon.message : 'The engine could not start.',
          },
        });
        return;
      }
      dispatch = { ...options.dispatch, validateOutput: message.init.validateOutput ?? false };
      const started = service;
      unsubscribeEvents = EVENT_NAMES.map((name) =>
        started.on(name, (payload: unknown) => post({ type: 'event', name, payload })),
      );
      post({ type: 'ready' });
      return;
    }
    if (message.type === 'invoke') {
      const { id } = message;
      if (!service) {
        post({
          type: 'result',
          id,
          result: { ok: false, error: { name: 'ReckonError', code: 'NOT_READY', message: 'The engine is still starting; try again in a moment.' } },
        });
        return;
      }
      void dispatchCommand(service, message.name, message.input, dispatch).then((result) =>
        post({ type: 'result', id, result }),
      );
      return;
    }
    if (message.type === 'close') {
      const { id } = message;
      for (const unsubscribe of unsubscribeEvents) unsubscribe();
      unsubscribeEvents = [];
      void (service?.close() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => {
          post({ type: 'closed', id });
          options.onClosed?.();
        });
    }
  });
  return () => {
    for (const unsubscribe of unsubscribeEvents) unsubscribe();
    detach();
  };
}

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
        rejectReady(Object.assign(new Error(message.error.message), { name: message.error.name, code: message.error.code }));
        break;
      case 'result': {
        const resolve = pending.get(message.id);
        pending.delete(message.id);
        resolve?.(message.result);
        break;
      }
      case 'event':
        if (!isEventName(message.name)) break;
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
