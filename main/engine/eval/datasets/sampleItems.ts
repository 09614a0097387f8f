import { mulberry32, shuffle } from '../../util/mulberry32.ts';

export interface SampleItemsOptions {
  /** Keep at most this many items. Default: all. */
  limit?: number;
  /** Draw the kept items at random with this seed (mulberry32) instead of taking the first `limit`. Default: none (file order). */
  seed?: number;
}

/**
 * The items an evaluation runs on. Without a seed: the first `limit`, as the papers' "first N".
 * With a seed: a seeded random permutation's first `limit`, returned in file order; the same seed
 * always gives the same sample, and a larger limit with the same seed extends a smaller one's
 * sample (it is a longer prefix of the same permutation), so a run can grow without re-drawing.
 * A seed without a limit keeps every item (in file order).
 */
export function sampleItems<T>(items: readonly T[], options: SampleItemsOptions = {}): T[] {
  const limit = options.limit ?? items.length;
  if (limit >= items.length) return [...items];
  if (options.seed === undefined) return items.slice(0, limit);
  const order = shuffle(
    items.map((_, index) => index),
    mulberry32(options.seed),
  );
  return order
    .slice(0, limit)
    .sort((a, b) => a - b)
    .map((index) => items[index]!);
}
