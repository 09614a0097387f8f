/**
 * `llm-threads`: greedy generation time on the tiny generated GGUF with 1 decoding thread and with
 * one per physical core, side by side. llama.cpp's worker threads spin while they wait, so giving
 * decoding every core makes it fight the main thread (and everything else) for them; this is the
 * effect defaultInferenceThreads() (physical cores less one) is chosen for. The tiny model makes each
 * token nearly free to compute, so what remains is mostly that synchronisation cost.
 */
import os from 'node:os';
import path from 'node:path';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage } from '../../main/engine/models/LlmBackend.ts';
import { defaultInferenceThreads, physicalCoreCount } from '../../main/engine/models/physicalCores.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { median, type BenchRow, type Benchmark } from './Benchmark.ts';

/** Tokens generated per repetition. */
export const GENERATED_TOKENS = 30;
/** Timed repetitions per thread count (after one untimed warm-up). */
export const FULL_REPETITIONS = 5;
export const QUICK_REPETITIONS = 3;
/** Small context: the prompt and 30 tokens fit with room to spare, and allocation stays quick. */
const CONTEXT_SIZE = 512;

const MESSAGES: ChatMessage[] = [
  { role: 'system', content: 'Answer the question from the documents.' },
  { role: 'user', content: 'Which magazine was started first, Arthur’s Magazine or First for Women?' },
];

export const llmThreadsBenchmark: Benchmark = {
  name: 'llm-threads',
  description: 'tiny GGUF greedy decoding: threads = 1 vs threads = physical cores (oversubscription)',
  async run(context) {
    const dir = context.makeTempDir('reckon-bench-llm-');
    const modelPath = await makeTinyGguf({ path: path.join(dir, 'tiny.gguf') });
    const physical = physicalCoreCount();
    const threadCounts = [...new Set([1, physical, os.availableParallelism()])];
    const repetitions = context.quick ? QUICK_REPETITIONS : FULL_REPETITIONS;

    const medians = new Map<number, number>();
    const rows: BenchRow[] = [];
    for (const threads of threadCounts) {
      context.progress(`threads=${threads}: ${repetitions} × ${GENERATED_TOKENS} tokens`);
      const backend = await createLlamaCppBackend({
        modelPath,
        threads,
        sequences: 1,
        contextSize: CONTEXT_SIZE,
      });
      try {
        await backend.generate({ messages: MESSAGES, maxTokens: GENERATED_TOKENS, temperature: 0 });
        const times: number[] = [];
        let tokens = 0;
        for (let i = 0; i < repetitions; i++) {
          const started = performance.now();
          const result = await backend.generate({
            messages: MESSAGES,
            maxTokens: GENERATED_TOKENS,
            temperature: 0,
          });
          times.push(performance.now() - started);
          tokens = result.completionTokens;
        }
        const ms = median(times);
        medians.set(threads, ms);
        const role = threads === physical ? 'physical cores' : threads === 1 ? 'one thread' : 'logical cores';
        rows.push({
          metric: `threads=${threads} (${role}): median`,
          value: ms,
          unit: 'ms',
          notes: `${tokens} tokens per call, ${(ms / Math.max(1, tokens)).toFixed(2)} ms/token; ${repetitions} reps: ${times.map((t) => t.toFixed(0)).join(', ')} ms`,
        });
      } finally {
        await backend.dispose();
      }
    }
    const one = medians.get(1)!;
    for (const threads of threadCounts) {
      if (threads === 1) continue;
      rows.push({
        metric: `threads=${threads} / threads=1`,
        value: medians.get(threads)! / one,
        unit: '×',
        notes: `> 1 means slower; default is defaultInferenceThreads() = ${defaultInferenceThreads()}`,
      });
    }
    return rows;
  },
};
