/**
 * Search over a memory of solved examples (ICRAG's R2) in the corpora's three modes: `bm25` (FTS5
 * over task and solution), `dense` (usearch, cosine, over the task vectors) or `hybrid` (reciprocal
 * rank fusion of both, Cormack et al.'s k = 60, as corpus search fuses). Hybrid on a memory that
 * cannot search densely (no vectors, its embedder not installed) runs BM25 and says why in
 * `fallback`; dense asked for by name fails with ReckonError 'DENSE_UNAVAILABLE' instead.
 *
 * k-fold exclusion holds in every mode: BM25 excludes in SQL; the dense list is searched deep enough
 * to still hold k examples once the excluded ones are dropped (k + the number excluded), and then
 * drops them — so no excluded example reaches the fusion either.
 */
import { ReckonError, throwIfAborted } from '../../errors.ts';
import { HYBRID_CANDIDATE_FACTOR, type SearchMode } from '../search/searchCorpus.ts';
import { reciprocalRankFusion } from '../search/reciprocalRankFusion.ts';
import {
  DEFAULT_MEMORY_K,
  type MemorySearchOptions,
  type SolvedExampleHit,
  type SolvedExampleMemory,
} from './SolvedExampleMemory.ts';

/** The mode of an R2 search when none is given: hybrid (BM25 alone when the memory has no dense side). */
export const DEFAULT_MEMORY_SEARCH_MODE: SearchMode = 'hybrid';
/** Candidates each list contributes to hybrid fusion, at least (more when k × HYBRID_CANDIDATE_FACTOR is larger). */
export const MEMORY_HYBRID_MIN_CANDIDATES = 50;

export interface SolvedExampleSearchOptions extends MemorySearchOptions {
  /** Default DEFAULT_MEMORY_SEARCH_MODE ('hybrid'). */
  mode?: SearchMode;
  signal?: AbortSignal;
}

export interface SolvedExampleSearchResult {
  requestedMode: SearchMode;
  /** The mode that ran: bm25 when hybrid was asked for and dense search is unavailable. */
  mode: SearchMode;
  /** Why hybrid ran as bm25; null when it ran as asked. */
  fallback: string | null;
  hits: SolvedExampleHit[];
  /** About the dense side (an index rebuilt, examples without vectors); reported once per open memory. */
  warnings: string[];
}

/**
 * The `k` (default 3) best solved examples for `query` in `mode` (default hybrid), never one of
 * `excludeFolds` or `excludeIds`. Each hit carries the score of its mode and, in `scores`, each
 * list's score and rank.
 */
export async function searchSolvedExamples(
  memory: SolvedExampleMemory,
  query: string,
  options: SolvedExampleSearchOptions = {},
): Promise<SolvedExampleSearchResult> {
  const k = Math.max(1, Math.floor(options.k ?? DEFAULT_MEMORY_K));
  const requestedMode = options.mode ?? DEFAULT_MEMORY_SEARCH_MODE;
  const exclusion = { excludeFolds: options.excludeFolds ?? [], excludeIds: options.excludeIds ?? [] };
  throwIfAborted(options.signal);
  const bm25 = (depth: number): SolvedExampleHit[] =>
    memory.search(query, { k: depth, ...exclusion }).map((hit, i) => ({
      ...hit,
      scores: { bm25: { score: hit.score, rank: i + 1 } },
    }));
  if (requestedMode === 'bm25')
    return { requestedMode, mode: 'bm25', fallback: null, hits: bm25(k), warnings: [] };

  const dense = await memory.denseSide();
  if ('unavailable' in dense) {
    if (requestedMode === 'dense') throw memoryDenseUnavailableError(memory.name, dense.unavailable);
    return { requestedMode, mode: 'bm25', fallback: dense.unavailable, hits: bm25(k), warnings: [] };
  }
  const warnings = dense.warnings.splice(0);
  const [vector] = await dense.embedder.embed([query], options.signal ? { signal: options.signal } : {});
  throwIfAborted(options.signal);
  if (!vector) throw new ReckonError('MODEL_ERROR', 'The embedding model returned no vector for the query.');
  const excluded = new Set(memory.excludedIds(exclusion));
  const denseList = (depth: number): { id: number; score: number }[] =>
    dense.index
      .search(vector, depth + excluded.size)
      .filter((hit) => !excluded.has(hit.chunkId))
      .slice(0, depth)
      .map((hit) => ({ id: hit.chunkId, score: hit.score }));

  if (requestedMode === 'dense') {
    const list = denseList(k);
    const rows = memory.examplesById(list.map((hit) => hit.id));
    const hits = list.flatMap((hit, i) => {
      const example = rows.get(hit.id);
      return example
        ? [{ ...example, score: hit.score, scores: { dense: { score: hit.score, rank: i + 1 } } }]
        : [];
    });
    return { requestedMode, mode: 'dense', fallback: null, hits, warnings };
  }

  const depth = Math.max(MEMORY_HYBRID_MIN_CANDIDATES, k * HYBRID_CANDIDATE_FACTOR);
  const lexical = bm25(depth);
  const semantic = denseList(depth);
  const fused = reciprocalRankFusion([lexical.map((hit) => hit.id), semantic.map((hit) => hit.id)]).slice(
    0,
    k,
  );
  const rows = memory.examplesById(fused.map((hit) => hit.id));
  const hits = fused.flatMap(({ id, score }) => {
    const example = rows.get(id);
    if (!example) return [];
    const scores: NonNullable<SolvedExampleHit['scores']> = {};
    const b = lexical.findIndex((hit) => hit.id === id);
    const d = semantic.findIndex((hit) => hit.id === id);
    if (b >= 0) scores.bm25 = { score: lexical[b]!.score, rank: b + 1 };
    if (d >= 0) scores.dense = { score: semantic[d]!.score, rank: d + 1 };
    return [{ ...example, score, scores }];
  });
  return { requestedMode, mode: 'hybrid', fallback: null, hits, warnings };
}

/**
 * Dense search asked for on a memory that cannot do it (ReckonError 'DENSE_UNAVAILABLE'): `reason`
 * says why; the message says what to do.
 */
export function memoryDenseUnavailableError(name: string, reason: string): ReckonError {
  return new ReckonError(
    'DENSE_UNAVAILABLE',
    `Dense search of the memory "${name}" is unavailable: ${reason}. Use r2Search=hybrid or r2Search=bm25, or build the memory again with an embedding model installed (reckon memory build … --name ${name}).`,
  );
}
