/**
 * The statistics PROGRAM decides with: the one-sample t-test that prunes programs (Student's t CDF
 * from @stdlib, not a hand-written approximation), and the information-gain estimate that scores
 * candidate sub-queries (KL divergence between two retrieval-score distributions).
 */
import studentTCdf from '@stdlib/stats-base-dists-t-cdf';

export type TTestResult =
  | {
      performed: true;
      n: number;
      mean: number;
      /** Sample standard deviation (n − 1 in the denominator). */
      sd: number;
      t: number;
      df: number;
      /** One-sided p-value for "the sample's mean is below mu0": P(T_df ≤ t). */
      pValue: number;
    }
  | {
      performed: false;
      n: number;
      mean: number | null;
      sd: number | null;
      /** Why there is no test: fewer than 2 observations, or every observation equal. */
      reason: 'too-few' | 'zero-variance';
    };

/**
 * One-sample, one-sided (lower-tail) Student's t-test of `sample` against `mu0`: t = (x̄ − mu0) /
 * (s / √n), df = n − 1, p = P(T_df ≤ t). Small samples are handled explicitly rather than producing
 * NaN or ±Infinity: with n < 2 there is no variance estimate (`too-few`); with every observation equal
 * (s = 0) the statistic is undefined (`zero-variance`). Neither case is evidence against the sample,
 * so callers treat both as "not significant".
 */
export function oneSampleTTestLess(sample: readonly number[], mu0: number): TTestResult {
  const n = sample.length;
  if (n === 0) return { performed: false, n, mean: null, sd: null, reason: 'too-few' };
  const mean = sample.reduce((sum, x) => sum + x, 0) / n;
  if (n < 2) return { performed: false, n, mean, sd: null, reason: 'too-few' };
  const variance = sample.reduce((sum, x) => sum + (x - mean) ** 2, 0) / (n - 1);
  const sd = Math.sqrt(variance);
  // Relative tolerance: identical floats summed in another order can leave a residue of ~1e-17.
  if (sd <= 1e-12 * Math.max(1, Math.abs(mean)))
    return { performed: false, n, mean, sd: 0, reason: 'zero-variance' };
  const df = n - 1;
  const t = (mean - mu0) / (sd / Math.sqrt(n));
  return { performed: true, n, mean, sd, t, df, pValue: studentTCdf(t, df) };
}

/** A document as the KL estimate sees it: an id and its retrieval score (higher is better). */
export interface ScoredDoc {
  id: number;
  score: number;
}

export interface EvidenceKlOptions {
  /** Softmax temperature over min-max-normalized scores (0–1); lower is peakier. */
  temperature: number;
  /** Share of probability mass spread uniformly over the union (0 < ε < 1), so KL stays finite. */
  smoothing: number;
}

export interface EvidenceKlResult {
  /** KL(P_candidate ‖ P_prior) in nats. */
  kl: number;
  /** The largest value the estimate can take for this union size: ln(|U| / ε). 0 for an empty union. */
  maxKl: number;
  /** Size of the union of both lists. */
  union: number;
  /** Documents both lists share. */
  shared: number;
}

/**
 * The information-gain estimate: KL divergence between the evidence distribution retrieved for a
 * candidate (with its type) and for the type alone. Each top-n list becomes a distribution over the
 * union U of both lists: scores are min-max normalized within the list (retrieval scores have
 * different scales in bm25, dense and hybrid mode; a list whose scores are all equal gets 1 for every
 * document), softmaxed with `temperature`, documents absent from the list get 0, and the result is
 * smoothed, P̃ = (1 − ε)·P + ε/|U|. Identical lists give 0; disjoint lists approach ln(|U|/ε). Two
 * empty lists give 0 (no evidence, no gain); one empty list is the uniform distribution over U.
 */
export function evidenceKl(
  candidate: readonly ScoredDoc[],
  prior: readonly ScoredDoc[],
  options: EvidenceKlOptions,
): EvidenceKlResult {
  const union = [...new Set([...candidate, ...prior].map((doc) => doc.id))];
  if (union.length === 0) return { kl: 0, maxKl: 0, union: 0, shared: 0 };
  const p = distributionOver(union, candidate, options);
  const q = distributionOver(union, prior, options);
  let kl = 0;
  for (let i = 0; i < union.length; i++) {
    const pi = p[i]!;
    if (pi > 0) kl += pi * Math.log(pi / q[i]!);
  }
  const priorIds = new Set(prior.map((doc) => doc.id));
  return {
    kl: Math.max(0, kl),
    maxKl: Math.log(union.length / options.smoothing),
    union: union.length,
    shared: new Set(candidate.filter((doc) => priorIds.has(doc.id)).map((doc) => doc.id)).size,
  };
}

function distributionOver(
  union: readonly number[],
  docs: readonly ScoredDoc[],
  options: EvidenceKlOptions,
): number[] {
  const eps = options.smoothing;
  const uniform = 1 / union.length;
  if (docs.length === 0) return union.map(() => uniform);
  // The best score of a document listed twice.
  const best = new Map<number, number>();
  for (const doc of docs) best.set(doc.id, Math.max(best.get(doc.id) ?? -Infinity, doc.score));
  const scores = [...best.values()];
  const min = Math.min(...scores);
  const range = Math.max(...scores) - min;
  const weights = new Map<number, number>();
  for (const [id, score] of best) {
    const normalized = range > 0 ? (score - min) / range : 1;
    weights.set(id, Math.exp(normalized / options.temperature));
  }
  const total = [...weights.values()].reduce((sum, w) => sum + w, 0);
  return union.map((id) => (1 - eps) * ((weights.get(id) ?? 0) / total) + eps * uniform);
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((sum, x) => sum + x, 0) / values.length;
}
