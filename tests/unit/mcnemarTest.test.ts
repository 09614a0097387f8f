/**
 * McNemar's test against values worked out exactly: the binomial tails as fractions (sums of
 * binomial coefficients over 2^n), the chi-square tails at statistics 4 and 16 (for 1 df,
 * P(χ² ≥ z²) = 2 · (1 − Φ(z)): 0.0455002638963584 at z = 2, 6.334248366623977e-5 at z = 4), and R's
 * own mcnemar.test example (Agresti's presidential approval table: χ² = 16.818, p = 4.115e-05).
 */
import { describe, expect, it } from 'vitest';
import {
  MCNEMAR_CHI_SQUARE_MIN_DISCORDANT,
  mcnemarTest,
} from '../../main/engine/eval/statistics/mcnemarTest.ts';

describe('mcnemarTest', () => {
  it('exact p: two-sided binomial test of b against c with p = 1/2', () => {
    expect(mcnemarTest(0, 0)).toEqual({ b: 0, c: 0, exactPValue: 1, chiSquare: null });
    // 5 : 0 → 2 × (1/2)^5.
    expect(mcnemarTest(5, 0).exactPValue).toBeCloseTo(0.0625, 12);
    // 2 : 8 → 2 × (1 + 10 + 45) / 1024 = 7/64 (R: binom.test(2, 10)$p.value = 0.109375).
    expect(mcnemarTest(2, 8).exactPValue).toBeCloseTo(7 / 64, 12);
    expect(mcnemarTest(8, 2).exactPValue).toBeCloseTo(7 / 64, 12);
    // 3 : 3 → 2 × 42/64 > 1, capped at 1.
    expect(mcnemarTest(3, 3).exactPValue).toBe(1);
    // 7 : 18 → 2 × (1 + 25 + 300 + 2300 + 12650 + 53130 + 177100 + 480700) / 2^25 = 363103 / 8388608.
    expect(mcnemarTest(7, 18).exactPValue).toBeCloseTo(363103 / 8388608, 12);
    // 39 : 10 → 2 × Σ_{i≤10} C(49, i) / 2^49 = 5412639523 / 140737488355328.
    expect(mcnemarTest(39, 10).exactPValue).toBeCloseTo(5412639523 / 140737488355328, 14);
    // Large n stays finite.
    expect(mcnemarTest(500, 500).exactPValue).toBe(1);
    const lopsided = mcnemarTest(0, 1000).exactPValue;
    expect(lopsided).toBeGreaterThanOrEqual(0);
    expect(lopsided).toBeLessThan(1e-100);
  });

  it('chi-square with continuity correction from 25 discordant questions, as R computes it', () => {
    expect(MCNEMAR_CHI_SQUARE_MIN_DISCORDANT).toBe(25);
    expect(mcnemarTest(24, 0).chiSquare).toBeNull();
    // 18 : 7 → (11 − 1)² / 25 = 4.
    const four = mcnemarTest(18, 7).chiSquare!;
    expect(four.statistic).toBeCloseTo(4, 12);
    expect(four.df).toBe(1);
    expect(four.pValue).toBeCloseTo(0.0455002638963584, 9);
    // 10 : 39 → (29 − 1)² / 49 = 16.
    const sixteen = mcnemarTest(10, 39).chiSquare!;
    expect(sixteen.statistic).toBeCloseTo(16, 12);
    expect(sixteen.pValue).toBeCloseTo(6.334248366623977e-5, 11);
    // R: mcnemar.test(matrix(c(794, 86, 150, 570), nrow = 2)) → χ² = 16.818, p-value = 4.115e-05.
    const r = mcnemarTest(150, 86);
    expect(r.chiSquare!.statistic).toBeCloseTo(3969 / 236, 12);
    expect(r.chiSquare!.pValue).toBeCloseTo(4.1145622813459415e-5, 9);
    expect(r.exactPValue).toBeCloseTo(3.715936139571442e-5, 12);
    // Equal counts: R's (|b − c| − 1)² gives 1 / (b + c) here, not 0.
    expect(mcnemarTest(13, 13).chiSquare!.statistic).toBeCloseTo(1 / 26, 12);
  });

  it('refuses counts that are not whole numbers ≥ 0', () => {
    expect(() => mcnemarTest(-1, 2)).toThrow(RangeError);
    expect(() => mcnemarTest(1.5, 2)).toThrow(RangeError);
  });
});
