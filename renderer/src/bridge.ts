/**
 * The UI's one way to reach Reckon. In the desktop app the preload script exposes `window.reckon`
 * (invoke/on over IPC); in a browser opened by `reckon serve` there is no preload, so the same
 * ReckonBridge is built over a WebSocket to the page's own server, authenticated with the token the
 * page's URL carries. Either way a failed command rejects with a BridgeError — an Error with the
 * `name`, `code` and `message` the main side chose — so the UI can branch on `code` and show
 * `message` as it is.
 *
 * Written against small structural types rather than the DOM's, so tests can drive it with the `ws`
 * package's WebSocket in Node.
 */
import type {
  CommandInput,
  CommandName,
  CommandOutput,
  ErrorPayload,
  EventName,
  EventPayload,
  ReckonBridge,
} from '../../preload/contract.ts';

declare global {
  interface Window {
    /** The preload bridge; present only inside the desktop app. */
    reckon?: ReckonBridge;
  }
}

/** A failed command: `name` and `code` as the main side set them (ReckonError, CORPUS_NOT_FOUND…). */
export class BridgeError extends Error {
  readonly code: string;

  constructor(payload: ErrorPayload) {
    super(payload.message);
    this.name = payload.name;
    this.code = payload.code;
  }
}

/** The parts of a WebSocket the client uses (the browser's and the `ws` package's both fit). */
export interface BridgeSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

/** WebSocket.OPEN. */
const SOCKET_OPEN = 1;
/** First wait before reconnecting; doubles per failed attempt. */
export const DEFAULT_RECONNECT_DELAY_MS = 250;
/** Longest wait between reconnection attempts. */
export const DEFAULT_MAX_RECONNECT_DELAY_MS = 5_000;
/** Failed connection attempts in a row after which waiting commands are failed (reconnecting goes on). */
export const DEFAULT_CONNECT_ATTEMPTS_BEFORE_FAILING = 3;

/** Options of createWebSocketBridge; only url is required. */
export interface WebSocketBridgeOptions {
  /** The bridge endpoint, `ws://127.0.0.1:PORT/bridge?token=…`. */
  url: string;
  /** Opens a socket. Default: `new WebSocket(url)` with the environment's WebSocket. */
  createSocket?: (url: string) => BridgeSocket;
  /** Default: DEFAULT_RECONNECT_DELAY_MS (250). */
  reconnectDelayMs?: number;
  /** Default: DEFAULT_MAX_RECONNECT_DELAY_MS (5000). */
  maxReconnectDelayMs?: number;
  /** Default: DEFAULT_CONNECT_ATTEMPTS_BEFORE_FAILING (3). */
  connectAttemptsBeforeFailing?: number;
}

/** A WebSocket bridge, plus the means to shut it down (tests, page unload). */
export interface WebSocketBridge extends ReckonBridge {
  /** Closes the socket, stops reconnecting and fails every waiting command with code 'CLOSED'. */
  close(): void;
}

interface Pending {
  name: string;
  text: string;
  sent: boolean;
  resolve: (value: unknown) => void;
  reject: (error: BridgeError) => void;
}

/**
 * A ReckonBridge over WebSocket. Commands get increasing numeric ids and wait in a map for their
 * `result`; commands issued while disconnected are queued and sent once the socket opens. The socket
 * opens on first use and reconnects after a loss with exponential backoff (default 250 ms doubling
 * to 5 s) while commands wait or listeners exist. A command already sent when the connection drops
 * rejects with code 'DISCONNECTED' (it may or may not have run); after
 * DEFAULT_CONNECT_ATTEMPTS_BEFORE_FAILING (3) failed attempts in a row, queued commands reject with
 * code 'UNREACHABLE'. Events are delivered to the listeners of their name; listener errors are
 * reported on the console and do not affect other listeners.
 */
