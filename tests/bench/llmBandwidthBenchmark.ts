/**
 * `llm-bandwidth`: greedy decoding speed of a model with a real model's shapes (Qwen2.5-0.5B's
 * matrices, random weights, Q8_0 and F16) against the memory-bandwidth limit measured in the same
 * run: a decoded token reads every weight once (all but the embedding table, of which one row), so
 * it cannot be faster than bytes-per-token ÷ bandwidth. Decoding uses 1 llama.cpp thread and the
 * bandwidth is one core's (native memcmp and memcpy over buffers far larger than any cache, driven
 * from JS), so the fraction compares like with like. llama.cpp reaches 0.6–0.8 of the limit on CPUs.
 */
import os from 'node:os';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import type { GgufTensorType } from '../fixtures/makeTinyGguf.ts';
import { makeBenchGguf } from './benchGguf.ts';
import { MIB, median, type BenchRow, type Benchmark } from './Benchmark.ts';

interface LlmBandwidthSizes {
  /** Layers of the Qwen-shaped models (24 is Qwen2.5-0.5B's). */
  blocks: number;
  /** Tokens decoded per timed call (beyond the first, which also evaluates the prompt's end). */
  tokens: number;
  /** Timed calls per model, and bandwidth measurements. */
  repetitions: number;
  /** Size of each buffer the bandwidth is measured on. */
  bandwidthBufferMiB: number;
}
export const FULL_SIZES: LlmBandwidthSizes = {
  blocks: 24,
  tokens: 32,
  repetitions: 3,
  bandwidthBufferMiB: 512,
};
export const QUICK_SIZES: LlmBandwidthSizes = {
  blocks: 4,
  tokens: 8,
  repetitions: 1,
  bandwidthBufferMiB: 256,
};
const TYPES: readonly GgufTensorType[] = ['Q8_0', 'F16'];
/** One thread, as the bandwidth is one core's (and llama.cpp's threads spin on a shared machine). */
const THREADS = 1;
const CONTEXT_SIZE = 512;
const TARGET = '0.6–0.8';
const MESSAGES: ChatMessage[] = [{ role: 'user', content: 'Which magazine was started first?' }];

interface Bandwidth {
  /** Bytes read per second: Buffer.compare of two equal buffers (memcmp reads both). */
  read: number[];
  /** Bytes moved per second by Buffer.copy (memcpy), reads and writes counted, as STREAM's copy does. */
  copy: number[];
}

/**
 * One core's memory bandwidth, `repetitions` times, on two buffers of `bufferBytes`. The buffers are
 * filled first (an untouched allocation reads as the kernel's shared zero page, which is cached),
 * and one untimed pass runs before the timed ones.
 */
function measureBandwidth(bufferBytes: number, repetitions: number): Bandwidth {
  const a = Buffer.allocUnsafe(bufferBytes).fill(0x5a);
  const b = Buffer.allocUnsafe(bufferBytes).fill(0x5a);
  const result: Bandwidth = { read: [], copy: [] };
  for (let i = 0; i <= repetitions; i++) {
    let started = performance.now();
    if (Buffer.compare(a, b) !== 0) throw new Error('equal buffers compared unequal');
    const read = (2 * bufferBytes) / ((performance.now() - started) / 1000);
    started = performance.now();
    a.copy(b);
    const copy = (2 * bufferBytes) / ((performance.now() - started) / 1000);
    if (i === 0) continue;
    result.read.push(read);
    result.copy.push(copy);
  }
  return result;
}

/** Seconds per decoded token: (time for 1 + n tokens − time for 1 token) ÷ n, per repetition. */
async function measureDecode(backend: LlmBackend, tokens: number, repetitions: number): Promise<number[]> {
  const perToken: number[] = [];
  // Untimed: loads the weights into the page cache and the prompt into the KV cache.
  await backend.generate({ messages: MESSAGES, maxTokens: 1 + tokens, temperature: 0 });
  for (let i = 0; i < repetitions; i++) {
    let started = performance.now();
    await backend.generate({ messages: MESSAGES, maxTokens: 1, temperature: 0 });
    const first = performance.now() - started;
    started = performance.now();
    const result = await backend.generate({ messages: MESSAGES, maxTokens: 1 + tokens, temperature: 0 });
    const all = performance.now() - started;
    const decoded = result.completionTokens - 1;
    if (decoded < 1) throw new Error('the model stopped before decoding a token past the first');
    perToken.push((all - first) / 1000 / decoded);
  }
  return perToken;
}

