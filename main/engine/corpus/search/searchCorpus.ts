/**
 * Search over one corpus: `bm25` (SQLite FTS5), `dense` (usearch, cosine) or `hybrid` (reciprocal
 * rank fusion of both). When dense search is impossible — no embedding model, no vectors, an index
 * that cannot be rebuilt — hybrid falls back to BM25 and says so in `warnings`; dense, asked for by
 * name, fails with ReckonError 'DENSE_UNAVAILABLE' rather than quietly answering with BM25.
 */
import type { ChunkRow, CorpusStore } from '../CorpusStore.ts';
import { DEFAULT_BM25_MAX_POSTINGS, omittedWordsWarning, type Bm25QueryPlan } from './bm25Plan.ts';
import type { Embedder } from '../../models/Embedder.ts';
import type { VectorIndex } from './VectorIndex.ts';
import { reciprocalRankFusion } from './reciprocalRankFusion.ts';
import { ReckonError, throwIfAborted, toReckonError } from '../../errors.ts';

export type SearchMode = 'bm25' | 'dense' | 'hybrid';
export const SEARCH_MODES: readonly SearchMode[] = ['bm25', 'dense', 'hybrid'];
/** Hits returned when k is not given. */
export const DEFAULT_SEARCH_K = 5;
/** Each list fused by hybrid search is this many times longer than k (at least 50). */
export const HYBRID_CANDIDATE_FACTOR = 4;

export interface SearchHit {
  chunkId: number;
  documentId: number;
  path: string;
  title: string;
  text: string;
  start: number;
  end: number;
  page: number | null;
  /** Mode-specific: -bm25 for bm25, cosine for dense, RRF score for hybrid. Higher is better. */
  score: number;
  /** 1-based rank in each underlying list this hit appeared in. */
  ranks: { bm25?: number; dense?: number };
}

export interface SearchResult {
  requestedMode: SearchMode;
  /** The mode that actually ran (bm25 when dense was impossible). */
  mode: SearchMode;
  hits: SearchHit[];
  warnings: string[];
}

/** What a search needs from a corpus: its store, and a way to get a dense index and embedder if any. */
export interface SearchSource {
  store: CorpusStore;
  /** Returns the dense side, or a reason why there is none. Called only for dense/hybrid. */
  dense(): Promise<{ index: VectorIndex; embedder: Embedder; warnings: string[] } | { unavailable: string }>;
}

export interface SearchOptions {
  /** Number of hits. Default: DEFAULT_SEARCH_K (5). */
  k?: number;
  /** Default: 'hybrid'. */
  mode?: SearchMode;
  /**
   * Bound on the passages BM25 scores, counting a passage once per query word it contains: past it,
   * the query's commonest words are left out (the rarest is always kept) and a warning names them.
   * 0 scores every passage with any query word. Default: DEFAULT_BM25_MAX_POSTINGS (250,000), which
   * keeps every search exact on a corpus of fewer than 250,000 ÷ (query words) passages.
   */
  bm25MaxPostings?: number;
  signal?: AbortSignal;
}

export async function searchCorpus(
  source: SearchSource,
  query: string,
  options: SearchOptions = {},
): Promise<SearchResult> {
  const k = Math.max(1, Math.floor(options.k ?? DEFAULT_SEARCH_K));
  const requestedMode = options.mode ?? 'hybrid';
  const warnings: string[] = [];
  throwIfAborted(options.signal);
  const plan = (): Bm25QueryPlan => {
    const planned = source.store.planBm25(query, options.bm25MaxPostings ?? DEFAULT_BM25_MAX_POSTINGS);
    if (planned.omitted.length > 0) warnings.push(omittedWordsWarning(planned));
    return planned;
  };
  if (requestedMode === 'bm25') {
    return finish(source.store, 'bm25', 'bm25', bm25List(source.store, plan(), k), warnings);
  }

  let dense: Awaited<ReturnType<SearchSource['dense']>>;
  try {
    dense = await source.dense();
  } catch (error) {
    dense = { unavailable: toReckonError(error).message };
  }
  if ('unavailable' in dense) {
    if (requestedMode === 'dense') throw denseUnavailableError(dense.unavailable);
    warnings.push(`Dense search is unavailable (${dense.unavailable}); showing BM25 results.`);
    return finish(source.store, requestedMode, 'bm25', bm25List(source.store, plan(), k), warnings);
  }
  warnings.push(...dense.warnings);
  const [queryVector] = await dense.embedder.embed([query], { signal: options.signal });
  throwIfAborted(options.signal);
  if (!queryVector) throw new Error('The embedder returned no vector for the query.');
  if (requestedMode === 'dense') {
    const hits = dense.index.search(queryVector, k).map((hit, i) => ({ ...hit, ranks: { dense: i + 1 } }));
    return finish(source.store, 'dense', 'dense', hits, warnings);
  }
  const depth = Math.max(50, k * HYBRID_CANDIDATE_FACTOR);
  const bm25 = source.store.bm25Search(plan(), depth).map((hit) => hit.chunkId);
  const denseIds = dense.index.search(queryVector, depth).map((hit) => hit.chunkId);
  const fused = reciprocalRankFusion([bm25, denseIds]).slice(0, k);
  const hits = fused.map(({ id, score }) => {
    const ranks: SearchHit['ranks'] = {};
    const b = bm25.indexOf(id);
    const d = denseIds.indexOf(id);
    if (b >= 0) ranks.bm25 = b + 1;
    if (d >= 0) ranks.dense = d + 1;
    return { chunkId: id, score, ranks };
  });
  return finish(source.store, 'hybrid', 'hybrid', hits, warnings);
}

/**
 * The error of a dense search on a corpus that cannot do one (ReckonError 'DENSE_UNAVAILABLE'):
 * `reason` says why (no embeddings, no embedding model installed…).
 */
export function denseUnavailableError(reason: string): ReckonError {
  return new ReckonError(
    'DENSE_UNAVAILABLE',
    `Dense search is unavailable for this corpus (${reason}). Search in hybrid or bm25 mode instead ` +
      `(reckon: --mode hybrid), or ingest the corpus again with an embedding model installed.`,
  );
}

function bm25List(
  store: CorpusStore,
  plan: Bm25QueryPlan,
  k: number,
): { chunkId: number; score: number; ranks: SearchHit['ranks'] }[] {
  return store.bm25Search(plan, k).map((hit, i) => ({ ...hit, ranks: { bm25: i + 1 } }));
}

function finish(
  store: CorpusStore,
  requestedMode: SearchMode,
  mode: SearchMode,
  ranked: readonly { chunkId: number; score: number; ranks: SearchHit['ranks'] }[],
  warnings: string[],
): SearchResult {
  const rows = store.getChunks(ranked.map((hit) => hit.chunkId));
  const hits: SearchHit[] = [];
  for (const hit of ranked) {
    const row: ChunkRow | undefined = rows.get(hit.chunkId);
    // A vector whose chunk is gone can only come from a stale index; never return it.
    if (!row) continue;
    hits.push({
      chunkId: row.id,
      documentId: row.documentId,
      path: row.path,
      title: row.title,
      text: row.text,
      start: row.start,
      end: row.end,
      page: row.page,
      score: hit.score,
      ranks: hit.ranks,
    });
  }
  return { requestedMode, mode, hits, warnings };
}
