/**
 * The third adapter (`reckon serve`): the real UI in an ordinary browser. One HTTP server bound to
 * 127.0.0.1 — never another interface — serves the built renderer with a strict CSP, and carries
 * the same contract as the desktop app over a WebSocket at `/bridge?token=…`. The token (random,
 * printed to the user inside the URL) is what stands between the user's files and any other program
 * or web page on the machine: a connection without it, or from a page of another origin, is refused
 * before the WebSocket opens, and requests for another Host name (DNS rebinding) are refused too.
 *
 * Messages: the client sends `{id, type: 'invoke', name, input}` and gets `{id, type: 'result',
 * result}` (an InvokeResult); the server pushes `{type: 'event', name, payload}` for every contract
 * event. A message that cannot be understood gets `{id, type: 'error', error}` (id null when it had
 * none) and the connection stays open.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { EVENT_NAMES, type ErrorPayload } from '../../preload/contract.ts';
import type { AppService } from '../engine/app/AppService.ts';
import { contentSecurityPolicy, SECURITY_HEADERS } from '../engine/app/contentSecurityPolicy.ts';
import { dispatchCommand, type DispatchOptions } from '../engine/app/dispatchCommand.ts';
import { INDEX_FILE, readStaticAsset } from '../engine/app/staticAssets.ts';

/** The only address the host listens on. */
export const BROWSER_HOST_ADDRESS = '127.0.0.1';
/** Path of the WebSocket endpoint. */
export const BRIDGE_PATH = '/bridge';
/** Random bytes in a generated token (hex-encoded: 64 characters). */
export const TOKEN_BYTES = 32;
/**
 * Largest message a client may send, in bytes: an ingestPaths with thousands of long paths fits.
 * Larger ones are refused by ws before they are buffered whole (close code 1009), so no message can
 * run the server out of memory.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/**
 * Most items one array in a message may hold (the contract's largest list, ingestPaths' paths, is
 * 10,000). Checked right after JSON.parse and before the schema: validating millions of wrong items
 * makes millions of issue objects, which is how a 10 MB message once exhausted the heap.
 */
export const DEFAULT_MAX_ARRAY_ITEMS = 10_000;
/** Most values (objects, arrays, strings, numbers…) one message may hold, checked like arrays. */
export const DEFAULT_MAX_MESSAGE_VALUES = 100_000;

/** Options of startBrowserHost; service and rendererDir are required, the rest have defaults. */
export interface BrowserHostOptions {
  /** The service the UI drives; the host does not close it. */
  service: Pick<AppService, 'handle' | 'on'>;
  /** The built renderer (out/renderer from `electron-vite build`). */
  rendererDir: string;
  /** TCP port on 127.0.0.1. Default: 0 (a free port chosen by the system). */
  port?: number;
  /** The secret clients must present. Default: TOKEN_BYTES (32) random bytes, hex. */
  token?: string;
  /** Passed to dispatchCommand for every invoke. Default: {} (no output validation). */
  dispatch?: DispatchOptions;
  /** Largest accepted client message, in bytes. Default: DEFAULT_MAX_MESSAGE_BYTES (4 MiB). */
  maxMessageBytes?: number;
  /** Most items in any one array of a message. Default: DEFAULT_MAX_ARRAY_ITEMS (10,000). */
  maxArrayItems?: number;
  /** Most values in one message, all nesting levels together. Default: DEFAULT_MAX_MESSAGE_VALUES (100,000). */
  maxMessageValues?: number;
}

/** A running host. */
export interface BrowserHost {
  /** What to open: `http://127.0.0.1:PORT/?token=TOKEN`. */
  url: string;
  port: number;
  token: string;
  /** Disconnects every client and stops listening (the service stays open). */
  close(): Promise<void>;
}

/** A message the server sends. */
export type BrowserHostMessage =
  | { id: string | number; type: 'result'; result: unknown }
  | { id: string | number | null; type: 'error'; error: ErrorPayload }
  | { type: 'event'; name: string; payload: unknown };

