/**
 * What reranks PROGRAM's pooled evidence against the question before the answer (the paper's final
 * step). `auto` takes the best that is there, in the order: the installed cross-encoder
 * (StrategyContext.reranker), else embedding similarity (the corpus embedding model's cosine), else
 * BM25 — each pooled passage's Okapi BM25 score for the question, IDF over the pool
 * (programSimilarity.ts bm25Scores): pooled passages come from different queries, so their own
 * retrieval scores do not compare, while a BM25 score against the one question does. `bm25` asks for
 * that by name; `none` reranks nothing: passages keep the retrieval score of the query that first
 * found them. The label the trace and the figures carry says exactly which was used.
 */
import { ReckonError } from '../../errors.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import type { StrategyContext } from '../Strategy.ts';
import { bm25Scores, type Similarity } from './programSimilarity.ts';

/** The `reranker` option's values. */
export const PROGRAM_RERANKER_CHOICES = ['auto', 'cross-encoder', 'embedding', 'bm25', 'none'] as const;
export type ProgramRerankerChoice = (typeof PROGRAM_RERANKER_CHOICES)[number];

/** What reranked the pool: a cross-encoder, embedding similarity, BM25 against the question, or nothing (retrieval order). */
export type PoolRerankerKind = 'cross-encoder' | 'embedding' | 'bm25' | 'retrieval-order';

export interface PoolReranker {
  readonly kind: PoolRerankerKind;
  /** `cross-encoder:<model id>`, or the kind itself: what the trace's `reranker` field says. */
  readonly label: string;
  /** Why the installed cross-encoder was not used, when `auto` looked for one and found none. */
  readonly crossEncoderUnavailable: string | null;
  /**
   * Each passage's score for the question, in order, higher first: the cross-encoder's logit, the
   * similarity, or (retrieval-order) the retrieval score of the query that first found it.
   */
  scores(question: string, docs: readonly RetrievedDoc[], signal: AbortSignal): Promise<number[]>;
}

/**
 * The reranker a run uses for `choice` (see the module comment). Asking by name for what the run
 * does not have is ReckonError 'RERANKER_UNAVAILABLE', saying why and what to do: `cross-encoder`
 * without a loadable cross-encoder, `embedding` when the run's similarity is the lexical fallback.
 */
export async function choosePoolReranker(
  context: Pick<StrategyContext<unknown>, 'reranker'>,
  choice: ProgramRerankerChoice,
  similarity: Similarity,
): Promise<PoolReranker> {
  const bySimilarity = (crossEncoderUnavailable: string | null): PoolReranker =>
    similarity.kind === 'embedding'
      ? {
          kind: 'embedding',
          label: 'embedding',
          crossEncoderUnavailable,
          scores: (question, docs, signal) =>
            similarity.scores(
              question,
              docs.map((doc) => doc.text),
              signal,
            ),
        }
      : byBm25(crossEncoderUnavailable);
  if (choice === 'bm25') return byBm25(null);
  if (choice === 'none') {
    return {
      kind: 'retrieval-order',
      label: 'retrieval-order',
      crossEncoderUnavailable: null,
      scores: async (_question, docs) => docs.map((doc) => doc.score),
    };
  }
  if (choice === 'embedding') {
    if (similarity.kind !== 'embedding') {
      throw new ReckonError(
        'RERANKER_UNAVAILABLE',
        'The reranker "embedding" was asked for, but this corpus has no embedding model, so there are no embeddings to rerank by. ' +
          'Ingest the corpus with an embedding model installed, or use reranker=auto (BM25 without one) or reranker=none.',
      );
    }
    return bySimilarity(null);
  }
  const found = context.reranker
    ? await context.reranker()
    : { unavailable: 'this run was started without access to the models folder' };
  if ('unavailable' in found) {
    if (choice === 'cross-encoder') {
      throw new ReckonError(
        'RERANKER_UNAVAILABLE',
        `The reranker "cross-encoder" was asked for, but there is none to use: ${found.unavailable}. ` +
          'Install one ("reckon models pull ms-marco-MiniLM-L-6-v2"), or use reranker=auto.',
      );
    }
    return bySimilarity(found.unavailable);
  }
  return {
    kind: 'cross-encoder',
    label: `cross-encoder:${found.modelId}`,
    crossEncoderUnavailable: null,
    scores: (question, docs, signal) =>
      found.score(
        question,
        docs.map((doc) => doc.text),
        { signal },
      ),
  };
}

/** BM25 of each pooled passage for the question (see the module comment). */
function byBm25(crossEncoderUnavailable: string | null): PoolReranker {
  return {
    kind: 'bm25',
    label: 'bm25',
    crossEncoderUnavailable,
    scores: async (question, docs) =>
      bm25Scores(
        question,
        docs.map((doc) => doc.text),
      ),
  };
}

/** How the rerank step's title names a reranker. */
export function describePoolReranker(reranker: PoolReranker): string {
  switch (reranker.kind) {
    case 'cross-encoder':
      return `the cross-encoder ${reranker.label.slice('cross-encoder:'.length)}`;
    case 'embedding':
      return 'embedding similarity';
    case 'bm25':
      return 'BM25 score for the question';
    case 'retrieval-order':
      return 'retrieval score (no reranking)';
  }
}
