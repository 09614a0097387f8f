/**
 * What the app service's handler groups share: the engine, the settings and run stores, the model
 * provider, the event emitter and the background jobs. createAppService builds one ServiceContext
 * and hands it to each group (corpora, models, runs), so each area lives in its own module.
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type {
  CommandName,
  CommandOutput,
  Commands,
  EventName,
  EventPayload,
} from '../../../preload/contract.ts';
import type { Engine, EngineOptions } from '../createEngine.ts';
import { toReckonError } from '../errors.ts';
import type { LlmProvider } from '../models/LlmBackend.ts';
import type { RunStore } from '../runs/RunStore.ts';
import type { RunHandle } from '../runs/startRun.ts';
import type { SettingsStore } from './SettingsStore.ts';

/** Finished job ids remembered so that a late cancelJob for them is not an error. */
const FINISHED_JOBS_REMEMBERED = 1_000;

/** A command's input after the contract's schema parsed it (defaults applied). */
export type ServiceInput<N extends CommandName> = z.output<Commands[N]['input']>;

/** Receives one event's payload. */
export type ServiceListener<E extends EventName> = (payload: EventPayload<E>) => void;

/** One handler per command of the contract. */
export type Handlers = {
  [N in CommandName]: (input: ServiceInput<N>) => Promise<CommandOutput<N>> | CommandOutput<N>;
};

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
  /** fetch used by model downloads and model server checks. Default: the global fetch. */
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

export interface Job {
  id: string;
  kind: 'ingest' | 'download' | 'evaluation';
  /** The corpus, model or evaluation the job works on. */
  target: string;
  controller: AbortController;
  done: Promise<void>;
}

/**
 * The service's background jobs (ingestion, downloads): started on the next turn so the caller has
 * the id first, tracked while they run, and remembered for a while after (a late cancelJob).
 */
export class ServiceJobs {
  readonly #running = new Map<string, Job>();
  /** Finished jobs by id: what they worked on, for a late cancelJob with `discard`. */
  readonly #finished = new Map<string, Pick<Job, 'kind' | 'target'>>();
  readonly #warn: (message: string) => void;

  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  /** Starts `work` on the next turn (so the caller has the id first) and tracks it as a job. */
  start(kind: Job['kind'], target: string, work: (job: Job) => Promise<void>): string {
    const id = `${kind}-${randomUUID()}`;
    const controller = new AbortController();
    const job: Job = { id, kind, target, controller, done: Promise.resolve() };
    job.done = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => work(job))
      .catch((error: unknown) => this.#warn(`Job ${id} failed unexpectedly: ${toReckonError(error).message}`))
      .finally(() => this.#remember(job));
    this.#running.set(id, job);
    return id;
  }

  /** The running job with this id. */
  get(id: string): Job | undefined {
    return this.#running.get(id);
  }

  /** What a finished job worked on. */
  finished(id: string): Pick<Job, 'kind' | 'target'> | undefined {
    return this.#finished.get(id);
  }

  /** The job of `kind` running for `target`, if any. */
  runningFor(kind: Job['kind'], target: string): Job | undefined {
    for (const job of this.#running.values()) if (job.kind === kind && job.target === target) return job;
    return undefined;
  }

  /** Aborts every running job; resolves the list of their completions. */
  abortAll(): Promise<void>[] {
    for (const job of this.#running.values()) job.controller.abort();
    return [...this.#running.values()].map((job) => job.done);
  }

  #remember(job: Job): void {
    this.#running.delete(job.id);
    this.#finished.set(job.id, { kind: job.kind, target: job.target });
    if (this.#finished.size > FINISHED_JOBS_REMEMBERED) {
      const oldest = this.#finished.keys().next().value;
      if (oldest !== undefined) this.#finished.delete(oldest);
    }
  }
}

/** Everything the handler groups share. */
export interface ServiceContext {
  options: AppServiceOptions;
  now: () => number;
  warn: (message: string) => void;
  /** Throttle for progress events, ms. */
  progressIntervalMs: number;
  engine: Engine;
  settings: SettingsStore;
  /** The run history, opened on first use. */
  runs(): RunStore;
  llmProvider: LlmProvider;
  emit<E extends EventName>(event: E, payload: EventPayload<E>): void;
  jobs: ServiceJobs;
  /** Runs in progress, for cancelRun and close(). */
  activeRuns: Map<string, { handle: RunHandle; done: Promise<unknown> }>;
}
