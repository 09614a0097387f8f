import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError, DownloadError } from '../../main/engine/errors.ts';
import type { ModelCatalogEntry } from '../../main/engine/models/catalog.ts';
import type { DownloadProgress } from '../../main/engine/models/downloadModel.ts';
import { PARTIAL_SUFFIX, downloadModel } from '../../main/engine/models/downloadModel.ts';

const MODEL_SIZE = 300 * 1024 + 123;
/** Deterministic, non-repeating-looking bytes so an offset error cannot go unnoticed. */
const MODEL = Buffer.from(Array.from({ length: MODEL_SIZE }, (_, i) => (i * 31 + (i >> 8) * 7) & 0xff));
const CONFIG = Buffer.from('{"model_type":"bert"}\n');
const MAX_REQUESTS = 100;

interface SeenRequest {
  url: string;
  range: string | undefined;
}

let server: http.Server;
let origin: string;
let seen: SeenRequest[] = [];
/** Paths whose next response is cut mid-body, once each. */
let cutOnce = new Set<string>();
/** Paths that answer 503 once. */
let failOnce = new Set<string>();
let modelsDir: string;
let root: string;

function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  seen.push({ url, range: req.headers.range });
  if (seen.length > MAX_REQUESTS) {
    res.writeHead(500).end();
    return;
  }
  if (failOnce.delete(url)) {
    res.writeHead(503).end('busy');
    return;
  }
  const name = path.posix.basename(url);
  const data = name === 'model.bin' ? MODEL : name === 'config.json' ? CONFIG : undefined;
  if (data === undefined) {
    res.writeHead(404).end('not found');
    return;
  }
  const honoursRange = !url.startsWith('/norange/');
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  let start = 0;
  if (honoursRange && match) {
    start = Number(match[1]);
    if (start >= data.length) {
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    res.writeHead(206, {
      'content-length': String(data.length - start),
      'content-range': `bytes ${start}-${data.length - 1}/${data.length}`,
      'accept-ranges': 'bytes',
    });
  } else {
    res.writeHead(200, { 'content-length': String(data.length), 'accept-ranges': 'bytes' });
  }
  const body = data.subarray(start);

  if (url.startsWith('/slow/')) {
    // Send a first part, then stall until the client goes away (or a bounded timer ends it).
    res.write(body.subarray(0, 64 * 1024));
    const timer = setTimeout(() => res.end(body.subarray(64 * 1024)), 5_000);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
    return;
  }
  if (cutOnce.delete(url)) {
    const cutAt = Math.floor(body.length / 3);
    res.write(body.subarray(0, cutAt), () => {
      setTimeout(() => req.socket.destroy(), 30).unref();
    });
    return;
  }
  res.end(body);
}

beforeAll(async () => {
  server = http.createServer(serve);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  root = await mkdtemp(path.join(os.tmpdir(), 'reckon-download-'));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(root, { recursive: true, force: true });
});

beforeEach(async () => {
  seen = [];
  cutOnce = new Set();
  failOnce = new Set();
  modelsDir = await mkdtemp(path.join(root, 'models-'));
});

function entry(
  files: ModelCatalogEntry['files'],
  overrides: Partial<ModelCatalogEntry> = {},
): ModelCatalogEntry {
  return {
    id: 'tiny-embedder',
    kind: 'embedder',
    title: 'Tiny embedder',
    description: 'test',
    license: 'mit',
    installDir: 'embedders/tiny-embedder/',
    files,
    ...overrides,
  };
}

const modelFile = (prefix = '', extra: Partial<ModelCatalogEntry['files'][number]> = {}) => ({
  path: 'onnx/model.bin',
  url: `${origin}${prefix}/repo/resolve/main/onnx/model.bin`,
  ...extra,
});

const destOf = (e: ModelCatalogEntry, index = 0) =>
  path.join(modelsDir, e.installDir, e.files[index]?.path ?? '');

