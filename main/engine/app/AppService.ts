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
import fs from 'node:fs';
import path from 'node:path';
import packageJson from '../../../package.json' with { type: 'json' };
import {
  EVENT_NAMES,
  type CommandName,
  type CommandOutput,
  type EventName,
} from '../../../preload/contract.ts';
import { APP_ROOT } from '../config.ts';
import { createEngine, type Engine } from '../createEngine.ts';
import { ReckonError, toReckonError } from '../errors.ts';
import type { LlmProvider } from '../models/LlmBackend.ts';
import { RunStore } from '../runs/RunStore.ts';
import { createCachedLlmProvider, type CachedLlmProvider } from './createCachedLlmProvider.ts';
import { createCorpusHandlers } from './corpusHandlers.ts';
import { createEvalHandlers } from './evalHandlers.ts';
import { createModelHandlers, isModelAvailable } from './modelHandlers.ts';
import { createRunHandlers } from './runHandlers.ts';
import {
  ServiceJobs,
  type AppServiceOptions,
  type Handlers,
  type ServiceContext,
  type ServiceInput,
  type ServiceListener,
} from './ServiceContext.ts';
import { SettingsStore } from './SettingsStore.ts';

export type { AppServiceOptions, ServiceInput, ServiceListener } from './ServiceContext.ts';
export { DEFAULT_CHUNK_CONTEXT } from './corpusHandlers.ts';
export { REPLAYS_DIR } from './runHandlers.ts';
export { toErrorPayload } from './toErrorPayload.ts';

/** The sample corpus shipped with the app, offered by the Library's "Add sample corpus". */
export const SAMPLE_CORPUS_DIR = path.join(APP_ROOT, 'corpora', 'hotpotqa-sample');
/** Minimum time between two progress events of one job (phase changes and the last one always go out). */
export const DEFAULT_PROGRESS_EVENT_INTERVAL_MS = 100;
/** close() waits this long for cancelled jobs and runs to stop before closing the stores anyway. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 10_000;

/** The service both UI adapters drive. */
export interface AppService {
  /** Runs one command. The input must already match the contract (dispatchCommand parses it). */
  handle<N extends CommandName>(name: N, input: ServiceInput<N>): Promise<CommandOutput<N>>;
  /** Listens to one event; returns the function that stops listening. */
  on<E extends EventName>(event: E, listener: ServiceListener<E>): () => void;
  /** Cancels every job and run, waits for them (bounded), frees the model and closes the stores. */
  close(): Promise<void>;
}

/**
 * Creates the service over a new engine in `dataDir`/`modelsDir`. The run history (runs.db) is
 * opened on first use, settings.json at once (a damaged file gives defaults and a warning). Runs use
 * the active model unless a command names one, with the sandbox and retry settings applied; GGUF
 * models stay loaded between runs (see createCachedLlmProvider). Defaults: see AppServiceOptions.
 * The commands live by area: corpusHandlers, modelHandlers, runHandlers; settings, app info and
 * job cancellation are here.
 */
export function createAppService(options: AppServiceOptions): AppService {
  const now = options.now ?? Date.now;
  const warn = options.onWarning ?? ((message: string) => console.warn(message));
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
  const engine: Engine = createEngine({
    ...options.engineOptions,
    dataDir: options.dataDir,
    modelsDir: options.modelsDir,
    llmProvider,
  });
  let runStore: RunStore | undefined;
  const listeners = new Map<EventName, Set<(payload: never) => void>>(
    EVENT_NAMES.map((name) => [name, new Set()]),
  );
  let closing: Promise<void> | undefined;

  const ctx: ServiceContext = {
    options,
    now,
    warn,
    progressIntervalMs: options.progressIntervalMs ?? DEFAULT_PROGRESS_EVENT_INTERVAL_MS,
    engine,
    settings,
    runs: () => (runStore ??= RunStore.open(options.dataDir)),
    llmProvider,
    emit(event, payload) {
      for (const listener of [...(listeners.get(event) ?? [])]) {
        try {
          (listener as ServiceListener<typeof event>)(payload);
        } catch (error) {
          warn(`A listener of ${event} failed: ${toReckonError(error).message}`);
        }
      }
    },
    jobs: new ServiceJobs(warn),
    activeRuns: new Map(),
  };
  const { jobs, activeRuns } = ctx;
  const models = createModelHandlers(ctx);
  const { discardPartial: _discardPartial, ...modelHandlers } = models;

  const handlers: Handlers = {
    ...createCorpusHandlers(ctx),
    ...modelHandlers,
    ...createRunHandlers(ctx),
    ...createEvalHandlers(ctx),

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

    getSettings: () => settings.get(),

    updateSettings: (patch) => settings.update(patch),

    async cancelJob({ jobId, discard }) {
      const job = jobs.get(jobId);
      const target = job ?? jobs.finished(jobId);
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
      if (discard && target.kind === 'download') await models.discardPartial(target.target);
      return { ok: true as const };
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
        const pending: Promise<unknown>[] = [...jobs.abortAll()];
        for (const { handle, done } of activeRuns.values()) {
          handle.cancel();
          pending.push(done);
        }
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
