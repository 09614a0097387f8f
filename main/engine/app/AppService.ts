/**
 * Everything the UI can ask for, over the engine: one object that implements every command of the
 * contract (preload/contract.ts) and emits its events. Both UI adapters sit on top of it — the
 * Electron shell (through IPC, with the service in its own process) and the browser host (HTTP +
 * WebSocket) — and both reach it through dispatchCommand, which parses every input first, so the
 * handlers here receive inputs that already match the contract.
 *
 * Long work returns an id at once and continues in the background, reported by events: ingestion
 * and downloads are jobs (cancelJob), runs are runs (cancelRun). Work starts on the next turn of
 * the event loop, so the caller has the id before the first event arrives. A cancelled download
 * keeps its `.part` files for the next pullModel to resume (pause) unless cancelJob is told to
 * discard them; replayRun starts a run like startRun, with the saved run's recorded outputs as its
 * model (a replay file in `<dataDir>/replays/`).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import packageJson from '../../../package.json' with { type: 'json' };
import {
  EVENT_NAMES,
  searchModeSchema,
  strategyOptionValuesSchema,
  type CommandName,
  type CommandOutput,
  type Commands,
  type ErrorPayload,
  type EventName,
  type EventPayload,
} from '../../../preload/contract.ts';
import { APP_ROOT } from '../config.ts';
import { createEngine, type Engine, type EngineOptions } from '../createEngine.ts';
import { checkIngestPaths } from '../corpus/checkIngestPaths.ts';
import { initialIngestProgress, type IngestProgressEvent } from '../corpus/ingestPaths.ts';
import type { EngineIngestResult } from '../createEngine.ts';
import { CancelledError, ReckonError, toReckonError } from '../errors.ts';
import { loadCatalog, requireCatalogEntry, resolveCatalogFilePath } from '../models/catalog.ts';
import { parseModelSpec, resolveGgufPath } from '../models/createLlmBackend.ts';
import type { DownloadProgress } from '../models/downloadModel.ts';
import { findLocalModelFiles } from '../models/findLocalModelFiles.ts';
import { RunStore, type RunSummary } from '../runs/RunStore.ts';
import { startRun, type LlmProvider, type RunHandle } from '../runs/startRun.ts';
import { strategyRegistry } from '../strategies/registry.ts';
import { atomicWriteFileSync } from '../util/atomicWrite.ts';
import { createCachedLlmProvider, type CachedLlmProvider } from './createCachedLlmProvider.ts';
import { catalogEntrySizeBytes, discardPartialDownload, measurePartialDownload } from './partialDownloads.ts';
import { replayRequestFor, type ReplayRequest } from './replayRequestFor.ts';
import { SettingsStore } from './SettingsStore.ts';

/** The sample corpus shipped with the app, offered by the Library's "Add sample corpus". */
export const SAMPLE_CORPUS_DIR = path.join(APP_ROOT, 'corpora', 'hotpotqa-sample');
/** Neighbouring chunks getChunk returns on each side of the cited one (same document and section). */
export const DEFAULT_CHUNK_CONTEXT = 2;
/** Minimum time between two progress events of one job (phase changes and the last one always go out). */
export const DEFAULT_PROGRESS_EVENT_INTERVAL_MS = 100;
/** close() waits this long for cancelled jobs and runs to stop before closing the stores anyway. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;
/** Finished job ids remembered so that a late cancelJob for them is not an error. */
const FINISHED_JOBS_REMEMBERED = 1_000;
/** Folder of `<dataDir>` where replayRun writes the replay file of each run it replays. */
export const REPLAYS_DIR = 'replays';

/** A command's input after the contract's schema parsed it (defaults applied). */
export type ServiceInput<N extends CommandName> = z.output<Commands[N]['input']>;

/** Receives one event's payload. */
export type ServiceListener<E extends EventName> = (payload: EventPayload<E>) => void;

