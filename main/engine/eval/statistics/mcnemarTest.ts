/**
 * McNemar's test for two methods scored right/wrong on the same questions: only the discordant
 * questions (one right, the other wrong) carry evidence. The exact test is the two-sided binomial
 * test of b against c with p = 1/2 (R's `binom.test(b, b + c)`); the chi-square version with
 * continuity correction (R's `mcnemar.test(…, correct = TRUE)`) is given beside it, labelled, once
 * there are enough discordant questions for the approximation. Both CDFs come from @stdlib, the
 * same statistics library as PROGRAM's t-test.
 */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf';
import chiSquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';

/** Discordant questions (b + c) from which the chi-square approximation is reported. */
export const MCNEMAR_CHI_SQUARE_MIN_DISCORDANT = 25;

/** The chi-square approximation with continuity correction (1 degree of freedom). */
export interface McNemarChiSquare {
  /** (|b − c| − 1)² / (b + c), as R's mcnemar.test computes it. */
  statistic: number;
  df: 1;
  /** P(χ²₁ ≥ statistic). */
  pValue: number;
}

/** McNemar's test of one paired comparison. */
export interface McNemarResult {
  /** Questions A got right and B wrong. */
  b: number;
  /** Questions B got right and A wrong. */
  c: number;
  /** Exact two-sided p-value: 2 · P(X ≤ min(b, c)) for X ~ Binomial(b + c, 1/2), at most 1; 1 when b + c = 0. */
  exactPValue: number;
  /** The approximation, only when b + c ≥ MCNEMAR_CHI_SQUARE_MIN_DISCORDANT (25); null below that. */
  chiSquare: McNemarChiSquare | null;
}

/**
 * McNemar's test from the discordant counts `b` (A right, B wrong) and `c` (B right, A wrong). Throws
 * a RangeError for counts that are not whole numbers ≥ 0 (a caller's bug, not the user's input).
 */
export function mcnemarTest(b: number, c: number): McNemarResult {
  for (const count of [b, c])
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`McNemar counts must be whole numbers ≥ 0; got ${b} and ${c}.`);
  const n = b + c;
  const exactPValue = n === 0 ? 1 : Math.min(1, 2 * binomialCdf(Math.min(b, c), n, 0.5));
  let chiSquare: McNemarChiSquare | null = null;
  if (n >= MCNEMAR_CHI_SQUARE_MIN_DISCORDANT) {
    const statistic = (Math.abs(b - c) - 1) ** 2 / n;
    chiSquare = { statistic, df: 1, pValue: 1 - chiSquareCdf(statistic, 1) };
  }
  return { b, c, exactPValue, chiSquare };
}
