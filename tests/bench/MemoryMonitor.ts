/**
 * The `memory` benchmark: resident memory while each other benchmark runs. A sampler thread reads
 * the process's RSS every few milliseconds and keeps the peak in shared memory. It runs in its own
 * worker thread because the interesting peaks happen inside long synchronous calls (usearch builds,
 * brute-force loops, SQLite transactions) that block the main thread's timers.
 *
 * Each benchmark gets: the sampled peak RSS while it ran, RSS and V8 heap used right after it, and
 * the process's `maxRSS` high-water mark so far (which never goes down, so it is cumulative across
 * benchmarks run in the same process; the sampled peak is the per-benchmark figure).
 */
import { Worker } from 'node:worker_threads';
import type { BenchRow } from './Benchmark.ts';
import { MIB } from './Benchmark.ts';

/** How often the sampler thread reads RSS. */
export const DEFAULT_SAMPLE_INTERVAL_MS = 20;

// Plain CommonJS evaluated in the worker: no loader needed. Only the sampler writes the peak; the
// main thread raises it to the current RSS on reset(), which is at worst a sample early.
const SAMPLER_SOURCE = `
const { workerData } = require('node:worker_threads');
const peak = new Int32Array(workerData.buffer);
const sample = () => {
  const kib = Math.round(process.memoryUsage.rss() / 1024);
  if (kib > Atomics.load(peak, 0)) Atomics.store(peak, 0, kib);
};
sample();
setInterval(sample, workerData.intervalMs);
`;

export interface MemorySnapshot {
  /** Highest RSS sampled since the last reset(), in bytes. */
  peakRssBytes: number;
  /** RSS now, in bytes. */
  rssBytes: number;
  /** V8 heap used by the main thread now, in bytes. */
  heapUsedBytes: number;
  /** process.resourceUsage().maxRSS: the process's all-time high-water mark, in bytes. */
  maxRssBytes: number;
}

export class MemoryMonitor {
  private readonly peakKib: Int32Array;

  private constructor(
    private readonly worker: Worker,
    buffer: SharedArrayBuffer,
  ) {
    this.peakKib = new Int32Array(buffer);
  }

  /** Starts the sampler thread, reading RSS every `intervalMs` (default DEFAULT_SAMPLE_INTERVAL_MS). */
  static start(intervalMs = DEFAULT_SAMPLE_INTERVAL_MS): MemoryMonitor {
    const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
    const worker = new Worker(SAMPLER_SOURCE, { eval: true, workerData: { buffer, intervalMs } });
    worker.unref();
    const monitor = new MemoryMonitor(worker, buffer);
    monitor.reset();
    return monitor;
  }

  /** Starts a new peak window at the current RSS. */
  reset(): void {
    Atomics.store(this.peakKib, 0, Math.round(process.memoryUsage.rss() / 1024));
  }

  snapshot(): MemorySnapshot {
    const usage = process.memoryUsage();
    return {
      peakRssBytes: Math.max(Atomics.load(this.peakKib, 0) * 1024, usage.rss),
      rssBytes: usage.rss,
      heapUsedBytes: usage.heapUsed,
      maxRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** The memory rows reported for one benchmark (named `benchmark`) from its snapshot. */
export function memoryRows(benchmark: string, snapshot: MemorySnapshot, startRssBytes: number): BenchRow[] {
  const mib = (bytes: number): number => bytes / MIB;
  return [
    {
      metric: `${benchmark}: peak RSS`,
      value: mib(snapshot.peakRssBytes),
      unit: 'MiB',
      notes: `sampled every ${DEFAULT_SAMPLE_INTERVAL_MS} ms by a worker thread; ${mib(startRssBytes).toFixed(0)} MiB at start`,
    },
    { metric: `${benchmark}: RSS after`, value: mib(snapshot.rssBytes), unit: 'MiB' },
    {
      metric: `${benchmark}: heap used after`,
      value: mib(snapshot.heapUsedBytes),
      unit: 'MiB',
      notes: 'main-thread V8 heap',
    },
    {
      metric: `${benchmark}: maxRSS so far`,
      value: mib(snapshot.maxRssBytes),
      unit: 'MiB',
      notes: 'process.resourceUsage().maxRSS: cumulative over the run',
    },
  ];
}
