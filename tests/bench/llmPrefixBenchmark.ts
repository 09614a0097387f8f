/**
 * `llm-prefix`: an answer() call whose prompt shares a ~1,000-token prefix (instructions and
 * documents) with the call before it, against a cold call whose prefix is new, side by side on one
 * llama.cpp sequence. LlamaCppBackend keeps each sequence's KV cache between calls and evaluates
 * only what follows the shared prefix (`cachedPromptTokens` in the result), so the warm call pays
 * for the question and the reply only. Model: Qwen2.5-0.5B's widths with fewer layers (random
 * weights, Q8_0), decoded greedily with 1 thread.
 */
import os from 'node:os';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage, GenerateResult, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { makeBenchGguf } from './benchGguf.ts';
import { median, type BenchRow, type Benchmark } from './Benchmark.ts';

interface LlmPrefixSizes {
  /** Layers of the Qwen-shaped model. */
  blocks: number;
  /** Cold/warm pairs measured (after one untimed warm-up call). */
  repetitions: number;
}
export const FULL_SIZES: LlmPrefixSizes = { blocks: 4, repetitions: 4 };
export const QUICK_SIZES: LlmPrefixSizes = { blocks: 2, repetitions: 2 };
/** llama.cpp threads: 1, because its threads spin and this machine's cores are shared. */
const THREADS = 1;
/** A short answer, as answer() gives. */
const ANSWER_TOKENS = 16;
const CONTEXT_SIZE = 2048;
/** The ratio the issue asks for: warm ≤ 0.15 × cold. */
const TARGET = 0.15;

/** Instructions and documents: about 1,000 tokens on the fixture's vocabulary. */
function prefix(session: number): string {
  const documents = Array.from(
    { length: 24 },
    (_, i) => `Document ${i}: the magazine was started in ${1800 + i} by a publisher in the city.`,
  ).join('\n');
  // The session number comes first, so a new session shares nothing with the cached prompt.
  return `Session ${session}. Answer the question from the documents.\n${documents}`;
}

function messages(session: number, question: string): ChatMessage[] {
  return [
    { role: 'system', content: prefix(session) },
    { role: 'user', content: question },
  ];
}

export const llmPrefixBenchmark: Benchmark = {
  name: 'llm-prefix',
  description: 'answer() sharing a ~1,000-token prefix with the call before (KV cache kept) vs a cold call',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    context.progress(`writing a ${sizes.blocks}-layer Qwen-shaped GGUF`);
    const model = await makeBenchGguf({
      dir: context.makeTempDir('reckon-bench-prefix-'),
      blocks: sizes.blocks,
    });
    const backend = await createLlamaCppBackend({
      modelPath: model.path,
      threads: THREADS,
      sequences: 1,
      contextSize: CONTEXT_SIZE,
    });
    const loadAverage = os.loadavg()[0] ?? Number.NaN;
    const cold: number[] = [];
    const warm: number[] = [];
    let last: { cold: GenerateResult; warm: GenerateResult } | undefined;
    try {
      await call(backend, messages(0, 'Which magazine was started first?'));
      for (let session = 1; session <= sizes.repetitions; session++) {
        const first = await call(backend, messages(session, 'Which magazine was started first?'));
        const second = await call(backend, messages(session, 'Who started the magazine?'));
        cold.push(first.ms);
        warm.push(second.ms);
        last = { cold: first.result, warm: second.result };
        context.progress(
          `session ${session}: cold ${first.ms.toFixed(0)} ms, warm ${second.ms.toFixed(0)} ms`,
        );
      }
    } finally {
      await backend.dispose();
    }
    const setting = `${model.label}; threads=${THREADS}; ${ANSWER_TOKENS}-token answers; load avg ${loadAverage.toFixed(2)}`;
    const rows: BenchRow[] = [
      {
        metric: 'cold call (new prefix): median',
        value: median(cold),
        unit: 'ms',
        notes: `${last?.cold.promptTokens} prompt tokens, ${last?.cold.cachedPromptTokens} cached; ${setting}`,
      },
      {
        metric: 'warm call (shared prefix): median',
        value: median(warm),
        unit: 'ms',
        notes: `${last?.warm.promptTokens} prompt tokens, ${last?.warm.cachedPromptTokens} cached`,
      },
      {
        metric: 'warm / cold',
        value: median(warm) / median(cold),
        unit: '×',
        notes: `target ≤ ${TARGET}; pairs ${cold.map((c, i) => `${(warm[i]! / c).toFixed(2)}`).join(', ')}`,
      },
    ];
    return rows;
  },
};

async function call(
  backend: LlmBackend,
  messages: ChatMessage[],
): Promise<{ ms: number; result: GenerateResult }> {
  const started = performance.now();
  const result = await backend.generate({ messages, maxTokens: ANSWER_TOKENS, temperature: 0 });
  return { ms: performance.now() - started, result };
}
