/**
 * Seeded pseudo-random numbers for everything that must come out the same on every machine: the
 * evaluation's question samples, and (through tests/fixtures) the benchmarks' documents and the
 * model fixtures' weights. mulberry32 is tiny, fast and identical on every platform.
 */

/** Returns a generator of uniform numbers in [0, 1) for `seed` (taken as an unsigned 32-bit integer). No defaults. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
