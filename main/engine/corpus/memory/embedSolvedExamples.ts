/**
 * The embedding pass of a memory build: every example without a vector gets one, of its task (see
 * SolvedExampleMemory on why the task), in batches, each batch committed on its own — so a cancelled
 * pass keeps what it embedded and the next build finishes it. Afterwards the derived usearch index is
 * brought up to date and saved, so searches load it instead of rebuilding it.
 */
import type { Embedder } from '../../models/Embedder.ts';
import type { SolvedExampleMemory } from './SolvedExampleMemory.ts';

/** Tasks embedded per call of the embedder (and per committed batch). */
export const DEFAULT_MEMORY_EMBED_BATCH = 32;

export interface EmbedSolvedExamplesOptions {
  /** A memory opened for writing. */
  memory: SolvedExampleMemory;
  embedder: Embedder;
  /** Default DEFAULT_MEMORY_EMBED_BATCH (32). */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: { embedded: number; total: number }) => void;
}

export interface EmbedSolvedExamplesResult {
  /** Examples embedded by this pass. */
  embedded: number;
  /** Examples with a vector afterwards. */
  vectors: number;
  modelId: string;
  dimension: number;
  /** True when the pass stopped early because it was cancelled; what it embedded is kept. */
  cancelled: boolean;
}

/**
 * Embeds the tasks of `memory`'s examples that have no vector. Throws ReckonError
 * 'MEMORY_EMBEDDER_MISMATCH' when the memory's vectors come from another embedder (clearVectors first
 * to re-embed); embedder errors propagate after the batches before them were saved.
 */
export async function embedSolvedExamples(
  options: EmbedSolvedExamplesOptions,
): Promise<EmbedSolvedExamplesResult> {
  const { memory, embedder, signal } = options;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_MEMORY_EMBED_BATCH);
  const binding = { modelId: embedder.modelId, dimension: embedder.dimension };
  const total = memory.countExamplesWithoutVectors();
  let embedded = 0;
  let cancelled = false;
  let afterId = 0;
  for (;;) {
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    const batch = memory.examplesWithoutVectors(batchSize, afterId);
    if (batch.length === 0) break;
    let vectors: Float32Array[];
    try {
      vectors = await embedder.embed(
        batch.map((example) => example.task),
        signal ? { signal } : {},
      );
    } catch (error) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      throw error;
    }
    if (signal?.aborted) {
      cancelled = true;
      break;
    }
    memory.putVectors(
      batch.flatMap((example, i) => {
        const vector = vectors[i];
        return vector ? [{ exampleId: example.id, vector }] : [];
      }),
      binding,
    );
    embedded += batch.length;
    afterId = batch.at(-1)!.id;
    options.onProgress?.({ embedded, total });
  }
  // Bring the index file up to date now, while holding the writer lock, so readers load it as is.
  if (!cancelled) memory.vectorIndex();
  return { embedded, vectors: memory.countVectors(), ...binding, cancelled };
}
