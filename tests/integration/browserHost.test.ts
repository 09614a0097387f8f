/**
 * The browser host end to end on 127.0.0.1: static files with their headers, traversal refused,
 * the WebSocket bridge's token and Origin checks, the message protocol (including malformed
 * messages), pushed events — and the renderer's own WebSocket bridge (renderer/src/bridge.ts)
 * driven against it with the `ws` client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { createAppService, type AppService } from '../../main/engine/app/AppService.ts';
import { startBrowserHost, type BrowserHost } from '../../main/browser-host/BrowserHost.ts';
import {
  bridgeUrlFor,
  BridgeError,
  createWebSocketBridge,
  type BridgeSocket,
} from '../../renderer/src/bridge.ts';

const STUB_INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/app.js"></script></head><body>stub</body></html>';

let tmp: string;
let rendererDir: string;
let docsDir: string;
let service: AppService;
let host: BrowserHost;

interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path is sent exactly as given (no client-side normalization). */
function request(
  rawPath: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: host.port,
        path: rawPath,
        method: options.method ?? 'GET',
        headers: options.headers ?? {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The bridge URL with `token` (default: the right one; null: none at all). */
function bridgeUrl(token: string | null = host.token): string {
  return `ws://127.0.0.1:${host.port}/bridge${token === null ? '' : `?token=${encodeURIComponent(token)}`}`;
}

/** Opens a socket; resolves with it once open, or with the HTTP status the upgrade was refused with. */
function connect(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ ws?: WebSocket; refused?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ refused: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (error) => {
      if (ws.readyState !== WebSocket.CLOSED) reject(error);
    });
  });
}

