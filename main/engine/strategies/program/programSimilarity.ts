/**
 * Semantic similarity for PROGRAM: cosine of the run's embeddings when the corpus has an embedding
 * model (StrategyContext.embed), else a lexical fallback — TF-IDF cosine — so the method still runs
 * without one, and says which it used (never a silent constant).
 */
import type { StrategyContext } from '../Strategy.ts';

export type SimilarityKind = 'embedding' | 'lexical';

export interface Similarity {
  readonly kind: SimilarityKind;
  /** Similarity of `query` to each text, in order: cosine in [−1, 1] (embedding) or [0, 1] (lexical). */
  scores(query: string, texts: readonly string[], signal: AbortSignal): Promise<number[]>;
}

/**
 * The similarity a run uses: embeddings when `embed` exists and yields vectors for `probe` (the
 * question — its vector is cached and reused), else the lexical fallback. Embeddings are cached by
 * text, so documents held across rounds are embedded once.
 */
export async function createSimilarity(
  context: Pick<StrategyContext<unknown>, 'embed' | 'signal'>,
  probe: string,
): Promise<Similarity> {
  const embed = context.embed;
  if (!embed) return lexicalSimilarity();
  const first = await embed([probe], context.signal);
  if (!first || first.length !== 1) return lexicalSimilarity();
  const cache = new Map<string, Float32Array>([[probe, first[0]!]]);
  const vectorsOf = async (texts: readonly string[], signal: AbortSignal): Promise<Float32Array[]> => {
    const missing = [...new Set(texts.filter((text) => !cache.has(text)))];
    if (missing.length > 0) {
      const vectors = await embed(missing, signal);
      if (!vectors || vectors.length !== missing.length)
        throw new Error('The embedding model returned no vectors for the texts it was given.');
      missing.forEach((text, i) => cache.set(text, vectors[i]!));
    }
    return texts.map((text) => cache.get(text)!);
  };
  return {
    kind: 'embedding',
    async scores(query, texts, signal) {
      if (texts.length === 0) return [];
      const [q, ...vectors] = await vectorsOf([query, ...texts], signal);
      return vectors.map((v) => cosine(q!, v));
    },
  };
}

/** Cosine similarity (the embedder's vectors are unit length, but this does not rely on it). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The fallback: TF-IDF cosine (see lexicalScores). */
export function lexicalSimilarity(): Similarity {
  return { kind: 'lexical', scores: async (query, texts) => lexicalScores(query, texts) };
}

const STOPWORDS = new Set(
  (
    'a an the and or but of to in on at by for with from as is are was were be been being it its this that ' +
    'these those what which who whom whose when where why how do does did has have had not no yes than then ' +
    'so such there their they them he she his her i you we our your into about over also'
  ).split(' '),
);

/** Lower-cased word tokens without stop words (letters and digits of any script). */
export function lexicalTokens(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((token) => !STOPWORDS.has(token));
}

/** How often each token occurs. */
function termCounts(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

/**
 * TF-IDF cosine of `query` with each text. IDF comes from the texts being compared (the query and
 * `texts`, N documents): idf = ln(1 + N / df), smoothed so a term in every text still counts a
 * little. Term frequencies are raw counts. 0 when either side has no content word.
 */
export function lexicalScores(query: string, texts: readonly string[]): number[] {
  const bags = [query, ...texts].map((text) => termCounts(lexicalTokens(text)));
  const df = new Map<string, number>();
  for (const bag of bags) for (const token of bag.keys()) df.set(token, (df.get(token) ?? 0) + 1);
  const n = bags.length;
  const weigh = (bag: Map<string, number>): Map<string, number> =>
    new Map([...bag].map(([token, tf]) => [token, tf * Math.log(1 + n / df.get(token)!)]));
  const [q, ...rest] = bags.map(weigh);
  const norm = (v: Map<string, number>): number => Math.sqrt([...v.values()].reduce((s, w) => s + w * w, 0));
  const qNorm = norm(q!);
  return rest.map((v) => {
    const vNorm = norm(v);
    if (qNorm === 0 || vNorm === 0) return 0;
    let dot = 0;
    for (const [token, w] of q!) dot += w * (v.get(token) ?? 0);
    return dot / (qNorm * vNorm);
  });
}

/** Okapi BM25's term-frequency saturation (k1) and length normalization (b): the usual defaults. */
export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/**
 * Okapi BM25 score of each text for `query` (PROGRAM's last-resort reranker: no cross-encoder and
 * no embedding model). The texts are the whole collection: IDF = ln(1 + (N − df + 0.5) / (df + 0.5))
 * over the N texts, average length over them, k1 = BM25_K1, b = BM25_B, tokens as lexicalTokens.
 * Each query term counts once. 0 for a text that shares no content word with the query.
 */
export function bm25Scores(query: string, texts: readonly string[]): number[] {
  const docs = texts.map((text) => {
    const tokens = lexicalTokens(text);
    return { bag: termCounts(tokens), length: tokens.length };
  });
  const n = docs.length;
  if (n === 0) return [];
  const avgLength = docs.reduce((sum, doc) => sum + doc.length, 0) / n || 1;
  const terms = [...new Set(lexicalTokens(query))];
  const idf = new Map(
    terms.map((term) => {
      const df = docs.filter((doc) => doc.bag.has(term)).length;
      return [term, Math.log(1 + (n - df + 0.5) / (df + 0.5))];
    }),
  );
  return docs.map((doc) => {
    let score = 0;
    for (const term of terms) {
      const tf = doc.bag.get(term) ?? 0;
      if (tf === 0) continue;
      score +=
        (idf.get(term)! * tf * (BM25_K1 + 1)) /
        (tf + BM25_K1 * (1 - BM25_B + (BM25_B * doc.length) / avgLength));
    }
    return score;
  });
}
