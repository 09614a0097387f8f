/**
 * The embedder for a memory of solved examples' task vectors, shared by `reckon memory build` and
 * the evaluation's k-fold build: picked as ingest picks one (Engine.openEmbedder), and never one
 * that differs from the vectors the memory already has — unless they are all being replaced.
 */
import type { EmbedderChoice, Engine } from '../../createEngine.ts';
import { embedderMismatchError, type SolvedExampleMemory } from '../../corpus/memory/SolvedExampleMemory.ts';
import { ReckonError } from '../../errors.ts';

export interface OpenMemoryEmbedderOptions {
  /** The memory's vectors are about to be replaced (`--reembed`): its own embedder does not bind. Default false. */
  reembed?: boolean;
  /**
   * What to do when the memory has vectors but their embedder cannot be had, completing the
   * MEMORY_EMBEDDER_UNAVAILABLE message (each caller names the controls it has).
   */
  unavailableAdvice: string;
}

/**
 * Resolves `choice` for `memory`: the embedder, or why there is none (a memory without vectors is
 * then built BM25-only). A memory that has vectors and cannot get an embedder is ReckonError
 * 'MEMORY_EMBEDDER_UNAVAILABLE'; another embedder than its vectors' is 'MEMORY_EMBEDDER_MISMATCH'.
 */
export async function openMemoryEmbedder(
  engine: Pick<Engine, 'openEmbedder'>,
  memory: SolvedExampleMemory,
  choice: EmbedderChoice,
  options: OpenMemoryEmbedderOptions,
): ReturnType<Engine['openEmbedder']> {
  const existing = memory.embedderBinding();
  const bound = options.reembed ? undefined : existing;
  const resolved = await engine.openEmbedder(choice, {
    ...(bound ? { boundModelId: bound.modelId } : {}),
    owner: 'memory',
  });
  if ('unavailable' in resolved) {
    if (existing)
      throw new ReckonError(
        'MEMORY_EMBEDDER_UNAVAILABLE',
        `The memory ${memory.name} has vectors from ${existing.modelId} (${existing.dimension}-d), but ${resolved.unavailable}; new examples would have none. ${options.unavailableAdvice}`,
      );
    return resolved;
  }
  const { embedder } = resolved;
  if (bound && (embedder.modelId !== bound.modelId || embedder.dimension !== bound.dimension))
    throw embedderMismatchError(memory.name, bound, embedder);
  return resolved;
}