describe('downloadModel', () => {
  it('downloads every file with progress events and skips them the next time', async () => {
    const e = entry([
      { path: 'config.json', url: `${origin}/repo/resolve/main/config.json` },
      modelFile('', { sizeBytes: MODEL_SIZE, sha256: createHash('sha256').update(MODEL).digest('hex') }),
    ]);
    const progress: DownloadProgress[] = [];
    const result = await downloadModel({
      entry: e,
      modelsDir,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });

    expect(result.paths).toEqual([destOf(e, 0), destOf(e, 1)]);
    expect((await readFile(destOf(e, 0))).equals(CONFIG)).toBe(true);
    expect((await readFile(destOf(e, 1))).equals(MODEL)).toBe(true);
    expect(existsSync(destOf(e, 1) + PARTIAL_SUFFIX)).toBe(false);

    const modelEvents = progress.filter((p) => p.file === 'onnx/model.bin');
    expect(modelEvents.length).toBeGreaterThan(2);
    expect(modelEvents[0]).toMatchObject({ receivedBytes: 0, totalBytes: MODEL_SIZE });
    expect(modelEvents.at(-1)).toMatchObject({
      receivedBytes: MODEL_SIZE,
      totalBytes: MODEL_SIZE,
      etaSeconds: 0,
    });
    for (let i = 1; i < modelEvents.length; i++) {
      expect(modelEvents[i]!.receivedBytes).toBeGreaterThanOrEqual(modelEvents[i - 1]!.receivedBytes);
    }
    expect(modelEvents.at(-1)!.bytesPerSecond).toBeGreaterThan(0);

    const requestsBefore = seen.length;
    await downloadModel({ entry: e, modelsDir });
    expect(seen.length).toBe(requestsBefore);
  });

  it('resumes with a Range request after the connection is cut mid-body', async () => {
    const e = entry([modelFile('', { sizeBytes: MODEL_SIZE })]);
    cutOnce.add(new URL(e.files[0]!.url).pathname);

    await downloadModel({ entry: e, modelsDir, retryDelayMs: 1 });

    expect(seen).toHaveLength(2);
    expect(seen[0]?.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(seen[1]?.range ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(MODEL_SIZE);
    expect((await readFile(destOf(e))).equals(MODEL)).toBe(true);
  });

  it('keeps the .part of a failed download and resumes it on the next call', async () => {
    const e = entry([modelFile()]);
    cutOnce.add(new URL(e.files[0]!.url).pathname);

    const error = await downloadModel({ entry: e, modelsDir, maxAttempts: 1 }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain('run the download again to resume');
    const partSize = (await stat(destOf(e) + PARTIAL_SUFFIX)).size;
    expect(partSize).toBeGreaterThan(0);
    expect(existsSync(destOf(e))).toBe(false);

    await downloadModel({ entry: e, modelsDir });
    expect(seen.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect((await readFile(destOf(e))).equals(MODEL)).toBe(true);
    expect(existsSync(destOf(e) + PARTIAL_SUFFIX)).toBe(false);
  });

  it('starts over when the server ignores Range and answers 200', async () => {
    const e = entry([modelFile('/norange')]);
    await mkdir(path.dirname(destOf(e)), { recursive: true });
    await writeFile(destOf(e) + PARTIAL_SUFFIX, Buffer.alloc(1_000, 0xee));

    await downloadModel({ entry: e, modelsDir });
    expect(seen[0]?.range).toBe('bytes=1000-');
    expect((await readFile(destOf(e))).equals(MODEL)).toBe(true);
  });

  it('retries a 503 and fails at once on a 404', async () => {
    const e = entry([modelFile()]);
    failOnce.add(new URL(e.files[0]!.url).pathname);
    await downloadModel({ entry: e, modelsDir, retryDelayMs: 1 });
    expect(seen).toHaveLength(2);

    seen = [];
    const missing = entry([{ path: 'x.bin', url: `${origin}/repo/resolve/main/x.gguf` }], { id: 'gone' });
    const error = await downloadModel({ entry: missing, modelsDir, retryDelayMs: 1 }).catch(
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain('HTTP 404');
    expect(seen).toHaveLength(1);
  });

  it('rejects a file whose size differs from the catalog and installs nothing', async () => {
    const e = entry([modelFile('', { sizeBytes: MODEL_SIZE + 1 })]);
    const error = await downloadModel({ entry: e, modelsDir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain(`${MODEL_SIZE + 1}`);
    expect(existsSync(destOf(e))).toBe(false);
    expect(existsSync(destOf(e) + PARTIAL_SUFFIX)).toBe(false);
  });

  it('rejects a file whose sha256 differs from the catalog', async () => {
    const e = entry([modelFile('', { sha256: '0'.repeat(64) })]);
    const error = await downloadModel({ entry: e, modelsDir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DownloadError);
    expect((error as Error).message).toContain('SHA-256');
    expect(existsSync(destOf(e))).toBe(false);
  });

  it('explains how to install by hand when the server cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const e = entry([
      { path: 'config.json', url: `http://127.0.0.1:${port}/repo/resolve/main/config.json` },
      { path: 'onnx/model.bin', url: `http://127.0.0.1:${port}/repo/resolve/main/onnx/model.bin` },
    ]);
    const error = await downloadModel({ entry: e, modelsDir }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DownloadError);
    const message = (error as Error).message;
    expect(message).toContain('offline');
    expect(message).toContain('ECONNREFUSED');
    expect(message).toContain(e.files[0]!.url);
    expect(message).toContain(e.files[1]!.url);
    expect(message).toContain(path.join(modelsDir, 'embedders', 'tiny-embedder'));
    expect(message).toContain(destOf(e, 1));
  });

  it('stops on abort with CancelledError and keeps the .part for later', async () => {
    const e = entry([modelFile('/slow')]);
    const controller = new AbortController();
    const pending = downloadModel({
      entry: e,
      modelsDir,
      signal: controller.signal,
      progressIntervalMs: 0,
      onProgress: (p) => {
        if (p.receivedBytes > 0) controller.abort();
      },
    });
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect((await stat(destOf(e) + PARTIAL_SUFFIX)).size).toBeGreaterThan(0);
    expect(existsSync(destOf(e))).toBe(false);
  });
});