export function createWebSocketBridge(options: WebSocketBridgeOptions): WebSocketBridge {
  const createSocket = options.createSocket ?? defaultCreateSocket;
  const baseDelay = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
  const maxDelay = options.maxReconnectDelayMs ?? DEFAULT_MAX_RECONNECT_DELAY_MS;
  const attemptsBeforeFailing =
    options.connectAttemptsBeforeFailing ?? DEFAULT_CONNECT_ATTEMPTS_BEFORE_FAILING;
  const pending = new Map<number, Pending>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  let socket: BridgeSocket | undefined;
  let open = false;
  let failedAttempts = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let nextId = 1;
  let closed = false;

  const wanted = (): boolean => !closed && (pending.size > 0 || listeners.size > 0);

  function connect(): void {
    if (socket || closed) return;
    let current: BridgeSocket;
    try {
      current = createSocket(options.url);
    } catch (error) {
      failAll(false, 'UNREACHABLE', `Cannot open a connection to Reckon: ${(error as Error).message}`);
      return;
    }
    socket = current;
    let opened = false;
    current.addEventListener('open', () => {
      if (socket !== current) return;
      opened = true;
      open = true;
      failedAttempts = 0;
      for (const request of pending.values()) {
        if (!request.sent) {
          request.sent = true;
          current.send(request.text);
        }
      }
    });
    current.addEventListener('message', (event) => {
      if (socket === current) onMessage(event.data);
    });
    current.addEventListener('error', () => {
      // A 'close' always follows; the reconnect logic lives there.
    });
    current.addEventListener('close', () => {
      if (socket !== current) return;
      socket = undefined;
      open = false;
      if (opened) {
        failAll(
          true,
          'DISCONNECTED',
          'The connection to Reckon was lost while this was running; it may or may not have finished. Check, then try again.',
        );
      } else if (++failedAttempts >= attemptsBeforeFailing) {
        failAll(
          false,
          'UNREACHABLE',
          'Cannot reach Reckon. Is "reckon serve" still running? Open the exact address it printed (it includes the access token).',
        );
      }
      scheduleReconnect();
    });
  }

  function scheduleReconnect(): void {
    if (reconnectTimer !== undefined || !wanted()) return;
    const delay = Math.min(maxDelay, baseDelay * 2 ** Math.min(failedAttempts, 16));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      if (wanted()) connect();
    }, delay);
  }

  /** Rejects the commands that were sent (`sentOnly`) or all of them. */
  function failAll(sentOnly: boolean, code: string, message: string): void {
    for (const [id, request] of [...pending]) {
      if (sentOnly && !request.sent) continue;
      pending.delete(id);
      request.reject(new BridgeError({ name: 'ReckonError', code, message }));
    }
  }

  function onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!isRecord(message)) return;
    if (message.type === 'event' && typeof message.name === 'string') {
      for (const listener of [...(listeners.get(message.name) ?? [])]) {
        try {
          listener(message.payload);
        } catch (error) {
          console.error(`A listener of ${message.name} failed:`, error);
        }
      }
      return;
    }
    if (typeof message.id !== 'number') return;
    const request = pending.get(message.id);
    if (!request) return;
    pending.delete(message.id);
    if (message.type === 'result' && isRecord(message.result)) {
      const result = message.result;
      if (result.ok === true) request.resolve(result.value);
      else request.reject(toBridgeError(result.error));
    } else {
      request.reject(toBridgeError(message.error));
    }
  }

  return {
    invoke<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandOutput<N>> {
      if (closed) {
        return Promise.reject(
          new BridgeError({
            name: 'ReckonError',
            code: 'CLOSED',
            message: 'The connection to Reckon was closed.',
          }),
        );
      }
      const id = nextId++;
      const text = JSON.stringify({ id, type: 'invoke', name, input });
      return new Promise<CommandOutput<N>>((resolve, reject) => {
        const request: Pending = {
          name,
          text,
          sent: false,
          resolve: resolve as (value: unknown) => void,
          reject,
        };
        pending.set(id, request);
        if (open && socket && socket.readyState === SOCKET_OPEN) {
          request.sent = true;
          socket.send(text);
        } else if (reconnectTimer === undefined) {
          connect();
        }
      });
    },

    on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void {
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      const entry = listener as (payload: unknown) => void;
      set.add(entry);
      if (!socket && reconnectTimer === undefined) connect();
      return () => {
        const current = listeners.get(event);
        current?.delete(entry);
        if (current?.size === 0) listeners.delete(event);
      };
    },

    close() {
      closed = true;
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const current = socket;
      socket = undefined;
      open = false;
      current?.close(1000, 'closed by the page');
      listeners.clear();
      failAll(false, 'CLOSED', 'The connection to Reckon was closed.');
    },
  };
}

