/**
 * The app's model provider for runs. Loading a GGUF takes seconds and a lot of memory, so the app
 * keeps one loaded llama.cpp backend and hands it to every run that asks for the same file with the
 * same llama.cpp settings (runs share it: the backend has several sequences and queues calls beyond
 * them). Replay and OpenAI-compatible backends are cheap and stateful (a replay file is consumed
 * line by line), so each run gets its own, disposed when the run ends.
 */
import type { LlmSettings } from './SettingsStore.ts';
import { CancelledError } from '../errors.ts';
import type { LlmBackend } from '../models/LlmBackend.ts';
import {
  createLlmBackend,
  parseModelSpec,
  resolveGgufPath,
  type CreateLlmBackendOptions,
} from '../models/createLlmBackend.ts';
import type { LlmProvider } from '../models/LlmBackend.ts';
import { untilAborted } from '../util/untilAborted.ts';

/** Options of createCachedLlmProvider; modelsDir and llmSettings are required. */
export interface CachedLlmProviderOptions {
  /** Folder searched for bare GGUF file names (see resolveGgufPath). */
  modelsDir: string;
  /** The llama.cpp settings to load with, read at every request (they are part of the cache key). */
  llmSettings: () => LlmSettings;
  /** Bearer token for openai: specs. Default: none. */
  apiKey?: string;
  /** Creates a backend from a spec. Default: createLlmBackend. */
  createBackend?: (spec: string, options: CreateLlmBackendOptions) => Promise<LlmBackend>;
}

/** A provider for startRun plus the means to free what it keeps loaded. */
export interface CachedLlmProvider {
  provider: LlmProvider;
  /** The key of the GGUF backend kept loaded (or loading), if any; for tests and diagnostics. */
  cachedKey(): string | undefined;
  /** Aborts a load in progress and disposes the kept backend once no run uses it. */
  dispose(): Promise<void>;
}

interface CacheEntry {
  key: string;
  controller: AbortController;
  loading: Promise<LlmBackend>;
  users: number;
  /** Replaced by another key or disposed: freed as soon as its last user releases it. */
  retired: boolean;
  freed: boolean;
}

/**
 * Creates the provider. For a GGUF spec (`*.gguf` or `llama:<path>`) the backend is cached under
 * the key (resolved file path, threads, contextSize, gpuLayers): a request with the same key shares
 * the loaded backend (its `dispose` is a no-op for the run; `release` only drops the run's claim);
 * a request with another key retires the old backend, which is disposed when its last run releases
 * it, so at most one model stays loaded between runs. A run cancelled while the model loads stops
 * waiting at once; the load itself is aborted only when no other run waits for it. A failed load is
 * not cached. Every other spec gets a fresh backend per request, disposed on release.
 */
export function createCachedLlmProvider(options: CachedLlmProviderOptions): CachedLlmProvider {
  const create = options.createBackend ?? createLlmBackend;
  let cached: CacheEntry | undefined;
  let disposed = false;

  const backendOptions = (signal: AbortSignal): CreateLlmBackendOptions => {
    const llm = options.llmSettings();
    return {
      modelsDir: options.modelsDir,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(llm.threads !== null ? { threads: llm.threads } : {}),
      contextSize: llm.contextSize,
      gpuLayers: llm.gpuLayers,
      signal,
    };
  };

  const free = async (entry: CacheEntry): Promise<void> => {
    if (entry.freed) return;
    entry.freed = true;
    entry.controller.abort();
    const backend = await entry.loading.catch(() => undefined);
    await backend?.dispose();
  };

  const retire = (entry: CacheEntry): void => {
    entry.retired = true;
    if (cached === entry) cached = undefined;
    if (entry.users === 0) void free(entry);
  };

  const provider: LlmProvider = async (spec, signal) => {
    if (disposed) throw new CancelledError('The app is closing; the model was not loaded.');
    const parsed = parseModelSpec(spec);
    if (parsed.kind !== 'llama') {
      const backend = await create(spec, backendOptions(signal));
      return { backend, release: () => backend.dispose() };
    }
    const llm = options.llmSettings();
    const file = resolveGgufPath(parsed.path, { modelsDir: options.modelsDir });
    const key = JSON.stringify({
      file,
      threads: llm.threads,
      contextSize: llm.contextSize,
      gpuLayers: llm.gpuLayers,
    });
    if (cached !== undefined && cached.key !== key) retire(cached);
    if (cached === undefined) {
      const controller = new AbortController();
      const entry: CacheEntry = {
        key,
        controller,
        loading: create(`llama:${file}`, backendOptions(controller.signal)),
        users: 0,
        retired: false,
        freed: false,
      };
      // A failed load is forgotten so that the next run tries again.
      entry.loading.catch(() => {
        if (cached === entry) cached = undefined;
        entry.freed = true;
      });
      cached = entry;
    }
    const entry = cached;
    entry.users++;
    let backend: LlmBackend;
    try {
      backend = await untilAborted(entry.loading, signal);
    } catch (error) {
      entry.users--;
      // Nobody else waits for a load this run gave up on: stop it.
      if (entry.users === 0 && signal.aborted) retire(entry);
      throw error;
    }
    let released = false;
    return {
      backend: {
        id: backend.id,
        parallelism: backend.parallelism,
        supportsGrammar: backend.supportsGrammar,
        supportsTokenProbabilities: backend.supportsTokenProbabilities,
        generate: (o) => backend.generate(o),
        dispose: async () => {},
      },
      release: async () => {
        if (released) return;
        released = true;
        entry.users--;
        if (entry.retired && entry.users === 0) await free(entry);
      },
    };
  };

  return {
    provider,
    cachedKey: () => cached?.key,
    async dispose() {
      disposed = true;
      const entry = cached;
      if (entry === undefined) return;
      entry.retired = true;
      cached = undefined;
      // Abort a load in progress now; a loaded backend in use is freed by its last release.
      if (entry.users === 0) await free(entry);
      else entry.controller.abort();
    },
  };
}
