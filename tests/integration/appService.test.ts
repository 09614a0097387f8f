/**
 * The AppService over the real engine in a temp data dir: real SQLite/FTS5, the real worker-thread
 * parser and sandbox, a scripted replay model. Every command goes through dispatchCommand with
 * output validation on, and every event is checked against the contract's schema.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  events as eventSchemas,
  EVENT_NAMES,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type ErrorPayload,
  type EventName,
  type EventPayload,
} from '../../preload/contract.ts';
import {
  REPLAYS_DIR,
  SAMPLE_CORPUS_DIR,
  createAppService,
  type AppService,
  type AppServiceOptions,
} from '../../main/engine/app/AppService.ts';
import { dispatchCommand } from '../../main/engine/app/dispatchCommand.ts';
import {
  DEFAULT_LLM_SETTINGS,
  DEFAULT_RETRY_SETTINGS,
  DEFAULT_SANDBOX_SETTINGS,
  SETTINGS_FILE,
} from '../../main/engine/app/SettingsStore.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { loadCatalog, resolveCatalogFilePath } from '../../main/engine/models/catalog.ts';
import { PARTIAL_SUFFIX } from '../../main/engine/models/downloadModel.ts';
import { ReckonError } from '../../main/engine/errors.ts';
import { parseFile } from '../../main/engine/corpus/loaders/parseFile.ts';
import packageJson from '../../package.json' with { type: 'json' };

const QUESTION = 'What is the capital of France?';
const PLAN = [
  '```javascript',
  'const docs = await retrieve("capital of France");',
  `const capital = await answer(${JSON.stringify(QUESTION)}, docs);`,
  `return await answer(\`Given: the capital of France is \${capital}. Answer the question: ${QUESTION}\`);`,
  '```',
].join('\n');
const SCRIPT_LINES = [
  { role: 'decompose', output: JSON.stringify([QUESTION]) },
  { role: 'plan', output: PLAN },
  { role: 'answer', output: 'Document [1] says Paris is the capital of France.\n<answer>Paris</answer>' },
  { role: 'answer', output: 'The given fact answers it.\n<answer>Paris</answer>' },
];

let tmp: string;
let docsDir: string;
let dataDir: string;
let modelsDir: string;
let replayFile: string;
let slowReplayFile: string;
let service: AppService;
const warnings: string[] = [];
const unexpected: unknown[] = [];
const received: { [E in EventName]: EventPayload<E>[] } = {
  onDidChangeIngestProgress: [],
  onDidChangeDownloadProgress: [],
  onDidRecordTraceStep: [],
  onDidChangeEvalProgress: [],
  onDidFinishEvaluation: [],
};

function makeService(overrides: Partial<AppServiceOptions> = {}): AppService {
  return createAppService({
    dataDir,
    modelsDir,
    host: 'browser',
    onWarning: (message) => warnings.push(message),
    progressIntervalMs: 0,
    ...overrides,
  });
}

/** Runs a command the way both adapters do and returns its value (fails the test on an error). */
async function invoke<N extends CommandName>(
  name: N,
  input: CommandInput<N>,
  on: AppService = service,
): Promise<CommandOutput<N>> {
  const result = await dispatchCommand(on, name, input, {
    validateOutput: true,
    onUnexpectedError: (error) => unexpected.push(error),
  });
  if (!result.ok) throw new Error(`${name} failed: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<N>;
}

/** Runs a command that must fail and returns its error payload. */
async function invokeError(name: unknown, input: unknown, on: AppService = service): Promise<ErrorPayload> {
  const result = await dispatchCommand(on, name, input, {
    validateOutput: true,
    onUnexpectedError: (error) => unexpected.push(error),
  });
  if (result.ok) throw new Error(`${String(name)} succeeded but was expected to fail`);
  return result.error;
}

/** Waits (bounded) until `predicate` holds, polling every 20 ms. */
async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function listen(on: AppService): void {
  for (const name of EVENT_NAMES) {
    on.on(name, (payload) => {
      // Every event the UI receives must match the contract.
      expect(
        eventSchemas[name].safeParse(payload).success,
        `${name} payload ${JSON.stringify(payload)}`,
      ).toBe(true);
      (received[name] as unknown[]).push(payload);
    });
  }
}

function ingestEvents(jobId: string): EventPayload<'onDidChangeIngestProgress'>[] {
  return received.onDidChangeIngestProgress.filter((event) => event.jobId === jobId);
}

function finalIngestEvent(jobId: string): Promise<EventPayload<'onDidChangeIngestProgress'>> {
  return waitFor(`the end of ${jobId}`, () =>
    ingestEvents(jobId).find((e) => e.result !== null || e.error !== null),
  );
}

function traceOf(runId: string): EventPayload<'onDidRecordTraceStep'>[] {
  return received.onDidRecordTraceStep.filter((event) => event.runId === runId);
}

function runFinished(runId: string): Promise<EventPayload<'onDidRecordTraceStep'>> {
  return waitFor(`run ${runId} to finish`, () => traceOf(runId).find((e) => e.type === 'run-finished'));
}

/** What a run did, step by step, without what a replay legitimately changes (retries, timings). */
function stepTypes(runId: string): string[] {
  return traceOf(runId)
    .map((event) => event.type)
    .filter((type) => type !== 'retry' && type !== 'llm-call' && type !== 'metrics');
}

function downloadEvents(jobId: string): EventPayload<'onDidChangeDownloadProgress'>[] {
  return received.onDidChangeDownloadProgress.filter((event) => event.jobId === jobId);
}

function downloadEnded(jobId: string): Promise<EventPayload<'onDidChangeDownloadProgress'>> {
  return waitFor(`download ${jobId} to end`, () =>
    downloadEvents(jobId).find((event) => event.done || event.error !== null),
  );
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-app-'));
  docsDir = path.join(tmp, 'docs');
  dataDir = path.join(tmp, 'data');
  modelsDir = path.join(tmp, 'models');
  fs.mkdirSync(docsDir, { recursive: true });
  fs.mkdirSync(modelsDir, { recursive: true });
  fs.writeFileSync(
    path.join(docsDir, 'paris.txt'),
    'Paris is the capital of France. The Eiffel Tower in Paris was completed in 1889.\n',
  );
  fs.writeFileSync(
    path.join(docsDir, 'berlin.txt'),
    'Berlin is the capital of Germany. It lies on the Spree.\n',
  );
  // Long enough for several chunks, to test the neighbours getChunk returns.
  const paragraphs = Array.from(
    { length: 12 },
    (_, i) =>
      `Paragraph ${i + 1} of the rivers guide. ` +
      'The Seine flows through Paris and the Thames through London; rivers shaped these cities. '.repeat(4),
  );
  fs.writeFileSync(path.join(docsDir, 'rivers.md'), `# Rivers\n\n${paragraphs.join('\n\n')}\n`);
  replayFile = path.join(tmp, 'capital.jsonl');
  fs.writeFileSync(replayFile, `${SCRIPT_LINES.map((line) => JSON.stringify(line)).join('\n')}\n`);
  slowReplayFile = path.join(tmp, 'slow.jsonl');
  fs.writeFileSync(
    slowReplayFile,
    `${[{ ...SCRIPT_LINES[0], delayMs: 5_000 }, ...SCRIPT_LINES.slice(1)].map((line) => JSON.stringify(line)).join('\n')}\n`,
  );
  service = makeService();
  listen(service);
});

