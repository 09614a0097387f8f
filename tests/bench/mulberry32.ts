/**
 * Seeded pseudo-random numbers for the benchmarks, so every run generates the same documents,
 * vectors and query order. mulberry32 is tiny, fast and identical on every platform; it is the same
 * generator the tiny-encoder fixture uses.
 */

/** Seed used by every benchmark unless it says otherwise. */
export const DEFAULT_BENCH_SEED = 20_240_601;

/** Returns a generator of uniform numbers in [0, 1) for `seed` (default DEFAULT_BENCH_SEED). */
export function mulberry32(seed = DEFAULT_BENCH_SEED): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform generator (Box–Muller, both values of each pair used). */
export function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const u = 1 - random(); // (0, 1]: log(0) must never happen
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  };
}

/** An integer in [0, n). */
export function randomInt(random: () => number, n: number): number {
  return Math.floor(random() * n);
}

/** Shuffles `items` in place (Fisher–Yates) and returns it. */
export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
