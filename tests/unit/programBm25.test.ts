import { describe, expect, it } from 'vitest';
import { bm25Scores } from '../../main/engine/strategies/program/programSimilarity.ts';

describe('bm25Scores (PROGRAM’s last-resort reranker)', () => {
  it('gives Okapi BM25 with k1 1.2, b 0.75 and IDF over the texts, checked by hand', () => {
    // N = 2, df(seine) = 1: idf = ln(1 + 1.5 / 1.5) = ln 2. Text 1 has 2 content words, the average is
    // 1.5: score = ln 2 · 1 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 2 / 1.5)) = ln 2 · 2.2 / 2.5.
    const [first, second] = bm25Scores('Where is the Seine?', ['Paris Seine', 'jazz']);
    expect(first).toBeCloseTo((Math.LN2 * 2.2) / 2.5, 12);
    expect(second).toBe(0);
  });

  it('saturates repeated terms, prefers shorter texts, and counts a query term once', () => {
    // Same length (4 content words): four occurrences score more than one, but less than four times as much.
    const [four, one] = bm25Scores('seine', ['seine seine seine seine', 'seine alpha beta gamma', 'delta']);
    expect(four).toBeGreaterThan(one!);
    expect(four).toBeLessThan(4 * one!);
    const [short, long] = bm25Scores('seine', ['seine paris', 'seine paris river flows north west', 'jazz']);
    expect(short).toBeGreaterThan(long!);
    const texts = ['seine paris', 'paris', 'jazz'];
    expect(bm25Scores('seine seine paris', texts)).toEqual(bm25Scores('seine paris', texts));
    expect(bm25Scores('anything', [])).toEqual([]);
  });
});
