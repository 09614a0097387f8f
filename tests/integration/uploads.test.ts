/**
 * Adding documents without a path: files uploaded from the page (the browser host's drag-and-drop)
 * through the real AppService and engine, with its limits and path checks; and the engine's half of
 * the desktop-only commands (the picker, "open file"), which a browser page gets a typed refusal for.
 * Every command goes through dispatchCommand with output validation on, as both adapters call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ErrorPayload,
  type EventPayload,
} from '../../preload/contract.ts';
import { createAppService, type AppService } from '../../main/engine/app/AppService.ts';
import { dispatchCommand } from '../../main/engine/app/dispatchCommand.ts';
import { UPLOADS_DIR, UploadStore, safeRelativePath } from '../../main/engine/app/UploadStore.ts';

let tmp: string;
let browserService: AppService;
let desktopService: AppService;
const progress: EventPayload<'onDidChangeIngestProgress'>[] = [];

async function call<N extends CommandName>(
  service: AppService,
  name: N,
  input: CommandInput<N>,
): Promise<{ ok: true; value: CommandOutput<N> } | { ok: false; error: ErrorPayload }> {
  const result = await dispatchCommand(service, name, input, { validateOutput: true });
  return result.ok ? { ok: true, value: result.value as CommandOutput<N> } : result;
}

async function value<N extends CommandName>(
  service: AppService,
  name: N,
  input: CommandInput<N>,
): Promise<CommandOutput<N>> {
  const result = await call(service, name, input);
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

async function failure<N extends CommandName>(
  service: AppService,
  name: N,
  input: CommandInput<N>,
): Promise<ErrorPayload> {
  const result = await call(service, name, input);
  if (result.ok) throw new Error(`${name} succeeded but was expected to fail`);
  return result.error;
}

async function finished(jobId: string): Promise<EventPayload<'onDidChangeIngestProgress'>> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const last = progress.find((e) => e.jobId === jobId && (e.result !== null || e.error !== null));
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`ingestion ${jobId} did not finish`);
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-uploads-'));
  const common = { modelsDir: path.join(tmp, 'models'), progressIntervalMs: 0, onWarning: () => {} };
  browserService = createAppService({ ...common, dataDir: path.join(tmp, 'browser'), host: 'browser' });
  desktopService = createAppService({ ...common, dataDir: path.join(tmp, 'desktop'), host: 'electron' });
  for (const service of [browserService, desktopService])
    service.on('onDidChangeIngestProgress', (event) => progress.push(event));
});

afterAll(async () => {
  await browserService.close();
  await desktopService.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('uploads', () => {
  it('stores dropped files and folders under the data dir and ingests them into a corpus', async () => {
    const notes = 'Uploads carry their bytes over the bridge.\n\nThe lighthouse keeper counts ships.';
    const { uploadId, totalBytes } = await value(browserService, 'startUpload', {
      files: [
        { path: 'notes.md', size: Buffer.byteLength(notes) },
        { path: 'folder/sub/empty.txt', size: 0 },
      ],
    });
    expect(totalBytes).toBe(Buffer.byteLength(notes));
    // Two pieces, in order.
    const half = Math.floor(notes.length / 2);
    await value(browserService, 'writeUploadChunk', {
      uploadId,
      file: 0,
      offset: 0,
      data: b64(notes.slice(0, half)),
    });
    const out = await failure(browserService, 'writeUploadChunk', {
      uploadId,
      file: 0,
      offset: 0,
      data: b64('x'),
    });
    expect(out.code).toBe('BAD_UPLOAD_CHUNK');
    const early = await failure(browserService, 'finishUpload', { uploadId, corpus: 'dropped' });
    expect(early.code).toBe('UPLOAD_INCOMPLETE');
    const last = await value(browserService, 'writeUploadChunk', {
      uploadId,
      file: 0,
      offset: Buffer.byteLength(notes.slice(0, half)),
      data: b64(notes.slice(half)),
    });
    expect(last.receivedBytes).toBe(Buffer.byteLength(notes));

    const { jobId, dir } = await value(browserService, 'finishUpload', {
      uploadId,
      corpus: 'dropped',
      embedder: 'none',
    });
    expect(dir).toBe(path.join(tmp, 'browser', UPLOADS_DIR, uploadId));
    expect(fs.readFileSync(path.join(dir, 'notes.md'), 'utf8')).toBe(notes);
    const end = await finished(jobId);
    expect(end.error).toBeNull();
    expect(end.result?.added).toBeGreaterThanOrEqual(1);
    const hits = await value(browserService, 'search', { corpus: 'dropped', query: 'lighthouse keeper' });
    expect(hits.hits[0]?.path).toBe(path.join(dir, 'notes.md'));
    // Finished means gone from the open uploads; cancelling an unknown upload is not an error.
    expect(await value(browserService, 'cancelUpload', { uploadId: 'upload-gone' })).toEqual({ ok: true });
    expect((await failure(browserService, 'finishUpload', { uploadId, corpus: 'dropped' })).code).toBe(
      'UPLOAD_NOT_FOUND',
    );
  });

  it('refuses unsafe paths, duplicates and sizes over the limits before storing anything', async () => {
    for (const bad of ['../escape.txt', 'a/../../b.txt', '/etc/passwd', 'a//b.txt', 'bell\u0007.txt']) {
      const error = await failure(browserService, 'startUpload', { files: [{ path: bad, size: 1 }] });
      expect(error.code, bad).toBe('BAD_UPLOAD_PATH');
    }
    const twice = await failure(browserService, 'startUpload', {
      files: [
        { path: 'A.txt', size: 1 },
        { path: 'a.txt', size: 1 },
      ],
    });
    expect(twice.code).toBe('BAD_UPLOAD_PATH');
    const huge = await failure(browserService, 'startUpload', {
      files: [{ path: 'big.bin', size: 2 ** 40 }],
    });
    expect(huge).toMatchObject({ code: 'UPLOAD_TOO_LARGE' });
    expect(huge.message).toMatch(/type its path/);
    const pieces = await failure(browserService, 'writeUploadChunk', {
      uploadId: 'upload-unknown',
      file: 0,
      offset: 0,
      data: b64('x'),
    });
    expect(pieces.code).toBe('UPLOAD_NOT_FOUND');
  });

  it('refuses more bytes than a file announced, and cancelling deletes what was stored', async () => {
    const { uploadId } = await value(browserService, 'startUpload', {
      files: [{ path: 'short.txt', size: 2 }],
    });
    const over = await failure(browserService, 'writeUploadChunk', {
      uploadId,
      file: 0,
      offset: 0,
      data: b64('abc'),
    });
    expect(over.code).toBe('BAD_UPLOAD_CHUNK');
    const part = path.join(tmp, 'browser', UPLOADS_DIR, `${uploadId}.part`);
    expect(fs.existsSync(part)).toBe(true);
    await value(browserService, 'cancelUpload', { uploadId });
    expect(fs.existsSync(part)).toBe(false);
  });

  it('limits open uploads and deletes half-written ones an earlier session left', async () => {
    const dataDir = path.join(tmp, 'store');
    const leftover = path.join(dataDir, UPLOADS_DIR, 'upload-old.part');
    fs.mkdirSync(leftover, { recursive: true });
    let now = 0;
    const store = new UploadStore({ dataDir, maxOpenUploads: 1, idleMs: 1000, now: () => now });
    const first = await store.start([{ path: 'a.txt', size: 1 }]);
    expect(fs.existsSync(leftover)).toBe(false);
    await expect(store.start([{ path: 'b.txt', size: 1 }])).rejects.toMatchObject({
      code: 'TOO_MANY_UPLOADS',
    });
    now = 5000;
    // The idle one makes room.
    await store.start([{ path: 'b.txt', size: 1 }]);
    await expect(store.write(first.uploadId, 0, 0, b64('a'))).rejects.toMatchObject({
      code: 'UPLOAD_NOT_FOUND',
    });
  });

  it('keeps relative paths inside the upload', () => {
    expect(safeRelativePath('folder/sub/file.txt')).toBe(path.join('folder', 'sub', 'file.txt'));
    expect(() => safeRelativePath('..')).toThrow(/cannot be uploaded/);
  });
});

describe('desktop-only commands', () => {
  it('tells a browser page the picker and "open file" are the desktop app\'s, naming what it can do instead', async () => {
    const picker = await failure(browserService, 'showOpenDialog', { select: 'files' });
    expect(picker.code).toBe('DESKTOP_ONLY');
    expect(picker.message).toMatch(/drop files or folders/);
    const open = await failure(browserService, 'openDocument', { corpus: 'dropped', path: '/etc/passwd' });
    expect(open.code).toBe('DESKTOP_ONLY');
    const relative = await failure(browserService, 'ingestPaths', { corpus: 'x', paths: ['docs'] });
    expect(relative.message).not.toMatch(/Choose files/);
    expect(relative.message).toMatch(/drop the files/);
  });

  it('in the desktop app, opens only documents a corpus recorded, and reveals kinds that could run', async () => {
    const docs = path.join(tmp, 'docs');
    fs.mkdirSync(docs);
    fs.writeFileSync(path.join(docs, 'a.md'), 'An openable note about tides.');
    fs.writeFileSync(path.join(docs, 'tool.js'), '// a script about tides\nexport const tides = 2;\n');
    const { jobId } = await value(desktopService, 'ingestPaths', {
      corpus: 'mine',
      paths: [docs],
      embedder: 'none',
    });
    expect((await finished(jobId)).error).toBeNull();

    expect(
      await value(desktopService, 'openDocument', { corpus: 'mine', path: path.join(docs, 'a.md') }),
    ).toEqual({
      path: path.join(docs, 'a.md'),
      action: 'open',
    });
    const script = await value(desktopService, 'openDocument', {
      corpus: 'mine',
      path: path.join(docs, 'tool.js'),
    });
    expect(script.action).toBe('reveal');
    const outside = await failure(desktopService, 'openDocument', { corpus: 'mine', path: '/etc/passwd' });
    expect(outside.code).toBe('DOCUMENT_NOT_FOUND');
    const relative = await failure(desktopService, 'ingestPaths', { corpus: 'x', paths: ['docs'] });
    expect(relative.message).toMatch(/Choose files…/);
  });
});
