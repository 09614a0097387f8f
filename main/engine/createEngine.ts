/**
 * Wires the engine from its parts. Heavy parts (embedding model loader, file parser) are handed in,
 * with the real implementations as defaults, so adapters (CLI, Electron, browser host) and tests
 * share one engine and tests can substitute small fakes.
 */
import path from 'node:path';
import { Library, type Corpus, type CorpusSummary } from './corpus/Library.ts';
import { checkIngestPaths } from './corpus/checkIngestPaths.ts';
import { OpenCorpora } from './corpus/OpenCorpora.ts';
import { MemoryLibrary } from './corpus/memory/SolvedExampleMemory.ts';
import { ingestPaths, type FileParser, type IngestOptions, type IngestResult } from './corpus/ingestPaths.ts';
import {
  searchCorpus,
  type SearchOptions,
  type SearchResult,
  type SearchSource,
} from './corpus/search/searchCorpus.ts';
import type { ParseLimits } from './corpus/loaders/ParsedFile.ts';
import type { Embedder } from './models/Embedder.ts';
import type { Reranker } from './models/Reranker.ts';
import type { LlmProvider } from './models/LlmBackend.ts';
import { SandboxHost, type SandboxRunOptions } from './sandbox/SandboxHost.ts';
import type { SandboxRunResult } from './sandbox/SandboxTypes.ts';
import { ProgramPreparer } from './programs/ProgramPreparer.ts';
import type { PrepareProgramOptions, PrepareProgramResult } from './programs/prepareProgram.ts';
import { EMBEDDERS_SUBDIR } from './models/TransformersEmbedder.ts';
import { RERANKERS_SUBDIR } from './models/TransformersReranker.ts';
import { ModelNotFoundError, toReckonError } from './errors.ts';

/** The embedder picked when a corpus has none yet and several are installed. */
export const PREFERRED_EMBEDDER_ID = 'all-MiniLM-L6-v2';
/** The cross-encoder picked when several are installed (the catalog's). */
export const PREFERRED_RERANKER_ID = 'ms-marco-MiniLM-L-6-v2';

export interface EngineOptions {
  dataDir: string;
  modelsDir: string;
  /** Loads an embedding model folder. Default: transformers.js (loaded lazily). */
  loadEmbedder?: (modelDir: string) => Promise<Embedder>;
  /** Lists embedder folders under the models dir. Default: findLocalEmbedders. */
  findEmbedders?: (modelsDir: string) => Promise<string[]>;
  /** Loads a cross-encoder folder. Default: transformers.js (loaded lazily). */
  loadReranker?: (modelDir: string) => Promise<Reranker>;
  /** Lists cross-encoder folders under the models dir. Default: findLocalRerankers. */
  findRerankers?: (modelsDir: string) => Promise<string[]>;
  /**
   * Hands out model backends to runs (startRun uses it unless a run is given its own). Default: none;
   * the CLI and the app service pass theirs (thread settings, models kept loaded between runs).
   */
  llmProvider?: LlmProvider;
  /**
   * Runs model-written programs. Default: a SandboxHost of the engine's own (one warm QuickJS worker),
   * closed with the engine; a host handed in is left open.
   */
  sandbox?: SandboxHost;
  /** Creates the parser used by ingestion. Default: a worker-thread ParsePool. */
  createParser?: (options: {
    limits?: Partial<ParseLimits>;
    size: number;
  }) => Promise<FileParser & { close(): Promise<void> }>;
}

/** `auto` (default): the corpus's own embedder, else an installed one; `none`: BM25 only; else a folder. */
export type EmbedderChoice = 'auto' | 'none' | { dir: string };

export interface EngineIngestOptions extends Pick<IngestOptions, 'signal' | 'onProgress' | 'chunking'> {
  embedder?: EmbedderChoice;
  limits?: Partial<ParseLimits>;
  /** Files parsed at once. Default: 1 (parsing is CPU-bound and the machine may have 2 cores). */
  concurrency?: number;
}

export interface EngineIngestResult extends IngestResult {
  corpus: string;
  embedderId: string | null;
}