/** The service both UI adapters drive. */
export interface AppService {
  /** Runs one command. The input must already match the contract (dispatchCommand parses it). */
  handle<N extends CommandName>(name: N, input: ServiceInput<N>): Promise<CommandOutput<N>>;
  /** Listens to one event; returns the function that stops listening. */
  on<E extends EventName>(event: E, listener: ServiceListener<E>): () => void;
  /** Cancels every job and run, waits for them (bounded), frees the model and closes the stores. */
  close(): Promise<void>;
}

/** Options of createAppService; every field without "Default" is required. */
export interface AppServiceOptions {
  /** Where corpora, runs and settings.json live. */
  dataDir: string;
  /** Where model files live (catalog downloads go here). */
  modelsDir: string;
  /** Which adapter serves the UI; reported by getAppInfo. */
  host: 'electron' | 'browser';
  /** Hands out model backends to runs. Default: createCachedLlmProvider over the settings. */
  llmProvider?: LlmProvider;
  /** API key for openai: model specs (the adapter reads it from the environment). Default: none. */
  openAiApiKey?: string;
  /** Clock for runs and progress timing, epoch ms. Default: Date.now. */
  now?: () => number;
  /** fetch used by model downloads. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Replaces parts of the engine (parser, embedder loader) — tests use small fakes. Default: the real ones. */
  engineOptions?: Omit<EngineOptions, 'dataDir' | 'modelsDir'>;
  /** Told about settings-file problems and listener failures. Default: console.warn. */
  onWarning?: (message: string) => void;
  /** Throttle for progress events. Default: DEFAULT_PROGRESS_EVENT_INTERVAL_MS (100). */
  progressIntervalMs?: number;
  /** Upper bound on close()'s wait for work to stop. Default: DEFAULT_CLOSE_TIMEOUT_MS (10 000). */
  closeTimeoutMs?: number;
}

interface Job {
  id: string;
  kind: 'ingest' | 'download';
  /** The corpus or model the job works on. */
  target: string;
  controller: AbortController;
  done: Promise<void>;
}

/** What launchRun needs: startRun's input, or a replayed run's settings with its replay model. */
type LaunchRunRequest = Omit<ReplayRequest, 'corpus'> & {
  corpus: string | null;
  /** Default: the active model from Settings. */
  model?: string;
};

type Handlers = {
  [N in CommandName]: (input: ServiceInput<N>) => Promise<CommandOutput<N>> | CommandOutput<N>;
};

/**
 * Creates the service over a new engine in `dataDir`/`modelsDir`. The run history (runs.db) is
 * opened on first use, settings.json at once (a damaged file gives defaults and a warning). Runs use
 * the active model unless a command names one, with the sandbox and retry settings applied; GGUF
 * models stay loaded between runs (see createCachedLlmProvider). Defaults: see AppServiceOptions.
 */