/**
 * Wraps the preload bridge so that failures are BridgeErrors: Errors lose their own properties when
 * they cross Electron's context bridge, so the preload rejects with a plain {name, code, message}.
 * The desktop-only part (`desktop`) is passed on as it is.
 */
export function wrapPreloadBridge(raw: ReckonBridge): ReckonBridge {
  return {
    invoke: (name, input) =>
      raw.invoke(name, input).catch((error: unknown) => {
        throw toBridgeError(error);
      }),
    on: (event, listener) => raw.on(event, listener),
    ...(raw.desktop ? { desktop: raw.desktop } : {}),
  };
}

/**
 * The bridge endpoint for a page served by `reckon serve`: `ws://<host>/bridge?token=<token>`, with
 * the token taken from the page's own `?token=` (wss: when the page is https). Undefined without one.
 */
export function bridgeUrlFor(location: {
  protocol: string;
  host: string;
  search: string;
}): string | undefined {
  const token = new URLSearchParams(location.search).get('token');
  if (!token) return undefined;
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/bridge?token=${encodeURIComponent(token)}`;
}

let bridge: ReckonBridge | undefined;

/**
 * The bridge for this page, made once: `window.reckon` (wrapped by wrapPreloadBridge) inside the
 * desktop app, otherwise a WebSocket bridge to bridgeUrlFor(location). Without a preload and
 * without a token in the URL every command rejects with code 'NO_TOKEN' and a message saying to
 * open the address `reckon serve` printed.
 */
export function getBridge(): ReckonBridge {
  if (bridge) return bridge;
  const scope = globalThis as unknown as {
    reckon?: ReckonBridge;
    location?: { protocol: string; host: string; search: string };
  };
  if (scope.reckon) {
    bridge = wrapPreloadBridge(scope.reckon);
    return bridge;
  }
  const url = scope.location ? bridgeUrlFor(scope.location) : undefined;
  bridge = url ? createWebSocketBridge({ url }) : noTokenBridge();
  return bridge;
}

function noTokenBridge(): ReckonBridge {
  return {
    invoke: () =>
      Promise.reject(
        new BridgeError({
          name: 'ReckonError',
          code: 'NO_TOKEN',
          message:
            'This page was opened without its access token. Open the exact address "reckon serve" printed (it ends in ?token=…).',
        }),
      ),
    on: () => () => {},
  };
}

function defaultCreateSocket(url: string): BridgeSocket {
  const WebSocketImpl = (globalThis as unknown as { WebSocket?: new (url: string) => BridgeSocket })
    .WebSocket;
  if (!WebSocketImpl) throw new Error('this environment has no WebSocket');
  return new WebSocketImpl(url);
}

function toBridgeError(value: unknown): BridgeError {
  if (value instanceof BridgeError) return value;
  if (isRecord(value) && typeof value.message === 'string') {
    return new BridgeError({
      name: typeof value.name === 'string' ? value.name : 'ReckonError',
      code: typeof value.code === 'string' ? value.code : 'INTERNAL',
      message: value.message,
    });
  }
  return new BridgeError({
    name: 'ReckonError',
    code: 'INTERNAL',
    message: 'Reckon answered with an error it did not describe.',
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
