/**
 * `llm-threads`: greedy generation time on the tiny generated GGUF with 1 decoding thread and with
 * one per physical core, side by side. llama.cpp's worker threads spin at a barrier after every
 * step, so when all of them cannot run at once (another process, the event loop, parsing, a sandbox
 * wants a core) one waits on a descheduled peer for a whole scheduler slice, token after token. This
 * is the effect defaultInferenceThreads() (physical cores less one) is chosen for. The tiny model
 * makes each token nearly free to compute, so what remains is mostly that synchronisation cost.
 *
 * Measured twice: on the machine as it is (the result then depends on what else runs: the load
 * average is recorded), and with one core deliberately kept busy by a spinning worker thread, which
 * stands for the app's own main-thread work and makes the comparison reproducible.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { defaultInferenceThreads, physicalCoreCount } from '../../main/engine/models/physicalCores.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { median, type BenchRow, type Benchmark } from './Benchmark.ts';

interface LlmThreadsSizes {
  /** Tokens generated per call. */
  tokens: number;
  /** Timed calls per thread count, on the machine as it is (after one untimed warm-up call). */
  idleRepetitions: number;
  /** Timed calls per thread count with one core busy (each can take seconds when oversubscribed). */
  busyRepetitions: number;
}
export const FULL_SIZES: LlmThreadsSizes = { tokens: 30, idleRepetitions: 5, busyRepetitions: 3 };
export const QUICK_SIZES: LlmThreadsSizes = { tokens: 10, idleRepetitions: 1, busyRepetitions: 1 };
/** Small context: the prompt and 30 tokens fit with room to spare, and allocation stays quick. */
const CONTEXT_SIZE = 512;

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Answer the question from the documents.' },
  { role: 'user', content: 'Which magazine was started first, Arthur’s Magazine or First for Women?' },
];

// Plain CommonJS for an eval worker: spins until the shared flag is set.
const SPINNER_SOURCE = `
const { workerData } = require('node:worker_threads');
const stop = new Int32Array(workerData.buffer);
let x = 0;
while (Atomics.load(stop, 0) === 0) x = (x + 1) | 0;
`;

type Condition = 'idle' | 'busy';

interface Timing {
  ms: number;
  times: number[];
  tokens: number;
  loadAverage: number;
}

export const llmThreadsBenchmark: Benchmark = {
  name: 'llm-threads',
  description:
    'tiny GGUF greedy decoding: threads = 1 vs threads = physical cores, as is and with one core busy',
  async run(context) {
    const dir = context.makeTempDir('reckon-bench-llm-');
    const modelPath = await makeTinyGguf({ path: path.join(dir, 'tiny.gguf') });
    const physical = physicalCoreCount();
    const threadCounts = [...new Set([1, physical, os.availableParallelism()])];
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;

    const timings = new Map<string, Timing>();
    const key = (threads: number, condition: Condition): string => `${threads}/${condition}`;
    for (const threads of threadCounts) {
      const backend = await createLlamaCppBackend({
        modelPath,
        threads,
        sequences: 1,
        contextSize: CONTEXT_SIZE,
      });
      try {
        await generate(backend, sizes.tokens);
        for (const condition of ['idle', 'busy'] as const) {
          const repetitions = condition === 'idle' ? sizes.idleRepetitions : sizes.busyRepetitions;
          context.progress(`threads=${threads}, ${condition}: ${repetitions} × ${sizes.tokens} tokens`);
          const measure = (): Promise<Timing> => measureCalls(backend, repetitions, sizes.tokens);
          timings.set(
            key(threads, condition),
            condition === 'busy' ? await withBusyCore(measure) : await measure(),
          );
        }
      } finally {
        await backend.dispose();
      }
    }

    const rows: BenchRow[] = [];
    const label = (threads: number): string =>
      threads === 1
        ? 'threads=1'
        : `threads=${threads} (${threads === physical ? 'physical' : 'logical'} cores)`;
    for (const condition of ['idle', 'busy'] as const) {
      const conditionNote =
        condition === 'idle' ? 'machine as it is' : 'one core kept busy by a spinning thread';
      for (const threads of threadCounts) {
        const timing = timings.get(key(threads, condition))!;
        rows.push({
          metric: `${label(threads)}, ${condition}: median`,
          value: timing.ms,
          unit: 'ms',
          notes:
            `${conditionNote}; ${timing.tokens} tokens, ${(timing.ms / Math.max(1, timing.tokens)).toFixed(2)} ms/token; ` +
            `reps ${timing.times.map((t) => t.toFixed(0)).join(', ')} ms; load avg ${timing.loadAverage.toFixed(2)}`,
        });
      }
      const one = timings.get(key(1, condition))!;
      for (const threads of threadCounts.filter((t) => t !== 1)) {
        const many = timings.get(key(threads, condition))!;
        rows.push({
          metric: `threads=${threads} / threads=1, ${condition}`,
          value: many.ms / one.ms,
          unit: '×',
          notes: `medians; best reps ${(Math.min(...many.times) / Math.min(...one.times)).toFixed(2)}×; > 1 means slower; default threads = ${defaultInferenceThreads()}`,
        });
      }
    }
    return rows;
  },
};

function generate(backend: LlmBackend, tokens: number): Promise<{ completionTokens: number }> {
  return backend.generate({ messages: MESSAGES, maxTokens: tokens, temperature: 0 });
}

async function measureCalls(backend: LlmBackend, repetitions: number, maxTokens: number): Promise<Timing> {
  const loadAverage = os.loadavg()[0] ?? Number.NaN;
  const times: number[] = [];
  let tokens = 0;
  for (let i = 0; i < repetitions; i++) {
    const started = performance.now();
    tokens = (await generate(backend, maxTokens)).completionTokens;
    times.push(performance.now() - started);
  }
  return { ms: median(times), times, tokens, loadAverage };
}

/** Runs `fn` while a worker thread spins on one core; stops the spinner afterwards. */
async function withBusyCore<T>(fn: () => Promise<T>): Promise<T> {
  const buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT);
  const spinner = new Worker(SPINNER_SOURCE, { eval: true, workerData: { buffer } });
  await new Promise<void>((resolve, reject) => {
    spinner.once('online', resolve);
    spinner.once('error', reject);
  });
  try {
    return await fn();
  } finally {
    Atomics.store(new Int32Array(buffer), 0, 1);
    await spinner.terminate();
  }
}