export interface Engine {
  readonly library: Library;
  /** Memories of solved examples (ICRAG's R2), beside the corpora in the data directory. */
  readonly memories: MemoryLibrary;
  listCorpora(): CorpusSummary[];
  removeCorpus(name: string): void;
  ingest(
    corpusName: string,
    paths: readonly string[],
    options?: EngineIngestOptions,
  ): Promise<EngineIngestResult>;
  search(
    corpusName: string,
    query: string,
    options?: SearchOptions & { embedder?: EmbedderChoice },
  ): Promise<SearchResult>;
  /** The model provider runs use unless given their own (EngineOptions.llmProvider). */
  readonly llmProvider: LlmProvider | undefined;
  /** Runs a program in the engine's sandbox (see SandboxHost.run). */
  runProgram(options: SandboxRunOptions): Promise<SandboxRunResult>;
  /**
   * prepareProgram in the engine's preparation worker, under its deadline (ProgramPreparer), so a
   * program is never parsed on the engine's own thread.
   */
  prepareProgram(code: string, options?: PrepareProgramOptions): Promise<PrepareProgramResult>;
  /**
   * The embedding model `choice` names, as ingest picks it: a folder; `auto` = the installed one with
   * id `boundModelId` when given (what existing vectors were made with), else the preferred installed
   * one; `none` = no embeddings. `owner` names what the vectors belong to in messages (default
   * corpus). Resolves to why there is none; a folder that was named and cannot
   * load throws, an automatic one that cannot load resolves to the reason.
   */
  openEmbedder(
    choice: EmbedderChoice,
    options?: { boundModelId?: string; owner?: 'corpus' | 'memory' },
  ): Promise<{ embedder: Embedder } | { unavailable: string }>;
  /**
   * The installed cross-encoder reranker (PREFERRED_RERANKER_ID when several are installed, else
   * the first by name), loaded on first use and kept until close; or why there is none: no folder
   * in models/rerankers/, or one that failed to load (the next call tries again).
   */
  reranker(): Promise<Reranker | { unavailable: string }>;
  /**
   * Keeps a corpus open for many searches (a run's retrieve() calls); read-only, takes no lock. The
   * corpus itself stays open between retrievers while it is unchanged on disk (OpenCorpora).
   */
  openRetriever(corpusName: string, options?: { embedder?: EmbedderChoice }): Retriever;
  close(): Promise<void>;
}