export function createAppService(options: AppServiceOptions): AppService {
  const now = options.now ?? Date.now;
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
  const progressIntervalMs = options.progressIntervalMs ?? DEFAULT_PROGRESS_EVENT_INTERVAL_MS;
  const engine: Engine = createEngine({
    ...options.engineOptions,
    dataDir: options.dataDir,
    modelsDir: options.modelsDir,
  });
  const settings = SettingsStore.open({
    dataDir: options.dataDir,
    modelsDir: options.modelsDir,
    onWarning: warn,
  });
  const cachedProvider: CachedLlmProvider | undefined = options.llmProvider
    ? undefined
    : createCachedLlmProvider({
        modelsDir: options.modelsDir,
        llmSettings: () => settings.get().llm,
        ...(options.openAiApiKey !== undefined ? { apiKey: options.openAiApiKey } : {}),
      });
  const llmProvider: LlmProvider = options.llmProvider ?? cachedProvider!.provider;
  let runStore: RunStore | undefined;
  const runs = (): RunStore => (runStore ??= RunStore.open(options.dataDir));

  const listeners = new Map<EventName, Set<(payload: never) => void>>(
    EVENT_NAMES.map((name) => [name, new Set()]),
  );
  const jobs = new Map<string, Job>();
  /** Finished jobs by id: what they worked on, for a late cancelJob with `discard`. */
  const finishedJobs = new Map<string, Pick<Job, 'kind' | 'target'>>();
  const activeRuns = new Map<string, { handle: RunHandle; done: Promise<unknown> }>();
  let closing: Promise<void> | undefined;

  function emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    for (const listener of [...(listeners.get(event) ?? [])]) {
      try {
        (listener as ServiceListener<E>)(payload);
      } catch (error) {
        warn(`A listener of ${event} failed: ${toReckonError(error).message}`);
      }
    }
  }

  function rememberFinished(job: Job): void {
    jobs.delete(job.id);
    finishedJobs.set(job.id, { kind: job.kind, target: job.target });
    if (finishedJobs.size > FINISHED_JOBS_REMEMBERED) {
      const oldest = finishedJobs.keys().next().value;
      if (oldest !== undefined) finishedJobs.delete(oldest);
    }
  }

  /** Starts `work` on the next turn (so the caller has the id first) and tracks it as a job. */
  function startJob(kind: Job['kind'], target: string, work: (job: Job) => Promise<void>): string {
    const id = `${kind}-${randomUUID()}`;
    const controller = new AbortController();
    const job: Job = { id, kind, target, controller, done: Promise.resolve() };
    job.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(job))
      .catch((error: unknown) => warn(`Job ${id} failed unexpectedly: ${toReckonError(error).message}`))
      .finally(() => rememberFinished(job));
    jobs.set(id, job);
    return id;
  }

  function ingestJob(corpus: string, paths: string[], embedder: 'auto' | 'none'): string {
    return startJob('ingest', corpus, async (job) => {
      let progress = toIngestProgress(initialIngestProgress());
      let lastSent = -Infinity;
      let lastPhase: string | undefined;
      const send = (extra: {
        result: EventPayload<'onDidChangeIngestProgress'>['result'];
        error: ErrorPayload | null;
      }) => emit('onDidChangeIngestProgress', { jobId: job.id, corpus, progress, ...extra });
      try {
        const result = await engine.ingest(corpus, paths, {
          embedder,
          signal: job.controller.signal,
          onProgress: (event) => {
            progress = toIngestProgress(event);
            const at = now();
            if (event.phase === lastPhase && at - lastSent < progressIntervalMs) return;
            lastPhase = event.phase;
            lastSent = at;
            send({ result: null, error: null });
          },
        });
        send({ result: toIngestSummary(result), error: null });
      } catch (error) {
        send({ result: null, error: toErrorPayload(error) });
      }
    });
  }

  /** The download job running for catalog entry `id`, if any. */
  function runningDownload(id: string): Job | undefined {
    for (const job of jobs.values()) if (job.kind === 'download' && job.target === id) return job;
    return undefined;
  }

  /** Deletes the .part files of catalog entry `id`; refused while a download of it writes them. */
  async function discardDownload(id: string): Promise<void> {
    const entry = requireCatalogEntry(id);
    if (runningDownload(id)) {
      throw new ReckonError(
        'DOWNLOAD_ACTIVE',
        `"${entry.title}" is downloading right now. Pause or cancel the download before discarding it.`,
      );
    }
    await discardPartialDownload(entry, options.modelsDir);
  }

  /**
   * Starts a run the way startRun does (the active model unless one is given, the sandbox and
   * retry settings applied), streams its events and tracks it for cancelRun and close().
   */
  function launchRun({ question, corpus, strategy, options, model, k, mode }: LaunchRunRequest): {
    runId: string;
  } {
    const current = settings.get();
    const spec = model ?? current.activeModel;
    if (spec === null) {
      throw new ReckonError(
        'NO_MODEL',
        'No model is chosen to answer questions. Choose a model in the Models view (or download one there), then ask again.',
      );
    }
    parseModelSpec(spec);
    // Fail before loading a model when the corpus is not there.
    if (corpus !== null && !engine.library.exists(corpus)) engine.library.open(corpus).close();
    const handle = startRun(
      {
        kind: 'question',
        question,
        strategy,
        ...(options ? { options } : {}),
        model: spec,
        corpus,
        ...(k !== undefined ? { topK: k } : {}),
        ...(mode ? { searchMode: mode } : {}),
        retry: current.retry,
        sandboxLimits: current.sandbox,
      },
      { engine, llm: llmProvider, store: runs(), now },
    );
    const unsubscribe = handle.on((event) => emit('onDidRecordTraceStep', event));
    const done = handle.done
      .catch((error: unknown) =>
        warn(`Run ${handle.runId} failed unexpectedly: ${toReckonError(error).message}`),
      )
      .finally(() => {
        unsubscribe();
        activeRuns.delete(handle.runId);
      });
    activeRuns.set(handle.runId, { handle, done });
    return { runId: handle.runId };
  }

  const handlers: Handlers = {
    async getAppInfo() {
      const active = settings.get().activeModel;
      return {
        version: packageJson.version,
        dataDir: options.dataDir,
        modelsDir: options.modelsDir,
        hasModel: active !== null && isModelAvailable(active, options.modelsDir),
        // Imported on demand, like the engine does: the module is only needed here and for ingestion.
        hasEmbedder:
          (await (await import('../models/TransformersEmbedder.ts')).findLocalEmbedders(options.modelsDir))
            .length > 0,
        host: options.host,
        sampleCorpusDir: fs.existsSync(SAMPLE_CORPUS_DIR) ? SAMPLE_CORPUS_DIR : null,
      };
    },

    listCorpora() {
      return {
        // A damaged corpus (stats null) is still listed with its error and fix, so it does not hide
        // the others.
        corpora: engine.listCorpora().map(({ name, stats, error }) => ({
          name,
          documents: stats?.documents ?? 0,
          sections: stats?.sections ?? 0,
          failedDocuments: stats?.failedDocuments ?? 0,
          chunks: stats?.chunks ?? 0,
          vectors: stats?.vectors ?? 0,
          embedderId: stats?.embedderId ?? null,
          error,
        })),
      };
    },

    listDocuments({ corpus }) {
      const opened = engine.library.open(corpus);
      try {
        return {
          documents: opened.store.listDocuments().map((doc) => ({
            path: doc.path,
            title: doc.title,
            kind: doc.kind,
            status: doc.status,
            errorCode: doc.errorCode,
            error: doc.error,
            chunkCount: doc.chunkCount,
            size: doc.size,
          })),
        };
      } finally {
        opened.close();
      }
    },

    ingestPaths({ corpus, paths, embedder }) {
      for (const p of paths) {
        if (!path.isAbsolute(p)) {
          throw new ReckonError(
            'BAD_PATH',
            `"${p}" is not a full path. Choose files or folders with the picker, or type a path that starts at the root of the disk.`,
          );
        }
      }
      // Refused now rather than as a failed job: nothing is created for a path that is not there.
      checkIngestPaths(engine.library, corpus, paths);
      return { jobId: ingestJob(corpus, paths, embedder ?? 'auto') };
    },

    reindexCorpus({ corpus }) {
      const opened = engine.library.open(corpus);
      let paths: string[];
      try {
        paths = opened.store.listDocuments().map((doc) => doc.path);
      } finally {
        opened.close();
      }
      if (paths.length === 0) {
        throw new ReckonError(
          'EMPTY_CORPUS',
          `Corpus "${corpus}" has no documents to re-index. Add files to it first.`,
        );
      }
      // Paths that are gone are removed from the corpus by ingestion itself.
      return { jobId: ingestJob(corpus, paths, 'auto') };
    },

    async cancelJob({ jobId, discard }) {
      const job = jobs.get(jobId);
      const target = job ?? finishedJobs.get(jobId);
      if (!target) {
        throw new ReckonError(
          'JOB_NOT_FOUND',
          `There is no job ${jobId}; it may belong to an earlier session of the app.`,
        );
      }
      if (job) {
        job.controller.abort();
        // A download is waited for: then its .part is closed (safe to delete) and the next
        // listModels shows what it left, which is what the UI reads right after a pause.
        if (job.kind === 'download') await job.done;
      }
      if (discard && target.kind === 'download') await discardDownload(target.target);
      return { ok: true as const };
    },

    removeCorpus({ corpus }) {
      engine.removeCorpus(corpus);
      return { ok: true as const };
    },

    async search({ corpus, query, k, mode }) {
      const result = await engine.search(corpus, query, {
        ...(k !== undefined ? { k } : {}),
        ...(mode ? { mode } : {}),
      });
      return {
        mode: result.mode,
        hits: result.hits.map((hit) => ({
          chunkId: hit.chunkId,
          path: hit.path,
          title: hit.title,
          text: hit.text,
          start: hit.start,
          end: hit.end,
          page: hit.page,
          score: hit.score,
        })),
        warnings: result.warnings,
      };
    },

    getChunk({ corpus, chunkId }) {
      const opened = engine.library.open(corpus);
      try {
        // A document's chunks are written in one transaction, in order, so their ids are consecutive:
        // the neighbours of a chunk are among the ids around it. The filter below keeps only the same
        // document and section, whatever the ids turn out to be.
        const ids: number[] = [];
        for (let id = chunkId - DEFAULT_CHUNK_CONTEXT; id <= chunkId + DEFAULT_CHUNK_CONTEXT; id++)
          ids.push(id);
        const rows = opened.store.getChunks(ids);
        const chunk = rows.get(chunkId);
        if (!chunk) {
          throw new ReckonError(
            'CHUNK_NOT_FOUND',
            `Passage ${chunkId} is no longer in corpus "${corpus}"; the document was changed or removed since. Search again to find it.`,
          );
        }
        const context = [...rows.values()]
          .filter(
            (row) =>
              row.documentId === chunk.documentId &&
              row.section === chunk.section &&
              Math.abs(row.ord - chunk.ord) <= DEFAULT_CHUNK_CONTEXT,
          )
          .sort((a, b) => a.ord - b.ord)
          .map((row) => ({ chunkId: row.id, text: row.text }));
        return {
          chunk: {
            chunkId: chunk.id,
            path: chunk.path,
            title: chunk.title,
            text: chunk.text,
            start: chunk.start,
            end: chunk.end,
            page: chunk.page,
            score: 0,
          },
          context,
        };
      } finally {
        opened.close();
      }
    },

    listModels() {
      const modelsDir = options.modelsDir;
      return {
        modelsDir,
        catalog: loadCatalog().map((entry) => ({
          id: entry.id,
          kind: entry.kind,
          title: entry.title,
          description: entry.description,
          license: entry.license,
          installed: entry.files.every((file) =>
            fs.existsSync(resolveCatalogFilePath(modelsDir, entry, file)),
          ),
          installDir: path.resolve(modelsDir, entry.installDir),
          urls: entry.files.map((file) => file.url),
          partialBytes: measurePartialDownload(entry, modelsDir),
          sizeBytes: catalogEntrySizeBytes(entry),
        })),
        local: findLocalModelFiles(modelsDir),
      };
    },

    pullModel({ id }) {
      const entry = requireCatalogEntry(id);
      // Two downloads into the same .part file would corrupt it: follow the one already running.
      const running = runningDownload(id);
      if (running) return { jobId: running.id };
      const jobId = startJob('download', id, async (job) => {
        let last: DownloadProgress | undefined;
        let lastSent = -Infinity;
        const base = { jobId: job.id, modelId: id };
        const send = (
          progress: DownloadProgress | undefined,
          done: boolean,
          error: ErrorPayload | null,
        ): void =>
          emit('onDidChangeDownloadProgress', {
            ...base,
            file: progress?.file ?? entry.files.at(-1)?.path ?? '',
            receivedBytes: progress?.receivedBytes ?? 0,
            totalBytes: progress?.totalBytes ?? null,
            bytesPerSecond: progress?.bytesPerSecond ?? 0,
            etaSeconds: progress?.etaSeconds ?? null,
            done,
            error,
          });
        try {
          const { downloadModel } = await import('../models/downloadModel.ts');
          await downloadModel({
            entry,
            modelsDir: options.modelsDir,
            signal: job.controller.signal,
            ...(options.fetch ? { fetch: options.fetch } : {}),
            onProgress: (progress) => {
              const fileChanged = progress.file !== last?.file;
              last = progress;
              const at = now();
              if (!fileChanged && at - lastSent < progressIntervalMs) return;
              lastSent = at;
              send(progress, false, null);
            },
          });
          send(last && { ...last, etaSeconds: 0 }, true, null);
        } catch (error) {
          send(last, false, toErrorPayload(error));
        }
      });
      return { jobId };
    },

    async discardDownload({ id }) {
      await discardDownload(id);
      return { ok: true as const };
    },

    getSettings: () => settings.get(),

    updateSettings: (patch) => settings.update(patch),

    listStrategies: () => ({ strategies: strategyRegistry.list() }),

    startRun: (input) => launchRun(input),

    replayRun({ runId }) {
      const found = runs().getRun(runId);
      if (!found) throw runNotFound(runId);
      const { run } = found;
      if (run.status === 'running') {
        throw new ReckonError(
          'RUN_ACTIVE',
          `Run ${runId} is still running; wait for it to finish (or cancel it), then replay it.`,
        );
      }
      const request = replayRequestFor(run);
      // REPLAY_INCOMPLETE when an output is missing: a replay would serve later outputs to the wrong calls.
      const content = runs().exportReplay(runId);
      const dir = path.join(options.dataDir, REPLAYS_DIR);
      fs.mkdirSync(dir, { recursive: true });
      // Run ids are file-name safe when Reckon made them; keep any other id inside the folder.
      const file = path.join(dir, `${runId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
      atomicWriteFileSync(file, content);
      return launchRun({ ...request, model: `replay:${file}` });
    },

    cancelRun({ runId }) {
      const active = activeRuns.get(runId);
      if (active) active.handle.cancel();
      else if (runs().getRun(runId) === undefined) throw runNotFound(runId);
      return { ok: true as const };
    },

    listRuns({ limit, search }) {
      return {
        runs: runs()
          .listRuns({
            ...(limit !== undefined ? { limit } : {}),
            ...(search !== undefined ? { search } : {}),
          })
          .map(toRunSummary),
      };
    },

    getRun({ runId }) {
      const found = runs().getRun(runId);
      if (!found) throw runNotFound(runId);
      return { run: toRunSummary(found.run), events: found.events };
    },

    exportRun({ runId, format }) {
      if (format === 'replay') {
        return {
          fileName: `${runId}.replay.jsonl`,
          mimeType: 'application/x-ndjson',
          content: runs().exportReplay(runId),
        };
      }
      return {
        fileName: `${runId}.json`,
        mimeType: 'application/json',
        content: `${JSON.stringify(runs().exportRun(runId), null, 2)}\n`,
      };
    },
  };

  return {
    async handle(name, input) {
      if (closing)
        throw new ReckonError('SERVICE_CLOSED', 'Reckon is shutting down; the request was not run.');
      const handler = handlers[name] as (input: unknown) => ReturnType<Handlers[typeof name]>;
      return (await handler(input)) as CommandOutput<typeof name>;
    },

    on(event, listener) {
      const set = listeners.get(event);
      if (!set) throw new ReckonError('UNKNOWN_EVENT', `There is no event named ${String(event)}.`);
      const entry = listener as (payload: never) => void;
      set.add(entry);
      return () => {
        set.delete(entry);
      };
    },

    close() {
      closing ??= (async () => {
        for (const job of jobs.values()) job.controller.abort();
        for (const { handle } of activeRuns.values()) handle.cancel();
        const pending = [
          ...[...jobs.values()].map((job) => job.done),
          ...[...activeRuns.values()].map((run) => run.done),
        ];
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled(pending),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS);
            timer.unref();
          }),
        ]);
        clearTimeout(timer);
        for (const set of listeners.values()) set.clear();
        await cachedProvider?.dispose();
        runStore?.close();
        await engine.close();
      })();
      return closing;
    },
  };
}

/** True when `spec` can be used: a GGUF that exists, or a server / replay spec (checked when a run starts). */
function isModelAvailable(spec: string, modelsDir: string): boolean {
  try {
    const parsed = parseModelSpec(spec);
    if (parsed.kind === 'llama') resolveGgufPath(parsed.path, { modelsDir });
    return true;
  } catch {
    return false;
  }
}

function toIngestProgress(event: IngestProgressEvent): EventPayload<'onDidChangeIngestProgress'>['progress'] {
  return {
    phase: event.phase,
    filesDone: event.filesDone,
    filesTotal: event.filesTotal,
    bytesDone: event.bytesDone,
    bytesTotal: event.bytesTotal,
    chunksWritten: event.chunksWritten,
    chunksEmbedded: event.chunksEmbedded,
    chunksToEmbed: event.chunksToEmbed,
    failed: event.failed,
    etaSeconds: event.etaSeconds ?? null,
    currentFile: event.currentFile ?? null,
  };
}

function toIngestSummary(
  result: EngineIngestResult,
): NonNullable<EventPayload<'onDidChangeIngestProgress'>['result']> {
  return {
    added: result.added,
    updated: result.updated,
    unchanged: result.unchanged,
    removed: result.removed,
    failed: result.failed.map((failure) => ({
      path: failure.path,
      code: failure.code,
      message: failure.message,
    })),
    missing: result.missing,
    skipped: result.skipped.map(({ path: skippedPath, code, reason }) => ({
      path: skippedPath,
      code,
      reason,
    })),
    skippedUnsupported: result.skippedUnsupported,
    chunksWritten: result.chunksWritten,
    chunksEmbedded: result.chunksEmbedded,
    embeddingSkipped: result.embeddingSkipped ?? null,
    cancelled: result.cancelled,
    durationMs: result.durationMs,
  };
}

function toRunSummary(run: RunSummary): CommandOutput<'getRun'>['run'] {
  return {
    id: run.id,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    question: run.question,
    corpus: run.corpus,
    strategy: run.strategy,
    model: run.model,
    status: run.status,
    answer: run.answer,
    error: run.error,
    metrics: run.metrics,
    ...recordedRunSettings(run),
  };
}

/** The strategy options, k and search mode a run recorded with its request (startRun keeps it whole). */
function recordedRunSettings(
  run: RunSummary,
): Pick<CommandOutput<'getRun'>['run'], 'strategyOptions' | 'k' | 'mode'> {
  const recorded =
    typeof run.options === 'object' && run.options !== null ? (run.options as Record<string, unknown>) : {};
  const options = strategyOptionValuesSchema.safeParse(recorded.options);
  const k = recorded.topK;
  const mode = searchModeSchema.safeParse(recorded.searchMode);
  return {
    strategyOptions: options.success ? options.data : null,
    k: typeof k === 'number' && Number.isInteger(k) ? k : null,
    mode: mode.success ? mode.data : null,
  };
}

/** The {name, code, message} an error crosses the boundary as (a job's or a download's error). */
export function toErrorPayload(error: unknown): ErrorPayload {
  const reckonError = error instanceof CancelledError ? error : toReckonError(error);
  return { name: reckonError.name, code: reckonError.code, message: reckonError.message };
}

function runNotFound(runId: string): ReckonError {
  return new ReckonError(
    'RUN_NOT_FOUND',
    `There is no run with id ${runId}. It may have been deleted; the Runs view lists the saved ones.`,
  );
}
