/**
 * ICRAG's R2 for an evaluation, built k-fold as the paper does: a method that searches a memory of
 * solved examples (it declares the `memory` and `memoryExclude` options) and was given no memory
 * gets one built from the evaluated items themselves — every item's task and gold answer, item i in
 * fold i mod k — and runs with `memoryExclude: own-fold`, so no question retrieves an example of its
 * own fold. One memory per (dataset sample, model, k), named from their hashes, so a re-run of the
 * evaluation continues the same memory and never rebuilds what it has.
 */
import { createHash } from 'node:crypto';
import type { EmbedderChoice, Engine } from '../../createEngine.ts';
import { embedSolvedExamples } from '../../corpus/memory/embedSolvedExamples.ts';
import { DEFAULT_MEMORY_FOLDS } from '../../corpus/memory/SolvedExampleMemory.ts';
import { ReckonError } from '../../errors.ts';
import type { LlmBackend } from '../../models/LlmBackend.ts';
import {
  buildSolvedExampleMemory,
  type BuildMemoryProgress,
  type SolvedPair,
} from '../../strategies/icrag/buildSolvedExampleMemory.ts';
import { openMemoryEmbedder } from '../../strategies/icrag/openMemoryEmbedder.ts';
import type { StrategyRegistry } from '../../strategies/registry.ts';

/** The option naming a method's memory of solved examples (R2); empty means none. */
export const EVAL_MEMORY_OPTION = 'memory';
/** The option saying what a task in the memory may not retrieve; an evaluation's memory needs own-fold. */
export const EVAL_MEMORY_EXCLUDE_OPTION = 'memoryExclude';

/** Whether a registry method searches a memory of solved examples (declares `memory` and `memoryExclude`). */
export function usesSolvedExampleMemory(strategies: StrategyRegistry, method: string): boolean {
  const keys = strategies
    .list()
    .find((strategy) => strategy.id === method)
    ?.options.map((option) => option.key);
  return (keys?.includes(EVAL_MEMORY_OPTION) && keys.includes(EVAL_MEMORY_EXCLUDE_OPTION)) ?? false;
}

/**
 * The memory name of an evaluation's R2: `eval-<sample hash>-<model hash>-k<k>`, the sample hash
 * covering the dataset file's hash and the evaluated item ids in order (their positions are their
 * folds), so the same command always names the same memory.
 */
export function evalMemoryName(options: {
  datasetHash: string;
  itemIds: readonly string[];
  model: string;
  folds: number;
}): string {
  const sample = createHash('sha256')
    .update(JSON.stringify([options.datasetHash, options.itemIds]))
    .digest('hex');
  const model = createHash('sha256').update(options.model).digest('hex');
  return `eval-${sample.slice(0, 12)}-${model.slice(0, 8)}-k${options.folds}`;
}

/** One R2 build of an evaluation, as the report states it. */
export interface EvalMemoryBuild {
  /** The memory (reckon memory list shows it). */
  memory: string;
  dataset: string;
  model: string;
  /** k of k-fold. */
  folds: number;
  /** Pairs it is built from (the evaluated items that have a gold answer). */
  pairs: number;
  /** Examples in the memory after this build. */
  examples: number;
  built: number;
  skipped: number;
  failed: number;
  cancelled: boolean;
  /** Embedder of the examples' task vectors; null: BM25 only (embeddingSkipped says why). */
  embedder: string | null;
  embeddingSkipped: string | null;
}

/** What buildEvalMemory reports while it works. */
export interface EvalMemoryProgress extends BuildMemoryProgress {
  memory: string;
  dataset: string;
  model: string;
  folds: number;
}

