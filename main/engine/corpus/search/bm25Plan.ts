/**
 * How a BM25 search bounds its cost: the plan CorpusStore.planBm25 makes (which query words it
 * searches for) and the warning a search gives when it left words out. No SQLite here, so the CLI
 * can name the default without loading the store.
 */

/**
 * Default bound on the passages one BM25 query scores (SearchOptions.bm25MaxPostings), counted once
 * per query word that a passage contains. FTS5 scores and sorts every passage with any query word,
 * so a query's cost grows with how common its words are: ~0.6 µs per passage here, seconds per
 * question at Wikipedia's 21M passages (`npm run bench -- --only scale`). Under the bound the search
 * is exact; over it, the commonest words (which weigh least in BM25) are left out, and the search
 * says which.
 */
export const DEFAULT_BM25_MAX_POSTINGS = 250_000;

/** A query word that BM25 left out, and in how many passages it is (`atLeast`: counting stopped there). */
export interface OmittedQueryWord {
  word: string;
  passages: number;
  atLeast: boolean;
}

/** The FTS5 query a BM25 search runs, and the words it left out to stay within its bound. */
export interface Bm25QueryPlan {
  /** The FTS5 MATCH expression (quoted, OR-ed words); empty when the query has no words. */
  match: string;
  words: string[];
  omitted: OmittedQueryWord[];
  /** The bound it was planned under (0: none). */
  maxPostings: number;
}

/** The warning of a BM25 search that left common words out (see SearchOptions.bm25MaxPostings). */
export function omittedWordsWarning(plan: Bm25QueryPlan): string {
  const words = plan.omitted.map(
    ({ word, passages, atLeast }) =>
      `"${word}" (${atLeast ? 'more than ' : ''}${(atLeast ? plan.maxPostings : passages).toLocaleString('en-US')} passages)`,
  );
  return (
    `BM25 left out the common words ${words.join(', ')} to score at most ` +
    `${plan.maxPostings.toLocaleString('en-US')} passages; it searched for ${plan.words.map((word) => `"${word}"`).join(', ')}. ` +
    `Set bm25MaxPostings to 0 (reckon search --bm25-max-postings 0) to score every word.`
  );
}
