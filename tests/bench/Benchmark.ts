/**
 * What every benchmark in tests/bench implements, and the small helpers they share. A benchmark
 * drives the real components (SQLite/FTS5, usearch, worker-thread parsing, llama.cpp) and returns
 * rows of measurements; it never asserts on timings. Ratios are measured side by side in the same
 * run and printed for a human to read (runBenchmarks.ts prints the table and writes the JSON).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** One measurement: a row of the printed table and of the saved JSON. */
export interface BenchRow {
  metric: string;
  value: number;
  unit: string;
  notes?: string;
}

export interface BenchContext {
  /** Smaller sizes for a smoke run (`--quick`). */
  readonly quick: boolean;
  /** `--passages N`: the corpus size of the `scale` benchmark. Default: undefined (its own default). */
  readonly passages?: number;
  /** Writes a progress line to stderr, prefixed with the benchmark's name and the elapsed time. */
  progress(message: string): void;
  /** Creates a fresh temp dir that the runner deletes after the benchmark (also on Ctrl-C). */
  makeTempDir(prefix: string): string;
}

export interface Benchmark {
  /** The name `--only` selects and the table's first column shows. */
  readonly name: string;
  readonly description: string;
  /** Runs only when named with `--only` (it takes too long for every `npm run bench`). Default: false. */
  readonly optIn?: boolean;
  run(context: BenchContext): Promise<BenchRow[]>;
}

/** Root of this checkout (bench-results/ goes here). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The read-only QA datasets shared beside the checkout. */
export const SHARED_DATA_DIR = path.resolve(REPO_ROOT, '../shared/data');

/** Minimum interval between two throttled progress lines. */
export const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  total: number;
}

/** Nearest-rank percentile (0 < p ≤ 100) of ascending-sorted samples; NaN when there are none. */
export function percentile(sortedAscending: readonly number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sortedAscending.length);
  return sortedAscending[Math.min(sortedAscending.length, Math.max(1, rank)) - 1]!;
}

/** Median of unsorted samples (mean of the middle two for an even count). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** p50, p99, mean, max and total of latency samples (any unit). */
export function summarize(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const total = sorted.reduce((sum, value) => sum + value, 0);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.length > 0 ? total / sorted.length : Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    total,
  };
}

/** Runs `fn` and returns its result with the elapsed wall time in milliseconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

/** Wraps `report` so that it runs at most once per `intervalMs` (default DEFAULT_PROGRESS_INTERVAL_MS). */
export function throttle<A extends unknown[]>(
  report: (...args: A) => void,
  intervalMs = DEFAULT_PROGRESS_INTERVAL_MS,
): (...args: A) => void {
  let last = 0;
  return (...args: A) => {
    const now = performance.now();
    if (now - last < intervalMs) return;
    last = now;
    report(...args);
  };
}

export const MIB = 1024 * 1024;