const gb = (bytesPerSecond: number): string => `${(bytesPerSecond / 1e9).toFixed(1)} GB/s`;

export const llmBandwidthBenchmark: Benchmark = {
  name: 'llm-bandwidth',
  description:
    'decoding tokens/s of a Qwen2.5-0.5B-shaped GGUF (Q8_0, F16) vs memory bandwidth ÷ bytes per token',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    const dir = context.makeTempDir('reckon-bench-bandwidth-');
    const decodes: {
      tensorType: GgufTensorType;
      label: string;
      bytesPerToken: number;
      perToken: number[];
      loadAverage: number;
    }[] = [];
    context.progress(`measuring one core's memory bandwidth on ${sizes.bandwidthBufferMiB} MiB buffers`);
    const bandwidth = measureBandwidth(sizes.bandwidthBufferMiB * MIB, sizes.repetitions);
    for (const tensorType of TYPES) {
      context.progress(`writing a ${sizes.blocks}-layer Qwen-shaped GGUF, ${tensorType}`);
      const model = await makeBenchGguf({ dir, blocks: sizes.blocks, tensorType });
      const backend = await createLlamaCppBackend({
        modelPath: model.path,
        threads: THREADS,
        sequences: 1,
        contextSize: CONTEXT_SIZE,
      });
      const loadAverage = os.loadavg()[0] ?? Number.NaN;
      try {
        context.progress(`${tensorType}: decoding ${sizes.repetitions} × ${sizes.tokens} tokens`);
        const perToken = await measureDecode(backend, sizes.tokens, sizes.repetitions);
        decodes.push({
          tensorType,
          label: model.label,
          bytesPerToken: model.bytesPerToken,
          perToken,
          loadAverage,
        });
      } finally {
        await backend.dispose();
      }
      // Measured again after each model, so a busy spell on the machine shows in both.
      const after = measureBandwidth(sizes.bandwidthBufferMiB * MIB, sizes.repetitions);
      bandwidth.read.push(...after.read);
      bandwidth.copy.push(...after.copy);
    }
    const readBest = Math.max(...bandwidth.read);
    const rows: BenchRow[] = [];
    for (const { tensorType, label, bytesPerToken, perToken, loadAverage } of decodes) {
      const bestTokensPerSecond = 1 / Math.min(...perToken);
      const medianTokensPerSecond = 1 / median(perToken);
      const limit = readBest / bytesPerToken;
      rows.push(
        {
          metric: `${tensorType}: decoding`,
          value: medianTokensPerSecond,
          unit: 'tokens/s',
          notes: `median; best ${bestTokensPerSecond.toFixed(1)}; ${label}; ${(bytesPerToken / 1e6).toFixed(0)} MB of weights per token; threads=${THREADS}; load avg ${loadAverage.toFixed(2)}`,
        },
        {
          metric: `${tensorType}: bandwidth limit`,
          value: limit,
          unit: 'tokens/s',
          notes: `${gb(readBest)} (one core's best read bandwidth) ÷ bytes per token`,
        },
        {
          metric: `${tensorType}: fraction of the limit`,
          value: bestTokensPerSecond / limit,
          unit: 'ratio',
          notes: `target ${TARGET}; best decode vs best bandwidth; median decode gives ${(medianTokensPerSecond / limit).toFixed(2)}`,
        },
      );
    }
    rows.push(
      {
        metric: 'memory bandwidth, read (memcmp), one core',
        value: readBest / 1e9,
        unit: 'GB/s',
        notes: `best; median ${gb(median(bandwidth.read))}; Buffer.compare of two equal ${sizes.bandwidthBufferMiB} MiB buffers`,
      },
      {
        metric: 'memory bandwidth, copy (memcpy), one core',
        value: Math.max(...bandwidth.copy) / 1e9,
        unit: 'GB/s',
        notes: `best; median ${gb(median(bandwidth.copy))}; reads + writes, as STREAM's copy counts`,
      },
    );
    return rows;
  },
};