afterAll(async () => {
  await service?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('AppService over the real engine', () => {
  it('reports the app before anything is set up', async () => {
    const info = await invoke('getAppInfo', {});
    expect(info).toEqual({
      version: packageJson.version,
      dataDir,
      modelsDir,
      hasModel: false,
      hasEmbedder: false,
      host: 'browser',
      sampleCorpusDir: SAMPLE_CORPUS_DIR,
    });
    expect(await invoke('listCorpora', {})).toEqual({ corpora: [] });
  });

  it('ingests a folder as a job that streams progress to completion', async () => {
    const { jobId } = await invoke('ingestPaths', { corpus: 'notes', paths: [docsDir], embedder: 'none' });
    // The id comes back before any work is reported.
    expect(ingestEvents(jobId)).toEqual([]);
    const last = await finalIngestEvent(jobId);
    expect(last.error).toBeNull();
    expect(last.result).toMatchObject({ added: 3, updated: 0, failed: [], skipped: [], cancelled: false });
    expect(last.result!.embeddingSkipped).toMatch(/embeddings turned off/);
    const phases = ingestEvents(jobId).map((event) => event.progress.phase);
    expect(phases).toContain('parse');
    expect(phases.at(-1)).toBe('done');
    expect(ingestEvents(jobId).some((event) => event.progress.filesDone === 3)).toBe(true);
    // Nothing after the final event.
    expect(ingestEvents(jobId).at(-1)).toBe(last);

    const { corpora } = await invoke('listCorpora', {});
    expect(corpora).toEqual([
      expect.objectContaining({
        name: 'notes',
        documents: 3,
        failedDocuments: 0,
        vectors: 0,
        embedderId: null,
        error: null,
      }),
    ]);
    const { documents } = await invoke('listDocuments', { corpus: 'notes' });
    expect(documents.map((doc) => path.basename(doc.path))).toEqual(['berlin.txt', 'paris.txt', 'rivers.md']);
    expect(documents.every((doc) => doc.status === 'ok' && doc.chunkCount > 0)).toBe(true);
  });

  it('lists a damaged corpus beside the healthy ones, with its error and the fix', async () => {
    const broken = path.join(dataDir, 'corpora', 'broken');
    fs.mkdirSync(broken, { recursive: true });
    fs.writeFileSync(
      path.join(broken, 'corpus.db'),
      Buffer.from('not a database at all, just bytes'.repeat(200)),
    );
    try {
      const { corpora } = await invoke('listCorpora', {});
      expect(corpora.map((c) => c.name)).toEqual(['broken', 'notes']);
      expect(corpora[0]).toMatchObject({ documents: 0, error: { code: 'STORE_UNREADABLE' } });
      expect(corpora[0]!.error!.message).toMatch(/ingest it again|move/i);
      expect(corpora[1]!.error).toBeNull();
    } finally {
      fs.rmSync(broken, { recursive: true, force: true });
    }
  });

  it('gives a second ingest of the same corpus the writer-lock error as its job error', async () => {
    const first = await invoke('ingestPaths', { corpus: 'locked', paths: [docsDir], embedder: 'none' });
    const second = await invoke('ingestPaths', { corpus: 'locked', paths: [docsDir], embedder: 'none' });
    const [a, b] = await Promise.all([finalIngestEvent(first.jobId), finalIngestEvent(second.jobId)]);
    expect(a.result?.added).toBe(3);
    expect(b.result).toBeNull();
    expect(b.error).toMatchObject({ name: 'WriterLockedError', code: 'WRITER_LOCKED' });
    expect(b.error!.message).toMatch(/already being written/);
    await invoke('removeCorpus', { corpus: 'locked' });
    expect((await invoke('listCorpora', {})).corpora.map((c) => c.name)).toEqual(['notes']);
  });

  it('refuses relative paths and re-indexes what a corpus has', async () => {
    const error = await invokeError('ingestPaths', { corpus: 'notes', paths: ['docs'] });
    expect(error).toMatchObject({ code: 'BAD_PATH' });
    // A path that is not there is refused at once: no job, no corpus, no "finished" event.
    const typo = path.join(tmp, 'no-such-folder');
    expect(await invokeError('ingestPaths', { corpus: 'typo', paths: [typo] })).toMatchObject({
      code: 'PATH_NOT_FOUND',
      message: expect.stringContaining(typo),
    });
    expect((await invoke('listCorpora', {})).corpora.map((c) => c.name)).not.toContain('typo');
    const { jobId } = await invoke('reindexCorpus', { corpus: 'notes' });
    const last = await finalIngestEvent(jobId);
    expect(last.result).toMatchObject({ added: 0, unchanged: 3, removed: 0 });
    expect(await invokeError('reindexCorpus', { corpus: 'nothing-here' })).toMatchObject({
      code: 'CORPUS_NOT_FOUND',
    });
  });

  it('cancels an ingestion job by id', async () => {
    const slowDir = path.join(tmp, 'slow-docs');
    fs.mkdirSync(slowDir);
    for (let i = 0; i < 40; i++)
      fs.writeFileSync(path.join(slowDir, `note-${i}.txt`), `Note ${i} about slow parsing.\n`);
    const slow = makeService({
      dataDir: path.join(tmp, 'slow-data'),
      engineOptions: {
        createParser: async () => ({
          parse: async (file, options) => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return parseFile(file, options?.signal ? { signal: options.signal } : {});
          },
          close: async () => {},
        }),
      },
    });
    listen(slow);
    try {
      const { jobId } = await invoke(
        'ingestPaths',
        { corpus: 'slow', paths: [slowDir], embedder: 'none' },
        slow,
      );
      await waitFor('the first parsed file', () =>
        ingestEvents(jobId).find(
          (event) => event.progress.phase === 'parse' && event.progress.filesDone >= 1,
        ),
      );
      expect(await invoke('cancelJob', { jobId }, slow)).toEqual({ ok: true });
      const last = await finalIngestEvent(jobId);
      expect(last.result?.cancelled).toBe(true);
      expect(last.result!.added).toBeLessThan(40);
      // Cancelling a finished job is harmless; an unknown one is an error.
      expect(await invoke('cancelJob', { jobId }, slow)).toEqual({ ok: true });
      expect(await invokeError('cancelJob', { jobId: 'ingest-nope' }, slow)).toMatchObject({
        code: 'JOB_NOT_FOUND',
      });
    } finally {
      await slow.close();
    }
  });

  it('searches and opens a cited chunk with its neighbours', async () => {
    const result = await invoke('search', {
      corpus: 'notes',
      query: 'capital of France',
      mode: 'bm25',
      k: 3,
    });
    expect(result.mode).toBe('bm25');
    expect(path.basename(result.hits[0]!.path)).toBe('paris.txt');
    const hybrid = await invoke('search', { corpus: 'notes', query: 'capital of France' });
    expect(hybrid.mode).toBe('bm25');
    expect(hybrid.warnings.join(' ')).toMatch(/Dense search is unavailable/);

    const single = await invoke('getChunk', { corpus: 'notes', chunkId: result.hits[0]!.chunkId });
    expect(single.chunk).toMatchObject({ chunkId: result.hits[0]!.chunkId, text: result.hits[0]!.text });
    expect(single.context).toEqual([{ chunkId: single.chunk.chunkId, text: single.chunk.text }]);

    const rivers = (
      await invoke('search', { corpus: 'notes', query: 'Seine Thames rivers', mode: 'bm25', k: 20 })
    ).hits
      .filter((hit) => hit.path.endsWith('rivers.md'))
      .sort((a, b) => a.chunkId - b.chunkId);
    expect(rivers.length).toBeGreaterThanOrEqual(4);
    const middle = rivers[2]!;
    const opened = await invoke('getChunk', { corpus: 'notes', chunkId: middle.chunkId });
    expect(opened.chunk.path).toBe(middle.path);
    expect(opened.context.map((c) => c.chunkId)).toEqual(rivers.slice(0, 5).map((hit) => hit.chunkId));
    expect(opened.context.map((c) => c.chunkId)).toContain(middle.chunkId);
    // Never a passage of another document.
    const paris = result.hits[0]!.chunkId;
    expect(opened.context.map((c) => c.chunkId)).not.toContain(paris);

    expect(await invokeError('getChunk', { corpus: 'notes', chunkId: 999_999 })).toMatchObject({
      code: 'CHUNK_NOT_FOUND',
    });
    expect(await invokeError('search', { corpus: 'missing', query: 'x' })).toMatchObject({
      code: 'CORPUS_NOT_FOUND',
    });
  });

  it('keeps settings in settings.json', async () => {
    const defaults = await invoke('getSettings', {});
    expect(defaults).toEqual({
      dataDir,
      modelsDir,
      activeModel: null,
      llm: DEFAULT_LLM_SETTINGS,
      sandbox: DEFAULT_SANDBOX_SETTINGS,
      retry: DEFAULT_RETRY_SETTINGS,
    });
    const updated = await invoke('updateSettings', {
      sandbox: { deadlineMs: 15_000 },
      retry: { maxAttempts: 2 },
      llm: { threads: 2 },
    });
    expect(updated.sandbox).toEqual({ ...DEFAULT_SANDBOX_SETTINGS, deadlineMs: 15_000 });
    expect(updated.retry.maxAttempts).toBe(2);
    expect(updated.llm.threads).toBe(2);
    const onDisk = JSON.parse(fs.readFileSync(path.join(dataDir, SETTINGS_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(onDisk).toMatchObject({ version: 1, sandbox: { deadlineMs: 15_000 }, retry: { maxAttempts: 2 } });
    // No temp files left behind by the atomic write.
    expect(fs.readdirSync(dataDir).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    // Checked by the contract before the service sees it: the sandbox refuses stacks over 256 KiB.
    const tooBig = await invokeError('updateSettings', { sandbox: { stackBytes: 1 << 20 } });
    expect(tooBig.code).toBe('BAD_INPUT');
    expect(tooBig.message).toMatch(/sandbox\.stackBytes/);
    expect(await invokeError('updateSettings', { activeModel: 'not a model' })).toMatchObject({
      code: 'BAD_MODEL_SPEC',
    });
    // A failed update changes nothing.
    expect(await invoke('getSettings', {})).toEqual(updated);

    // A second service on the same data dir reads them back.
    const again = makeService();
    try {
      expect(await invoke('getSettings', {}, again)).toEqual(updated);
    } finally {
      await again.close();
    }
  });

  it('falls back to defaults, with warnings, when settings.json is damaged', async () => {
    const damagedDir = path.join(tmp, 'damaged');
    fs.mkdirSync(damagedDir);
    fs.writeFileSync(path.join(damagedDir, SETTINGS_FILE), '{ this is not json');
    warnings.length = 0;
    const damaged = makeService({ dataDir: damagedDir });
    try {
      const settings = await invoke('getSettings', {}, damaged);
      expect(settings).toMatchObject({
        activeModel: null,
        llm: DEFAULT_LLM_SETTINGS,
        sandbox: DEFAULT_SANDBOX_SETTINGS,
      });
      expect(warnings).toEqual([
        expect.stringMatching(/settings\.json could not be read.*using the default settings/),
      ]);
    } finally {
      await damaged.close();
    }

    // One bad field costs only that field.
    fs.writeFileSync(
      path.join(damagedDir, SETTINGS_FILE),
      JSON.stringify({
        version: 1,
        activeModel: 'replay:x.jsonl',
        llm: { contextSize: 'huge', gpuLayers: 8 },
        sandbox: 7,
      }),
    );
    warnings.length = 0;
    const partly = makeService({ dataDir: damagedDir });
    try {
      const settings = await invoke('getSettings', {}, partly);
      expect(settings.activeModel).toBe('replay:x.jsonl');
      expect(settings.llm).toEqual({ ...DEFAULT_LLM_SETTINGS, gpuLayers: 8 });
      expect(settings.sandbox).toEqual(DEFAULT_SANDBOX_SETTINGS);
      expect(warnings).toHaveLength(2);
      expect(warnings[0]).toMatch(/"llm\.contextSize" is invalid/);
      expect(warnings[1]).toMatch(/"sandbox" is not an object/);
    } finally {
      await partly.close();
    }
  });

  it('refuses to start a run without a model, saying what to do', async () => {
    const error = await invokeError('startRun', { question: QUESTION, corpus: 'notes' });
    expect(error).toMatchObject({ name: 'ReckonError', code: 'NO_MODEL' });
    expect(error.message).toMatch(/Choose a model in the Models view/);
    expect(
      await invokeError('startRun', { question: QUESTION, corpus: 'nope', model: `replay:${replayFile}` }),
    ).toMatchObject({
      code: 'CORPUS_NOT_FOUND',
    });
  });

  it('runs a question with the active replay model, streaming its trace', async () => {
    await invoke('updateSettings', { activeModel: `replay:${replayFile}` });
    expect((await invoke('getAppInfo', {})).hasModel).toBe(true);

    const { runId } = await invoke('startRun', { question: QUESTION, corpus: 'notes', mode: 'bm25' });
    const finished = await runFinished(runId);
    expect(finished).toMatchObject({ type: 'run-finished', status: 'succeeded', error: null });
    const trace = traceOf(runId);
    expect(trace.map((event) => event.seq)).toEqual(trace.map((_, i) => i));
    expect(trace[0]).toMatchObject({
      type: 'run-started',
      question: QUESTION,
      corpus: 'notes',
      model: `replay:${replayFile}`,
    });
    const types = trace.map((event) => event.type);
    for (const type of [
      'decomposition',
      'program-generated',
      'execution-started',
      'tool-call',
      'tool-result',
      'final-answer',
      'metrics',
    ]) {
      expect(types).toContain(type);
    }
    const answer = trace.find((event) => event.type === 'final-answer');
    expect(answer).toMatchObject({ answer: 'Paris' });
    const retrieved = trace.find((event) => event.type === 'tool-result' && event.tool === 'retrieve');
    expect(retrieved && 'chunks' in retrieved ? retrieved.chunks?.[0]?.source : undefined).toMatch(
      /paris\.txt$/,
    );

    // The settings were applied to the run.
    const store = RunStore.open(dataDir);
    try {
      const options = store.listRuns().find((run) => run.id === runId)!.options as Record<string, unknown>;
      expect(options).toMatchObject({
        sandboxLimits: { deadlineMs: 15_000 },
        retry: { maxAttempts: 2 },
        searchMode: 'bm25',
      });
    } finally {
      store.close();
    }

    // History.
    const { runs } = await invoke('listRuns', {});
    expect(runs[0]).toMatchObject({ id: runId, status: 'succeeded', answer: 'Paris', question: QUESTION });
    expect((await invoke('listRuns', { search: 'germany' })).runs).toEqual([]);
    const saved = await invoke('getRun', { runId });
    // As it crosses a JSON bridge (undefined arguments become null).
    expect(saved.events).toEqual(JSON.parse(JSON.stringify(trace)));
    // What Re-run restores: the options completed with their defaults, k and the search mode.
    expect(saved.run).toMatchObject({
      strategyOptions: { maxRepairs: 3, boostedTopK: 10, adaptiveRetrieval: true },
      k: null,
      mode: 'bm25',
    });
    expect(await invokeError('getRun', { runId: 'run-20200101-000000-zzzz' })).toMatchObject({
      code: 'RUN_NOT_FOUND',
    });

    const asJson = await invoke('exportRun', { runId, format: 'json' });
    expect(asJson).toMatchObject({ fileName: `${runId}.json`, mimeType: 'application/json' });
    const exported = JSON.parse(asJson.content) as {
      format: string;
      events: unknown[];
      modelOutputs: unknown[];
    };
    expect(exported.format).toBe('reckon-run');
    expect(exported.events).toHaveLength(trace.length);
    expect(exported.modelOutputs).toHaveLength(SCRIPT_LINES.length);
    const asReplay = await invoke('exportRun', { runId, format: 'replay' });
    expect(asReplay.fileName).toBe(`${runId}.replay.jsonl`);
    const [replayHeader, ...replayLines] = asReplay.content
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(replayHeader).toMatchObject({
      format: 'reckon-replay',
      strategy: 'pyrag',
      calls: SCRIPT_LINES.length,
    });
    expect(replayLines.map(({ promptSha256: _prompt, ...line }) => line)).toEqual(SCRIPT_LINES);
    expect(replayLines.every((line) => /^[0-9a-f]{64}$/.test(String(line.promptSha256)))).toBe(true);

    // Cancelling a finished run is harmless; an unknown one is an error.
    expect(await invoke('cancelRun', { runId })).toEqual({ ok: true });
    expect(await invokeError('cancelRun', { runId: 'run-20200101-000000-zzzz' })).toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
  });

  it('cancels a run by id', async () => {
    const { runId } = await invoke('startRun', {
      question: QUESTION,
      corpus: 'notes',
      model: `replay:${slowReplayFile}`,
    });
    await waitFor('the run to start', () => traceOf(runId).find((event) => event.type === 'run-started'));
    expect(await invoke('cancelRun', { runId })).toEqual({ ok: true });
    const finished = await runFinished(runId);
    expect(finished).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect((await invoke('getRun', { runId })).run.status).toBe('cancelled');
  });

  it('replays a saved run with its recorded outputs, reproducing it', async () => {
    const { runId: original } = await invoke('startRun', {
      question: QUESTION,
      corpus: 'notes',
      model: `replay:${replayFile}`,
      mode: 'bm25',
      k: 3,
    });
    expect(await runFinished(original)).toMatchObject({ status: 'succeeded' });

    const { runId } = await invoke('replayRun', { runId: original });
    expect(runId).not.toBe(original);
    const finished = await runFinished(runId);
    expect(finished).toMatchObject({ type: 'run-finished', status: 'succeeded', error: null });

    // The model is a replay file of the original run's outputs, written under the data folder.
    const file = path.join(dataDir, REPLAYS_DIR, `${original}.jsonl`);
    const { content } = await invoke('exportRun', { runId: original, format: 'replay' });
    expect(fs.readFileSync(file, 'utf8')).toBe(content);
    expect(fs.readdirSync(path.join(dataDir, REPLAYS_DIR)).filter((name) => name.endsWith('.tmp'))).toEqual(
      [],
    );

    const [before, after] = await Promise.all([
      invoke('getRun', { runId: original }),
      invoke('getRun', { runId }),
    ]);
    expect(after.run).toMatchObject({
      status: 'succeeded',
      question: QUESTION,
      corpus: 'notes',
      strategy: before.run.strategy,
      model: `replay:${file}`,
      answer: before.run.answer,
    });
    expect(after.run.answer).toBe('Paris');
    expect(stepTypes(runId)).toEqual(stepTypes(original));
    expect(stepTypes(runId)).toContain('final-answer');
    // The same retrievals, hence the same citations.
    const citations = (events: typeof before.events) =>
      events.flatMap((event) => (event.type === 'final-answer' ? [event.citations] : []));
    expect(citations(after.events)).toEqual(citations(before.events));

    // k and the search mode came from the original run.
    const store = RunStore.open(dataDir);
    try {
      expect(store.getRun(runId)!.run.options).toMatchObject({ topK: 3, searchMode: 'bm25' });
    } finally {
      store.close();
    }

    // A replay is itself a complete recording: it replays too.
    const { runId: again } = await invoke('replayRun', { runId });
    expect(await runFinished(again)).toMatchObject({ status: 'succeeded' });
    expect(stepTypes(again)).toEqual(stepTypes(original));
  });

  it('refuses to replay an unknown, running or incomplete run', async () => {
    expect(await invokeError('replayRun', { runId: 'run-20200101-000000-zzzz' })).toMatchObject({
      code: 'RUN_NOT_FOUND',
    });
    expect(await invokeError('replayRun', {})).toMatchObject({ code: 'BAD_INPUT' });
    expect(await invokeError('replayRun', { runId: 'x', model: 'replay:y' })).toMatchObject({
      code: 'BAD_INPUT',
    });

    const { runId: slow } = await invoke('startRun', {
      question: QUESTION,
      corpus: 'notes',
      model: `replay:${slowReplayFile}`,
    });
    const running = await invokeError('replayRun', { runId: slow });
    expect(running).toMatchObject({ code: 'RUN_ACTIVE' });
    expect(running.message).toMatch(/still running/);
    await invoke('cancelRun', { runId: slow });
    await runFinished(slow);

    // A finished run with a missing model output: the store's own error, message and all.
    const store = RunStore.open(dataDir);
    try {
      store.createRun({
        id: 'run-gap',
        question: QUESTION,
        corpus: 'notes',
        strategy: 'pyrag',
        model: `replay:${replayFile}`,
        createdAt: Date.now(),
      });
      const record = { role: 'answer', output: 'x', promptTokens: 1, completionTokens: 1 };
      store.recordModelOutput('run-gap', { ...record, callIndex: 0 });
      store.recordModelOutput('run-gap', { ...record, callIndex: 2 });
      store.appendEvent({
        runId: 'run-gap',
        seq: 0,
        at: Date.now(),
        type: 'run-finished',
        status: 'failed',
        error: { name: 'ReckonError', code: 'MODEL_FAILED', message: 'The model failed.' },
      });
    } finally {
      store.close();
    }
    const runsBefore = (await invoke('listRuns', {})).runs.length;
    const incomplete = await invokeError('replayRun', { runId: 'run-gap' });
    expect(incomplete).toMatchObject({ name: 'ReckonError', code: 'REPLAY_INCOMPLETE' });
    expect(incomplete.message).toMatch(/no recorded output for model call 1/);
    // Nothing was started or written.
    expect((await invoke('listRuns', {})).runs).toHaveLength(runsBefore);
    expect(fs.existsSync(path.join(dataDir, REPLAYS_DIR, 'run-gap.jsonl'))).toBe(false);

    // A run that stopped before its first model call has nothing to replay, and says so.
    const empty = RunStore.open(dataDir);
    try {
      empty.createRun({
        id: 'run-empty',
        question: QUESTION,
        corpus: 'notes',
        strategy: 'pyrag',
        model: `replay:${replayFile}`,
        createdAt: Date.now(),
      });
      empty.appendEvent({
        runId: 'run-empty',
        seq: 0,
        at: Date.now(),
        type: 'run-finished',
        status: 'failed',
        error: { name: 'ReckonError', code: 'MODEL_NOT_FOUND', message: 'No model.' },
      });
    } finally {
      empty.close();
    }
    expect((await invoke('getRun', { runId: 'run-empty' })).run.recordedCalls).toBe(0);
    expect((await invoke('getRun', { runId: 'run-gap' })).run.recordedCalls).toBe(2);
    expect(await invokeError('replayRun', { runId: 'run-empty' })).toMatchObject({ code: 'REPLAY_EMPTY' });
  });

  it('checks a model when it is chosen: the active one by default, a spec when given', async () => {
    const check = await invoke('checkModel', { spec: `replay:${replayFile}` });
    expect(check).toMatchObject({ ok: true, kind: 'replay', problem: null, replay: { recordedFor: null } });
    expect(check.replay?.outputs).toBeGreaterThan(0);
    const missing = await invoke('checkModel', { spec: path.join(modelsDir, 'absent.gguf') });
    expect(missing).toMatchObject({ ok: false, problem: { code: 'MODEL_NOT_FOUND' } });
    expect(await invokeError('checkModel', { spec: 'gpt-4' })).toMatchObject({ code: 'BAD_MODEL_SPEC' });
    await invoke('updateSettings', { activeModel: `replay:${replayFile}` });
    expect(await invoke('checkModel', {})).toMatchObject({ ok: true, spec: `replay:${replayFile}` });
  });

  it('lists models and fails a download offline with the manual instructions', async () => {
    fs.mkdirSync(path.join(modelsDir, 'llm'), { recursive: true });
    fs.writeFileSync(path.join(modelsDir, 'llm', 'tiny.gguf'), 'not really a model');
    const models = await invoke('listModels', {});
    expect(models.modelsDir).toBe(modelsDir);
    expect(models.local).toEqual([
      { kind: 'llm', path: path.join(modelsDir, 'llm', 'tiny.gguf'), sizeBytes: 18 },
    ]);
    const first = models.catalog[0]!;
    expect(first).toMatchObject({
      installed: false,
      installDir: path.join(modelsDir, 'llm'),
      partialBytes: 0,
      // The shipped catalog does not give this file's size.
      sizeBytes: null,
    });
    expect(first.urls[0]).toMatch(/^https:\/\//);

    const offline = makeService({
      dataDir: path.join(tmp, 'offline-data'),
      fetch: async () => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
        });
      },
    });
    listen(offline);
    try {
      const { jobId } = await invoke('pullModel', { id: first.id }, offline);
      const last = await waitFor('the download to fail', () =>
        received.onDidChangeDownloadProgress.find(
          (event) => event.jobId === jobId && (event.done || event.error),
        ),
      );
      expect(last.done).toBe(false);
      expect(last.error).toMatchObject({ name: 'DownloadError', code: 'DOWNLOAD_FAILED' });
      expect(last.error!.message).toMatch(/seems to be offline/);
      expect(last.error!.message).toContain(first.urls[0]!);
      expect(last.error!.message).toContain(path.join(modelsDir, 'llm'));
      expect(await invokeError('pullModel', { id: 'no-such-model' }, offline)).toMatchObject({
        code: 'UNKNOWN_MODEL',
      });
    } finally {
      await offline.close();
    }

    // A GGUF that exists counts as a model; one that does not, does not.
    await invoke('updateSettings', { activeModel: 'tiny.gguf' });
    expect((await invoke('getAppInfo', {})).hasModel).toBe(true);
    await invoke('updateSettings', { activeModel: 'missing.gguf' });
    expect((await invoke('getAppInfo', {})).hasModel).toBe(false);
  });
});

describe('model downloads: pause, resume, cancel and discard', () => {
  const MODEL_SIZE = 256 * 1024 + 77;
  /** Deterministic, non-repeating-looking bytes so a resume at the wrong offset cannot go unnoticed. */
  const MODEL = Buffer.from(Array.from({ length: MODEL_SIZE }, (_, i) => (i * 31 + (i >> 8) * 7) & 0xff));
  /** A stalled response sends this much, then waits for the client to go away. */
  const STALL_AFTER = 64 * 1024;
  const MAX_REQUESTS = 50;
  const [llm, other] = loadCatalog().filter((entry) => entry.kind === 'llm' && entry.files.length === 1);
  let server: http.Server;
  let origin: string;
  let seen: { url: string; range: string | undefined }[] = [];
  let stall = true;
  let dl: AppService;
  let dlModelsDir: string;

  function serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '/';
    seen.push({ url, range: req.headers.range });
    if (seen.length > MAX_REQUESTS || !url.endsWith('.gguf')) {
      res.writeHead(seen.length > MAX_REQUESTS ? 500 : 404).end();
      return;
    }
    const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = match ? Number(match[1]) : 0;
    if (start >= MODEL_SIZE) {
      res.writeHead(416, { 'content-range': `bytes */${MODEL_SIZE}` }).end();
      return;
    }
    res.writeHead(match ? 206 : 200, {
      'content-length': String(MODEL_SIZE - start),
      ...(match ? { 'content-range': `bytes ${start}-${MODEL_SIZE - 1}/${MODEL_SIZE}` } : {}),
      'accept-ranges': 'bytes',
    });
    const body = MODEL.subarray(start);
    if (!stall) {
      res.end(body);
      return;
    }
    res.write(body.subarray(0, STALL_AFTER));
    // Bounded: a response nobody stops still ends.
    const timer = setTimeout(() => res.end(body.subarray(STALL_AFTER)), 20_000);
    timer.unref();
    res.on('close', () => clearTimeout(timer));
  }

  /** The shipped catalog's URLs, sent to the local server instead. */
  const viaLocalServer: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.replace(/^https:\/\/huggingface\.co\//, `${origin}/`), init);
  };

  const destOf = (entry: typeof llm) => resolveCatalogFilePath(dlModelsDir, entry!, entry!.files[0]!);
  const partOf = (entry: typeof llm) => destOf(entry) + PARTIAL_SUFFIX;
  const sizeOf = (file: string) => (fs.existsSync(file) ? fs.statSync(file).size : 0);
  const listed = async (entry: typeof llm) =>
    (await invoke('listModels', {}, dl)).catalog.find((m) => m.id === entry!.id)!;
  /** Starts a download of `entry` that stalls, and waits until some of it is on disk. */
  async function startStalled(entry: typeof llm): Promise<string> {
    stall = true;
    const { jobId } = await invoke('pullModel', { id: entry!.id }, dl);
    await waitFor('the first bytes on disk', () => (sizeOf(partOf(entry)) > 0 ? true : undefined));
    return jobId;
  }

  beforeAll(async () => {
    expect(llm && other).toBeTruthy();
    server = http.createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dlModelsDir = path.join(tmp, 'dl-models');
    dl = makeService({ dataDir: path.join(tmp, 'dl-data'), modelsDir: dlModelsDir, fetch: viaLocalServer });
    listen(dl);
  });

  afterAll(async () => {
    await dl?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('pauses a download, keeping what it has, and resumes it from there to the end', async () => {
    seen = [];
    const jobId = await startStalled(llm);
    expect(await invoke('cancelJob', { jobId }, dl)).toEqual({ ok: true });
    // cancelJob waited for the download to stop: its last event is in.
    expect(downloadEvents(jobId).at(-1)).toMatchObject({ done: false, error: { code: 'CANCELLED' } });
    const paused = await listed(llm);
    expect(paused.installed).toBe(false);
    expect(paused.sizeBytes).toBeNull();
    expect(paused.partialBytes).toBeGreaterThan(0);
    expect(paused.partialBytes).toBeLessThan(MODEL_SIZE);
    expect(paused.partialBytes).toBe(sizeOf(partOf(llm)));

    stall = false;
    const resumed = await invoke('pullModel', { id: llm!.id }, dl);
    expect(resumed.jobId).not.toBe(jobId);
    expect(await downloadEnded(resumed.jobId)).toMatchObject({
      done: true,
      error: null,
      receivedBytes: MODEL_SIZE,
    });
    expect(seen.map((request) => request.range)).toEqual([undefined, `bytes=${paused.partialBytes}-`]);
    expect(fs.readFileSync(destOf(llm)).equals(MODEL)).toBe(true);
    expect(await listed(llm)).toMatchObject({ installed: true, partialBytes: 0 });
    expect(fs.existsSync(partOf(llm))).toBe(false);
  });

  it('cancels a download and deletes what it had downloaded', async () => {
    const jobId = await startStalled(other);
    expect(await invoke('cancelJob', { jobId, discard: true }, dl)).toEqual({ ok: true });
    expect(fs.existsSync(partOf(other))).toBe(false);
    expect(fs.existsSync(destOf(other))).toBe(false);
    expect(await listed(other)).toMatchObject({ installed: false, partialBytes: 0 });
  });

  it('discards what a paused download left', async () => {
    const jobId = await startStalled(other);
    // Not while the download writes it.
    expect(await invokeError('discardDownload', { id: other!.id }, dl)).toMatchObject({
      code: 'DOWNLOAD_ACTIVE',
    });
    await invoke('cancelJob', { jobId }, dl);
    expect((await listed(other)).partialBytes).toBeGreaterThan(0);
    expect(await invoke('discardDownload', { id: other!.id }, dl)).toEqual({ ok: true });
    expect(fs.existsSync(partOf(other))).toBe(false);
    expect((await listed(other)).partialBytes).toBe(0);
    // Nothing left to discard is fine; an unknown model is not.
    expect(await invoke('discardDownload', { id: other!.id }, dl)).toEqual({ ok: true });
    expect(await invokeError('discardDownload', { id: 'no-such-model' }, dl)).toMatchObject({
      code: 'UNKNOWN_MODEL',
    });

    // A late "cancel and discard" of a download that was paused already deletes its files too.
    const again = await startStalled(other);
    await invoke('cancelJob', { jobId: again }, dl);
    expect(sizeOf(partOf(other))).toBeGreaterThan(0);
    expect(await invoke('cancelJob', { jobId: again, discard: true }, dl)).toEqual({ ok: true });
    expect(fs.existsSync(partOf(other))).toBe(false);
  });
});

describe('dispatchCommand', () => {
  it('rejects unknown commands and bad input without calling the service', async () => {
    let calls = 0;
    const spy: Pick<AppService, 'handle'> = {
      handle: async () => {
        calls++;
        return {} as never;
      },
    };
    expect(await dispatchCommand(spy, 'dropTables', {})).toEqual({
      ok: false,
      error: expect.objectContaining({ name: 'ReckonError', code: 'UNKNOWN_COMMAND' }),
    });
    expect(await dispatchCommand(spy, 42, {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_COMMAND' },
    });
    expect(await dispatchCommand(spy, 'toString', {})).toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_COMMAND' },
    });

    const missing = await dispatchCommand(spy, 'search', { corpus: 'notes' });
    expect(missing).toMatchObject({ ok: false, error: { name: 'ReckonError', code: 'BAD_INPUT' } });
    expect(!missing.ok && missing.error.message).toMatch(/^Invalid input for search: query: /);
    const extra = await dispatchCommand(spy, 'listCorpora', { sneaky: true });
    expect(!extra.ok && extra.error.message).toMatch(/sneaky/);
    const badName = await dispatchCommand(spy, 'listDocuments', { corpus: '../etc' });
    expect(!badName.ok && badName.error.message).toMatch(/corpus: /);
    expect(calls).toBe(0);
  });

  it('turns thrown errors into {name, code, message}', async () => {
    const throwing = (error: unknown): Pick<AppService, 'handle'> => ({
      handle: async () => {
        throw error;
      },
    });
    const reported: unknown[] = [];
    const onUnexpectedError = (error: unknown): void => void reported.push(error);

    const known = await dispatchCommand(
      throwing(new ReckonError('SOMETHING', 'Do this next.')),
      'listCorpora',
      undefined,
      { onUnexpectedError },
    );
    expect(known).toEqual({
      ok: false,
      error: { name: 'ReckonError', code: 'SOMETHING', message: 'Do this next.' },
    });
    expect(reported).toEqual([]);

    const boom = new TypeError('cannot read properties of undefined');
    const internal = await dispatchCommand(throwing(boom), 'listCorpora', {}, { onUnexpectedError });
    expect(internal).toMatchObject({ ok: false, error: { name: 'ReckonError', code: 'INTERNAL' } });
    expect(!internal.ok && internal.error.message).toMatch(
      /unexpected.*listCorpora.*cannot read properties of undefined/,
    );
    expect(reported).toEqual([boom]);

    const weird = await dispatchCommand(
      throwing({ toString: () => 'secret internals' }),
      'listCorpora',
      {},
      { onUnexpectedError },
    );
    expect(!weird.ok && weird.error.message).not.toContain('secret internals');

    const wrongShape: Pick<AppService, 'handle'> = { handle: async () => ({ corpora: 'nope' }) as never };
    const checked = await dispatchCommand(
      wrongShape,
      'listCorpora',
      {},
      { validateOutput: true, onUnexpectedError },
    );
    expect(checked).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(!checked.ok && checked.error.message).toMatch(/does not match the contract \(corpora: /);
    expect(await dispatchCommand(wrongShape, 'listCorpora', {})).toEqual({
      ok: true,
      value: { corpora: 'nope' },
    });
  });

  it('reports a closed service', async () => {
    const closed = makeService({ dataDir: path.join(tmp, 'closed-data') });
    await closed.close();
    expect(await invokeError('listCorpora', {}, closed)).toMatchObject({ code: 'SERVICE_CLOSED' });
    expect(unexpected).toEqual([]);
  });
});
