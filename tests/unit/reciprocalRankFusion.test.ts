import { describe, expect, it } from 'vitest';
import { reciprocalRankFusion } from '../../main/engine/corpus/search/reciprocalRankFusion.ts';

describe('reciprocalRankFusion', () => {
  it('ranks items found by both lists above items found by one', () => {
    const fused = reciprocalRankFusion([
      [1, 2, 3],
      [4, 2, 5],
    ]);
    expect(fused[0]!.id).toBe(2);
    expect(fused.map((f) => f.id).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(fused[0]!.score).toBeCloseTo(1 / 62 + 1 / 62);
  });

  it('uses 1/(k + rank) with the given k', () => {
    expect(reciprocalRankFusion([[7]], { rrfK: 0 })).toEqual([{ id: 7, score: 1 }]);
  });
});