/** An open search session over one corpus. */
export interface Retriever {
  readonly corpus: string;
  search(query: string, options?: SearchOptions): Promise<SearchResult>;
  /**
   * Embeds texts with the corpus's embedding model (the one dense search uses), or resolves to null
   * when there is none (no embeddings in the corpus, no model installed, embeddings turned off).
   * Optional: retrievers without it behave as if it resolved to null.
   */
  embed?(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[] | null>;
  /**
   * Why dense search cannot run on this corpus (no embeddings, no model installed, a model that
   * does not match), or null when it can. Optional: retrievers without it are taken to have it.
   */
  denseUnavailable?(): Promise<string | null>;
  close(): void;
}

export function createEngine(options: EngineOptions): Engine {
  const library = new Library(options.dataDir);
  // A run opens a retriever per question: the corpus stays open between them while unchanged.
  const openCorpora = new OpenCorpora(library);
  // Created on first use: the worker starts with the first program, not with the engine.
  let ownSandbox: SandboxHost | undefined;
  const sandbox = (): SandboxHost => options.sandbox ?? (ownSandbox ??= new SandboxHost());
  let preparer: ProgramPreparer | undefined;
  const embedders = new Map<string, Promise<Embedder>>();
  const loadEmbedder =
    options.loadEmbedder ??
    (async (modelDir: string) =>
      (await import('./models/TransformersEmbedder.ts')).loadTransformersEmbedder({ modelDir }));
  const findEmbedders =
    options.findEmbedders ??
    (async (modelsDir: string) =>
      (await import('./models/TransformersEmbedder.ts')).findLocalEmbedders(modelsDir));
  const loadReranker =
    options.loadReranker ??
    (async (modelDir: string) =>
      (await import('./models/TransformersReranker.ts')).loadTransformersReranker({ modelDir }));
  const findRerankers =
    options.findRerankers ??
    (async (modelsDir: string) =>
      (await import('./models/TransformersReranker.ts')).findLocalRerankers(modelsDir));
  let rerankerLoading: Promise<Reranker> | undefined;
  const createParser =
    options.createParser ??
    (async (parserOptions) => {
      const { ParsePool } = await import('./corpus/loaders/ParsePool.ts');
      return new ParsePool(parserOptions);
    });

  const embedderAt = (dir: string): Promise<Embedder> => {
    const key = path.resolve(dir);
    let loading = embedders.get(key);
    if (!loading) {
      loading = loadEmbedder(key);
      embedders.set(key, loading);
      loading.catch(() => embedders.delete(key));
    }
    return loading;
  };

  /** Picks the embedder folder for a corpus, or explains why there is none. */
  const resolveEmbedder = async (
    choice: EmbedderChoice,
    boundModelId: string | undefined,
    owner: 'corpus' | 'memory' = 'corpus',
  ): Promise<{ dir: string } | { unavailable: string }> => {
    if (choice === 'none') return { unavailable: 'embeddings turned off (--embedder none)' };
    if (typeof choice === 'object') return { dir: choice.dir };
    const installed = await findEmbedders(options.modelsDir);
    if (boundModelId) {
      const match = installed.find((dir) => path.basename(dir) === boundModelId);
      return match
        ? { dir: match }
        : {
            unavailable: `this ${owner} was embedded with ${boundModelId}, which is not in ${path.join(options.modelsDir, EMBEDDERS_SUBDIR)}`,
          };
    }
    const preferred = installed.find((dir) => path.basename(dir) === PREFERRED_EMBEDDER_ID) ?? installed[0];
    return preferred
      ? { dir: preferred }
      : {
          unavailable: `no embedding model in ${path.join(options.modelsDir, EMBEDDERS_SUBDIR)} (run "reckon models pull ${PREFERRED_EMBEDDER_ID}" or put one there by hand)`,
        };
  };

  /**
   * A search session over one open corpus; the dense side is resolved once, on first use.
   * `release` is called once, by close().
   */
  const openRetrieverFor = (
    corpus: Corpus,
    embedderChoice: EmbedderChoice,
    release: () => void,
  ): Retriever => {
    let dense: Promise<Awaited<ReturnType<SearchSource['dense']>>> | undefined;
    let reportedWarnings = false;
    const resolveDense = async (): Promise<Awaited<ReturnType<SearchSource['dense']>>> => {
      const binding = corpus.store.embedderBinding();
      if (!binding) {
        return {
          unavailable: 'this corpus has no embeddings; ingest it again with an embedding model installed',
        };
      }
      const choice = await resolveEmbedder(embedderChoice, binding.modelId);
      if ('unavailable' in choice) return choice;
      const embedder = await embedderAt(choice.dir);
      if (embedder.modelId !== binding.modelId || embedder.dimension !== binding.dimension) {
        throw new ModelNotFoundError(
          `The corpus was embedded with ${binding.modelId} (${binding.dimension}-d) but ${choice.dir} is ${embedder.modelId} (${embedder.dimension}-d).`,
        );
      }
      const index = corpus.vectorIndex();
      if (!index) return { unavailable: 'the corpus has no vectors' };
      const warnings: string[] = [];
      if (index.status.kind === 'rebuilt') {
        warnings.push(
          `The vector index was rebuilt from the store because ${index.status.reason}${index.status.saved ? '' : ' (not saved: another process is writing this corpus)'}.`,
        );
      }
      const missing = corpus.store.countChunksWithoutVectors();
      if (missing > 0)
        warnings.push(`${missing} chunks have no vectors yet; run "reckon ingest" again to embed them.`);
      return { index, embedder, warnings };
    };
    return {
      corpus: corpus.name,
      async search(query, searchOptions = {}) {
        return searchCorpus(
          {
            store: corpus.store,
            dense: async () => {
              dense ??= resolveDense();
              const resolved = await dense;
              // Warnings about the index describe the session, not each query: report them once.
              if ('warnings' in resolved && reportedWarnings) return { ...resolved, warnings: [] };
              reportedWarnings = true;
              return resolved;
            },
          },
          query,
          searchOptions,
        );
      },
      async embed(texts, embedOptions = {}) {
        dense ??= resolveDense();
        let resolved: Awaited<ReturnType<SearchSource['dense']>>;
        try {
          resolved = await dense;
        } catch {
          // Like search: an embedder that cannot be used means no dense side, not a failed run.
          return null;
        }
        if ('unavailable' in resolved) return null;
        return resolved.embedder.embed(texts, embedOptions);
      },
      async denseUnavailable() {
        dense ??= resolveDense();
        try {
          const resolved = await dense;
          return 'unavailable' in resolved ? resolved.unavailable : null;
        } catch (error) {
          return toReckonError(error).message;
        }
      },
      close: release,
    };
  };

  const openEmbedder: Engine['openEmbedder'] = async (choice, embedderOptions = {}) => {
    const resolved = await resolveEmbedder(choice, embedderOptions.boundModelId, embedderOptions.owner);
    if ('unavailable' in resolved) return resolved;
    try {
      return { embedder: await embedderAt(resolved.dir) };
    } catch (error) {
      // An explicitly chosen embedder that cannot load is an error; an automatic one is a reason.
      if (typeof choice === 'object') throw error;
      return { unavailable: toReckonError(error).message };
    }
  };

  return {
    library,
    memories: new MemoryLibrary(options.dataDir, {
      embedders: async (modelId) => {
        const resolved = await openEmbedder('auto', { boundModelId: modelId, owner: 'memory' });
        return 'embedder' in resolved ? resolved.embedder : resolved;
      },
    }),
    openEmbedder,
    listCorpora: () => library.list(),
    removeCorpus: (name) => {
      openCorpora.drop(name);
      library.remove(name);
    },

    async ingest(corpusName, paths, ingestOptions = {}) {
      checkIngestPaths(library, corpusName, paths);
      const corpus = library.open(corpusName, { write: true });
      let parser: (FileParser & { close(): Promise<void> }) | undefined;
      try {
        const choice = await resolveEmbedder(
          ingestOptions.embedder ?? 'auto',
          corpus.store.embedderBinding()?.modelId,
        );
        let embedder: Embedder | undefined;
        let embedderUnavailableReason: string | undefined;
        if ('dir' in choice) {
          try {
            embedder = await embedderAt(choice.dir);
          } catch (error) {
            // An explicitly chosen embedder that cannot load is an error; an automatic one is a warning.
            if (ingestOptions.embedder && typeof ingestOptions.embedder === 'object') throw error;
            embedderUnavailableReason = toReckonError(error).message;
          }
        } else {
          embedderUnavailableReason = choice.unavailable;
        }
        const concurrency = Math.max(1, ingestOptions.concurrency ?? 1);
        const activeParser = await createParser({
          ...(ingestOptions.limits ? { limits: ingestOptions.limits } : {}),
          size: concurrency,
        });
        parser = activeParser;
        const result = await ingestPaths(corpus, paths, {
          parser: activeParser,
          concurrency,
          ...(embedder ? { embedder } : {}),
          ...(embedderUnavailableReason ? { embedderUnavailableReason } : {}),
          ...(ingestOptions.signal ? { signal: ingestOptions.signal } : {}),
          ...(ingestOptions.onProgress ? { onProgress: ingestOptions.onProgress } : {}),
          ...(ingestOptions.chunking ? { chunking: ingestOptions.chunking } : {}),
        });
        return { ...result, corpus: corpusName, embedderId: corpus.store.embedderBinding()?.modelId ?? null };
      } finally {
        await parser?.close();
        corpus.close();
        // Sessions opened before this ingest keep what they have; the next one opens the new state.
        openCorpora.drop(corpusName);
      }
    },

    async search(corpusName, query, searchOptions = {}) {
      const corpus = library.openForReading(corpusName);
      const retriever = openRetrieverFor(corpus, searchOptions.embedder ?? 'auto', () => corpus.close());
      try {
        return await retriever.search(query, searchOptions);
      } finally {
        retriever.close();
      }
    },

    llmProvider: options.llmProvider,

    async reranker() {
      if (!rerankerLoading) {
        const installed = await findRerankers(options.modelsDir);
        const dir =
          installed.find((candidate) => path.basename(candidate) === PREFERRED_RERANKER_ID) ?? installed[0];
        if (dir === undefined) {
          return {
            unavailable: `no cross-encoder in ${path.join(options.modelsDir, RERANKERS_SUBDIR)} (run "reckon models pull ${PREFERRED_RERANKER_ID}" or put one there by hand)`,
          };
        }
        rerankerLoading ??= loadReranker(dir);
      }
      const loading = rerankerLoading;
      try {
        return await loading;
      } catch (error) {
        if (rerankerLoading === loading) rerankerLoading = undefined;
        return { unavailable: toReckonError(error).message };
      }
    },

    runProgram: (runOptions) => sandbox().run(runOptions),

    prepareProgram: (code, prepareOptions) =>
      (preparer ??= new ProgramPreparer()).prepare(code, prepareOptions),

    openRetriever(corpusName, retrieverOptions = {}) {
      const lease = openCorpora.acquire(corpusName);
      return openRetrieverFor(lease.corpus, retrieverOptions.embedder ?? 'auto', lease.release);
    },

    async close() {
      openCorpora.dropAll();
      const loaded = [...embedders.values()];
      embedders.clear();
      await ownSandbox?.close();
      ownSandbox = undefined;
      await preparer?.close();
      preparer = undefined;
      await Promise.all(loaded.map(async (p) => (await p.catch(() => undefined))?.dispose()));
      const reranker = rerankerLoading;
      rerankerLoading = undefined;
      await (await reranker?.catch(() => undefined))?.dispose();
    },
  };
}