/** Collects a socket's messages and lets a test wait (bounded) for the one it needs. */
function inbox(ws: WebSocket): {
  next(match: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
} {
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  return {
    async next(match) {
      for (let i = 0; i < 1500; i++) {
        const found = messages.find(match);
        if (found) {
          messages.splice(messages.indexOf(found), 1);
          return found;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('timed out waiting for a message');
    },
  };
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-host-'));
  rendererDir = path.join(tmp, 'renderer');
  docsDir = path.join(tmp, 'docs');
  fs.mkdirSync(path.join(rendererDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(rendererDir, 'index.html'), STUB_INDEX);
  fs.writeFileSync(path.join(rendererDir, 'assets', 'app.js'), 'console.log("app");\n');
  fs.writeFileSync(path.join(rendererDir, '.env'), 'SECRET=1\n');
  fs.writeFileSync(path.join(tmp, 'secret.txt'), 'TOP SECRET\n');
  fs.mkdirSync(docsDir);
  fs.writeFileSync(path.join(docsDir, 'a.txt'), 'Lisbon is the capital of Portugal.\n');
  service = createAppService({
    dataDir: path.join(tmp, 'data'),
    modelsDir: path.join(tmp, 'models'),
    host: 'browser',
    progressIntervalMs: 0,
    onWarning: () => {},
  });
  host = await startBrowserHost({ service, rendererDir, dispatch: { validateOutput: true } });
});

afterAll(async () => {
  await host?.close();
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('browser host: HTTP', () => {
  it('listens on 127.0.0.1 with a random port and a 64-hex-digit token', () => {
    expect(host.port).toBeGreaterThan(0);
    expect(host.token).toMatch(/^[0-9a-f]{64}$/);
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
  });

  it('serves the renderer with a strict CSP and security headers', async () => {
    const page = await request('/?token=whatever');
    expect(page.status).toBe(200);
    expect(page.body).toBe(STUB_INDEX);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = page.headers['content-security-policy'] as string;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-(inline|eval)/);
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${host.port}`);
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    expect(page.headers['cache-control']).toBe('no-store');

    const script = await request('/assets/app.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['content-security-policy']).toBe(csp);
    const head = await request('/assets/app.js', { method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
  });

  it('refuses traversal, hidden files, listings, other methods and other Host names', async () => {
    for (const attempt of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%00index.html',
      '/%E0%A4%A',
    ]) {
      const result = await request(attempt);
      expect([400, 403, 404], attempt).toContain(result.status);
      expect(result.body).not.toContain('TOP SECRET');
    }
    expect((await request('/.env')).status).toBe(404);
    expect((await request('/assets/')).status).toBe(404);
    expect((await request('/nope.js')).status).toBe(404);
    expect((await request('/', { method: 'POST' })).status).toBe(405);
    const rebinding = await request('/', { headers: { Host: 'evil.example:80' } });
    expect(rebinding.status).toBe(403);
    expect(rebinding.body).not.toContain('stub');
    expect((await request('/bridge')).status).toBe(426);
  });

  it('explains how to build the interface when it is missing', async () => {
    const emptyDir = path.join(tmp, 'empty-renderer');
    fs.mkdirSync(emptyDir);
    const bare = await startBrowserHost({ service, rendererDir: emptyDir, token: 'fixed-token' });
    try {
      expect(bare.url).toBe(`http://127.0.0.1:${bare.port}/?token=fixed-token`);
      const page = await new Promise<HttpResult>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port: bare.port, path: '/' }, (res) => {
            let body = '';
            res.on('data', (chunk: Buffer) => (body += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          })
          .on('error', reject);
      });
      expect(page.status).toBe(503);
      expect(page.body).toContain('npm run build');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    } finally {
      await bare.close();
    }
  });
});

describe('browser host: WebSocket bridge', () => {
  it('refuses connections without the right token, from other origins, or on other paths', async () => {
    expect(await connect(bridgeUrl(null))).toEqual({ refused: 401 });
    expect(await connect(bridgeUrl(''))).toEqual({ refused: 401 });
    expect(await connect(bridgeUrl('0'.repeat(64)))).toEqual({ refused: 401 });
    expect(await connect(bridgeUrl(`${host.token}x`))).toEqual({ refused: 401 });
    expect(await connect(bridgeUrl(), { Origin: 'https://evil.example' })).toEqual({ refused: 403 });
    expect(await connect(bridgeUrl(), { Origin: `http://127.0.0.1:${host.port + 1}` })).toEqual({
      refused: 403,
    });
    expect(await connect(`ws://127.0.0.1:${host.port}/other?token=${host.token}`)).toEqual({ refused: 404 });
    const allowed = await connect(bridgeUrl(), { Origin: `http://127.0.0.1:${host.port}` });
    expect(allowed.ws).toBeDefined();
    allowed.ws!.close();
  });

  it('runs commands, answers malformed messages with errors, and pushes events', async () => {
    const { ws } = await connect(bridgeUrl());
    const messages = inbox(ws!);
    try {
      ws!.send(JSON.stringify({ id: 1, type: 'invoke', name: 'getAppInfo', input: {} }));
      expect(await messages.next((m) => m.id === 1)).toMatchObject({
        id: 1,
        type: 'result',
        result: { ok: true, value: { host: 'browser', hasModel: false } },
      });
      ws!.send(JSON.stringify({ id: 'two', type: 'invoke', name: 'listCorpora', input: {} }));
      expect(await messages.next((m) => m.id === 'two')).toEqual({
        id: 'two',
        type: 'result',
        result: { ok: true, value: { corpora: [] } },
      });

      ws!.send('{ not json');
      expect(await messages.next((m) => m.type === 'error' && m.id === null)).toMatchObject({
        error: { code: 'BAD_MESSAGE' },
      });
      ws!.send(JSON.stringify([1, 2, 3]));
      expect(await messages.next((m) => m.type === 'error' && m.id === null)).toMatchObject({
        error: { code: 'BAD_MESSAGE' },
      });
      ws!.send(JSON.stringify({ id: 3, type: 'subscribe' }));
      expect(await messages.next((m) => m.id === 3)).toMatchObject({
        type: 'error',
        error: { code: 'BAD_MESSAGE' },
      });
      ws!.send(Buffer.from([1, 2, 3]), { binary: true });
      expect(await messages.next((m) => m.type === 'error' && m.id === null)).toMatchObject({
        error: { code: 'BAD_MESSAGE' },
      });
      ws!.send(JSON.stringify({ id: 4, type: 'invoke', name: 'noSuchCommand', input: {} }));
      expect(await messages.next((m) => m.id === 4)).toMatchObject({
        result: { ok: false, error: { code: 'UNKNOWN_COMMAND' } },
      });
      ws!.send(JSON.stringify({ id: 5, type: 'invoke', name: 'search', input: { corpus: 'x' } }));
      expect(await messages.next((m) => m.id === 5)).toMatchObject({
        result: { ok: false, error: { code: 'BAD_INPUT' } },
      });

      // Still alive: a real job, its result, and the events it pushes.
      ws!.send(
        JSON.stringify({
          id: 6,
          type: 'invoke',
          name: 'ingestPaths',
          input: { corpus: 'lisbon', paths: [docsDir], embedder: 'none' },
        }),
      );
      const started = await messages.next((m) => m.id === 6);
      const jobId = (started.result as { value: { jobId: string } }).value.jobId;
      const last = await messages.next(
        (m) =>
          m.type === 'event' &&
          m.name === 'onDidChangeIngestProgress' &&
          (m.payload as { jobId: string; result: unknown }).jobId === jobId &&
          (m.payload as { result: unknown }).result !== null,
      );
      expect(last).toMatchObject({ payload: { corpus: 'lisbon', error: null, result: { added: 1 } } });
    } finally {
      ws!.close();
    }
  });

  it('works with the renderer bridge client', async () => {
    expect(
      bridgeUrlFor({ protocol: 'http:', host: `127.0.0.1:${host.port}`, search: `?token=${host.token}` }),
    ).toBe(bridgeUrl());
    expect(bridgeUrlFor({ protocol: 'http:', host: 'x', search: '' })).toBeUndefined();

    const bridge = createWebSocketBridge({
      url: bridgeUrl(),
      createSocket: (url) => new WebSocket(url) as unknown as BridgeSocket,
      reconnectDelayMs: 10,
    });
    try {
      const info = await bridge.invoke('getAppInfo', {});
      expect(info.host).toBe('browser');
      const [corpora, models] = await Promise.all([
        bridge.invoke('listCorpora', {}),
        bridge.invoke('listModels', {}),
      ]);
      expect(corpora.corpora.map((c) => c.name)).toContain('lisbon');
      expect(models.catalog.length).toBeGreaterThan(0);

      const failure = await bridge
        .invoke('listDocuments', { corpus: 'missing' })
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(BridgeError);
      expect(failure).toBeInstanceOf(Error);
      expect(failure).toMatchObject({ name: 'CorpusNotFoundError', code: 'CORPUS_NOT_FOUND' });
      expect((failure as Error).message).toMatch(/There is no corpus named "missing"/);

      const progress: string[] = [];
      const off = bridge.on('onDidChangeIngestProgress', (payload) => progress.push(payload.progress.phase));
      const { jobId } = await bridge.invoke('reindexCorpus', { corpus: 'lisbon' });
      expect(jobId).toMatch(/^ingest-/);
      for (let i = 0; i < 500 && !progress.includes('done'); i++)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(progress).toContain('done');
      off();
    } finally {
      bridge.close();
    }
    await expect(bridge.invoke('listCorpora', {})).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('fails waiting commands clearly when the server cannot be reached', async () => {
    const bridge = createWebSocketBridge({
      url: bridgeUrl('wrong-token'),
      createSocket: (url) => new WebSocket(url) as unknown as BridgeSocket,
      reconnectDelayMs: 5,
      connectAttemptsBeforeFailing: 2,
    });
    try {
      const error = await bridge.invoke('listCorpora', {}).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'UNREACHABLE' });
      expect((error as Error).message).toMatch(/reckon serve/);
    } finally {
      bridge.close();
    }
  });
});
