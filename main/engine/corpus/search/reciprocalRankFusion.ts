/** The constant of Cormack et al.'s reciprocal rank fusion; 60 is the value from the paper. */
export const DEFAULT_RRF_K = 60;

/**
 * Fuses ranked lists by reciprocal rank: score(d) = Σ 1 / (rrfK + rank(d)), ranks 1-based. Robust to
 * the incomparable score scales of BM25 and cosine similarity.
 */
export function reciprocalRankFusion(
  lists: readonly (readonly number[])[],
  options: { rrfK?: number } = {},
): { id: number; score: number }[] {
  const rrfK = options.rrfK ?? DEFAULT_RRF_K;
  const scores = new Map<number, number>();
  for (const list of lists) {
    list.forEach((id, index) => scores.set(id, (scores.get(id) ?? 0) + 1 / (rrfK + index + 1)));
  }
  return [...scores.entries()]
    .map(([id, score]) => ({ id, score }))
    .sort((a, b) => b.score - a.score || a.id - b.id);
}