/**
 * Starts the host and resolves once it listens. Defaults: port 0 (random), a fresh random token,
 * DEFAULT_MAX_MESSAGE_BYTES. Every response carries the CSP of contentSecurityPolicy (with
 * `connect-src 'self' ws://127.0.0.1:PORT`) and SECURITY_HEADERS; only GET and HEAD are served;
 * paths are resolved by readStaticAsset (no traversal, no listings). Without
 * `<rendererDir>/index.html` the page explains how to build the interface (`npm run build`).
 */
export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const token = options.token ?? randomBytes(TOKEN_BYTES).toString('hex');
  if (token.length === 0) throw new Error('startBrowserHost: the token must not be empty.');
  const expectedToken = Buffer.from(token, 'utf8');
  const rendererDir = path.resolve(options.rendererDir);
  let port = 0;
  let csp = contentSecurityPolicy();

  const server = http.createServer((request, response) => {
    void serveHttp(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      response.end('500: internal error\n');
    });
  });

  const allowedHosts = (): Set<string> => new Set([`${BROWSER_HOST_ADDRESS}:${port}`, `localhost:${port}`]);
  const allowedOrigins = (): Set<string> => new Set([...allowedHosts()].map((host) => `http://${host}`));

  async function serveHttp(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const headers: Record<string, string> = { ...SECURITY_HEADERS, 'Content-Security-Policy': csp };
    const send = (
      status: number,
      contentType: string,
      body: Buffer | string,
      extra: Record<string, string> = {},
    ): void => {
      response.writeHead(status, {
        ...headers,
        ...extra,
        'Content-Type': contentType,
        'Content-Length': String(Buffer.byteLength(body)),
      });
      response.end(request.method === 'HEAD' ? undefined : body);
    };
    if (!allowedHosts().has(request.headers.host ?? '')) {
      send(403, 'text/plain; charset=utf-8', '403: this server only answers to 127.0.0.1\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(405, 'text/plain; charset=utf-8', '405: method not allowed\n', { Allow: 'GET, HEAD' });
      return;
    }
    const urlPath = (request.url ?? '/').split('?')[0]!.split('#')[0]!;
    if (urlPath === BRIDGE_PATH) {
      send(426, 'text/plain; charset=utf-8', '426: this endpoint speaks WebSocket\n');
      return;
    }
    if (
      (urlPath === '/' || urlPath === `/${INDEX_FILE}`) &&
      !fs.existsSync(path.join(rendererDir, INDEX_FILE))
    ) {
      send(503, 'text/html; charset=utf-8', notBuiltPage(rendererDir), { 'Cache-Control': 'no-store' });
      return;
    }
    const asset = await readStaticAsset(rendererDir, urlPath);
    // index.html names the hashed bundles: never cache it; the bundles themselves never change.
    const cache =
      asset.contentType.startsWith('text/html') || asset.status !== 200
        ? 'no-store'
        : 'max-age=31536000, immutable';
    send(asset.status, asset.contentType, asset.body, { 'Cache-Control': cache });
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
  });

  server.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(request.url ?? '/', `http://${BROWSER_HOST_ADDRESS}`);
    if (url.pathname !== BRIDGE_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!allowedHosts().has(request.headers.host ?? '')) return refuseUpgrade(socket, 403, 'Forbidden');
    // Browsers always send Origin; a page of any other origin must not reach the bridge. Programs
    // that send none (tests, scripts) still need the token.
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return refuseUpgrade(socket, 403, 'Forbidden');
    const presented = Buffer.from(url.searchParams.get('token') ?? '', 'utf8');
    if (presented.length !== expectedToken.length || !timingSafeEqual(presented, expectedToken)) {
      return refuseUpgrade(socket, 401, 'Unauthorized');
    }
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request));
  });

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void onMessage(ws, data, isBinary);
    });
  });

  async function onMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    if (isBinary)
      return reply(ws, { id: null, type: 'error', error: badMessage('binary messages are not understood') });
    let message: unknown;
    try {
      message = JSON.parse(rawToString(data));
    } catch {
      return reply(ws, { id: null, type: 'error', error: badMessage('the message is not JSON') });
    }
    const tooLarge = oversizedPart(message, {
      maxArrayItems: options.maxArrayItems ?? DEFAULT_MAX_ARRAY_ITEMS,
      maxValues: options.maxMessageValues ?? DEFAULT_MAX_MESSAGE_VALUES,
    });
    if (tooLarge !== undefined) {
      const tooLargeId = isRecord(message) && isValidId(message.id) ? message.id : null;
      return reply(ws, { id: tooLargeId, type: 'error', error: badMessage(tooLarge) });
    }
    const id = isRecord(message) && isValidId(message.id) ? message.id : null;
    if (!isRecord(message) || message.type !== 'invoke' || id === null) {
      return reply(ws, {
        id,
        type: 'error',
        error: badMessage(
          'expected {"id": <string or number>, "type": "invoke", "name": <command>, "input": {…}}',
        ),
      });
    }
    const result = await dispatchCommand(options.service, message.name, message.input, options.dispatch);
    reply(ws, { id, type: 'result', result });
  }

  const unsubscribers = EVENT_NAMES.map((name) =>
    options.service.on(name, (payload: unknown) => {
      const text = JSON.stringify({ type: 'event', name, payload } satisfies BrowserHostMessage);
      for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(text);
    }),
  );

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: BROWSER_HOST_ADDRESS }, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((error: unknown) => {
    for (const unsubscribe of unsubscribers) unsubscribe();
    throw error;
  });
  port = (server.address() as AddressInfo).port;
  csp = contentSecurityPolicy({ connectSources: [`ws://${BROWSER_HOST_ADDRESS}:${port}`] });

  let closing: Promise<void> | undefined;
  return {
    url: `http://${BROWSER_HOST_ADDRESS}:${port}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    close() {
      closing ??= (async () => {
        for (const unsubscribe of unsubscribers) unsubscribe();
        for (const client of wss.clients) client.close(1001, 'server closing');
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const client of wss.clients) client.terminate();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      })();
      return closing;
    },
  };
}

function reply(ws: WebSocket, message: BrowserHostMessage): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch {
    text = JSON.stringify({
      id: 'id' in message ? message.id : null,
      type: 'error',
      error: { name: 'ReckonError', code: 'INTERNAL', message: 'The reply could not be encoded as JSON.' },
    } satisfies BrowserHostMessage);
  }
  ws.send(text);
}

function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/**
 * Why a parsed message is too large to validate (an array over `maxArrayItems`, or more than
 * `maxValues` values in all), or undefined. Iterative, so deep nesting cannot overflow the stack.
 */
function oversizedPart(
  message: unknown,
  limits: { maxArrayItems: number; maxValues: number },
): string | undefined {
  const pending: unknown[] = [message];
  let values = 0;
  while (pending.length > 0) {
    const value = pending.pop();
    values += 1;
    if (values > limits.maxValues) {
      return `it holds more than ${limits.maxValues} values; split the request into smaller ones`;
    }
    if (Array.isArray(value)) {
      if (value.length > limits.maxArrayItems) {
        return `a list holds ${value.length} items, more than the ${limits.maxArrayItems} accepted; split the request into smaller ones`;
      }
      for (const item of value) pending.push(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const item of Object.values(value)) pending.push(item);
    }
  }
  return undefined;
}

function badMessage(detail: string): ErrorPayload {
  return {
    name: 'ReckonError',
    code: 'BAD_MESSAGE',
    message: `The bridge could not understand a message: ${detail}.`,
  };
}

function rawToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

function isValidId(id: unknown): id is string | number {
  return (
    (typeof id === 'string' && id.length > 0 && id.length <= 100) ||
    (typeof id === 'number' && Number.isFinite(id))
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notBuiltPage(rendererDir: string): string {
  const escaped = rendererDir.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Reckon — interface not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>The Reckon interface has not been built yet</h1>
<p>There is no <code>index.html</code> in <code>${escaped}</code>.</p>
<p>Build it once with <code>npm run build</code> in the Reckon folder, then reload this page
(the server can keep running).</p>
</body>
</html>
`;
}