export interface BuildEvalMemoryOptions {
  engine: Engine;
  /** The model, already wrapped in the retry policy. */
  llm: LlmBackend;
  memory: string;
  dataset: string;
  /** The model spec (stored in the memory's info). */
  model: string;
  /** The evaluated items as (id, task text the method is asked, first gold answer), in sample order. */
  pairs: readonly SolvedPair[];
  /** k. Default DEFAULT_MEMORY_FOLDS (5). */
  folds?: number;
  /** Embedder of the task vectors, as `reckon memory build` picks one. Default 'auto'. */
  embedder?: EmbedderChoice;
  signal?: AbortSignal;
  onProgress?: (progress: EvalMemoryProgress) => void;
}

/**
 * Builds (or continues) one evaluation memory with buildSolvedExampleMemory, then embeds its tasks
 * with the chosen embedder (none installed: BM25 only, said in `embeddingSkipped`). Cancelled
 * between examples, it keeps what it built and says `cancelled`. MEMORY_MISMATCH when a memory of
 * that name was built with another k; MEMORY_EMBEDDER_UNAVAILABLE / MEMORY_EMBEDDER_MISMATCH as
 * for `reckon memory build`.
 */
export async function buildEvalMemory(options: BuildEvalMemoryOptions): Promise<EvalMemoryBuild> {
  const folds = options.folds ?? DEFAULT_MEMORY_FOLDS;
  const memory = options.engine.memories.open(options.memory, { write: true });
  try {
    const info = memory.info();
    if (info && info.folds !== folds)
      throw new ReckonError(
        'MEMORY_MISMATCH',
        `The evaluation memory ${options.memory} was built with k = ${info.folds}, not ${folds}; remove it (reckon memory remove ${options.memory}) and run the evaluation again.`,
      );
    const embedding = await openMemoryEmbedder(options.engine, memory, options.embedder ?? 'auto', {
      unavailableAdvice: `Install ${memory.embedderBinding()?.modelId ?? 'it'} in models/embedders, or remove the memory (reckon memory remove ${memory.name}) and run the evaluation again.`,
    });
    memory.setInfo({
      name: options.memory,
      model: options.model,
      dataset: options.dataset,
      folds,
      withText: info?.withText ?? false,
      createdAt: info?.createdAt ?? Date.now(),
    });
    const { dataset, model } = options;
    const result = await buildSolvedExampleMemory({
      memory,
      llm: options.llm,
      pairs: options.pairs,
      folds,
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (progress) =>
        options.onProgress?.({ ...progress, memory: options.memory, dataset, model, folds }),
    });
    let cancelled = result.cancelled;
    if ('embedder' in embedding && !cancelled)
      cancelled = (
        await embedSolvedExamples({
          memory,
          embedder: embedding.embedder,
          ...(options.signal ? { signal: options.signal } : {}),
        })
      ).cancelled;
    return {
      memory: options.memory,
      dataset,
      model,
      folds,
      pairs: options.pairs.length,
      examples: memory.count(),
      built: result.built,
      skipped: result.skipped,
      failed: result.failed,
      cancelled,
      embedder: 'embedder' in embedding ? embedding.embedder.modelId : null,
      embeddingSkipped: 'unavailable' in embedding ? embedding.unavailable : null,
    };
  } finally {
    memory.close();
  }
}

/**
 * An evaluation memory as it is on disk, reported like a build that added nothing (a re-run whose
 * questions were all done before, so no build ran); null when there is no such memory.
 */
export function describeEvalMemory(
  engine: Engine,
  options: Pick<EvalMemoryBuild, 'memory' | 'dataset' | 'model' | 'folds' | 'pairs'>,
): EvalMemoryBuild | null {
  if (!engine.memories.exists(options.memory)) return null;
  const memory = engine.memories.open(options.memory);
  try {
    const examples = memory.count();
    return {
      ...options,
      folds: memory.info()?.folds ?? options.folds,
      examples,
      built: 0,
      skipped: examples,
      failed: memory.failureCount(),
      cancelled: false,
      embedder: memory.embedderBinding()?.modelId ?? null,
      embeddingSkipped: null,
    };
  } finally {
    memory.close();
  }
}
