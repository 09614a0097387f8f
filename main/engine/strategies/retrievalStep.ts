/**
 * What the retrieval baselines (Vanilla RAG, Self-Ask, IRCoT, ITER-RETGEN) share: one retrieval
 * traced as a `step` event whose data lists what was found, a pool that accumulates distinct
 * documents across retrievals, and the citations of an answer given over documents.
 */
import { matchSentinel } from './sentinel.ts';
import type { ParsedAnswer } from './answerFormat.ts';
import { citationOf, type StrategyContext } from './Strategy.ts';
import type { RetrievedDoc } from '../sandbox/SandboxTypes.ts';
import type { Citation } from '../../../preload/TraceEvent.ts';

/** A retrieved document as a step event carries it: enough to list it and open the passage. */
export interface RetrievedDocSummary {
  id: number;
  title: string;
  score: number;
  source: string;
}

/** The documents as step data: id, title, score and source of each, in order. */
export function summarizeDocs(docs: readonly RetrievedDoc[]): RetrievedDocSummary[] {
  return docs.map((doc) => ({ id: doc.id, title: doc.title, score: doc.score, source: doc.source }));
}

export interface RetrievalStepOptions {
  query: string;
  k: number;
  /** The step event's `kind` (each strategy names its own, e.g. "retrieval", "follow-up-retrieval"). */
  kind: string;
  /** The step event's title; default `Retrieved N passages (M new) for the query`. */
  title?: string;
  /** Extra fields for the step's data (the step number, the round, …). */
  data?: Record<string, unknown>;
  /** With a pool, the event also lists which documents were new to it, and adds them. */
  pool?: DocumentPool;
}

/**
 * Runs `context.retrieve(query, k)` and emits one `step` event: detail is the query, data holds the
 * query, k, the documents found (id, title, score, source) and, with a pool, the ids new to it.
 * Returns the documents. Retrieval errors propagate (the run fails with them).
 */
export async function retrievalStep(
  context: Pick<StrategyContext<unknown>, 'retrieve' | 'emit' | 'signal'>,
  options: RetrievalStepOptions,
): Promise<RetrievedDoc[]> {
  const docs = await context.retrieve(options.query, options.k, context.signal);
  const fresh = options.pool ? options.pool.add(docs) : undefined;
  const count = `${docs.length} passage${docs.length === 1 ? '' : 's'}`;
  context.emit({
    type: 'step',
    kind: options.kind,
    title: options.title ?? `Retrieved ${count}${fresh ? ` (${fresh.length} new)` : ''} for the query`,
    detail: options.query,
    data: {
      ...options.data,
      query: options.query,
      k: options.k,
      docs: summarizeDocs(docs),
      ...(fresh ? { newDocIds: fresh.map((doc) => doc.id) } : {}),
    },
  });
  return docs;
}

/** Documents collected across retrievals, each chunk once, in the order first found. */
export class DocumentPool {
  readonly #byId = new Map<number, RetrievedDoc>();

  /** Adds the documents not yet in the pool and returns them (in their given order). */
  add(docs: readonly RetrievedDoc[]): RetrievedDoc[] {
    const fresh: RetrievedDoc[] = [];
    for (const doc of docs) {
      if (this.#byId.has(doc.id)) continue;
      this.#byId.set(doc.id, doc);
      fresh.push(doc);
    }
    return fresh;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** The documents in the order they were first found. */
  docs(): RetrievedDoc[] {
    return [...this.#byId.values()];
  }
}

/**
 * The chunks an answer over `docs` relied on: those its reasoning cites as [n], or every document
 * when it cites none; nothing for a sentinel answer ("unknown", …), which relied on nothing.
 */
export function citationsOfAnswer(parsed: ParsedAnswer, docs: readonly RetrievedDoc[]): Citation[] {
  if (docs.length === 0 || matchSentinel(parsed.answer)) return [];
  const cited = parsed.citedDocs.map((n) => docs[n - 1]).filter((doc): doc is RetrievedDoc => !!doc);
  const seen = new Set<number>();
  return (cited.length > 0 ? cited : docs)
    .filter((doc) => !seen.has(doc.id) && seen.add(doc.id))
    .map(citationOf);
}

/** Citations from several answers, each chunk once, in order. */
export function mergeCitations(lists: readonly Citation[][]): Citation[] {
  const seen = new Set<number>();
  return lists.flat().filter((citation) => !seen.has(citation.chunkId) && seen.add(citation.chunkId));
}
