/**
 * `program-grammar`: how many generated programs parse with and without the program grammar
 * (buildProgramGrammar), and what the grammar costs per program, on the tiny generated GGUF.
 *
 * Three conditions, the same prompts (one question each, greedy decoding so the run is
 * reproducible): no grammar; the grammar with its default limits; the grammar with bounded limits
 * (tests/fixtures/boundedProgramGrammar.ts) and a token budget above the longest program it allows,
 * so every program must finish. A program "parses" when extractProgram finds it and prepareProgram
 * accepts it; it is "complete" when it also ended before the token budget (a program cut off in a
 * trailing comment, or between two statements, parses but lacks its final `return`). A random model
 * writes nonsense, so these shares say what the grammar guarantees and what running out of tokens
 * costs, not how good any model's programs are.
 *
 * One decoding thread on purpose: llama.cpp's threads spin at a barrier after every token, and on a
 * small shared machine more threads than free cores is far slower (see llm-threads).
 */
import path from 'node:path';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { extractProgram } from '../../main/engine/programs/extractProgram.ts';
import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import { buildProgramGrammar } from '../../main/engine/programs/programGrammar.ts';
import { BOUNDED_PROGRAM_LIMITS } from '../fixtures/boundedProgramGrammar.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { GbnfGrammar } from '../fixtures/sampleGbnf.ts';
import { median, throttle, type BenchRow, type Benchmark } from './Benchmark.ts';

interface ProgramGrammarSizes {
  /** Programs generated per condition. */
  programs: number;
  /** Token budget of the unbounded conditions (no grammar, default limits). */
  maxTokens: number;
}
export const FULL_SIZES: ProgramGrammarSizes = { programs: 50, maxTokens: 256 };
export const QUICK_SIZES: ProgramGrammarSizes = { programs: 8, maxTokens: 128 };
const TOOLS = ['retrieve', 'answer'];
const THREADS = 1;
const CONTEXT_SIZE = 2048;

const SYSTEM_PROMPT =
  'You write a short JavaScript program that answers a question by looking things up. ' +
  'retrieve(query) returns documents; answer(question, docs) returns a short answer. ' +
  'End with: return await answer(`Given: <facts>. Answer the question: <question>`);';
const SUBJECTS = ['the composer of The Planets', 'the longest river in Europe', 'the first Moon landing'];

function messagesFor(i: number): ChatMessage[] {
  const subject = SUBJECTS[i % SUBJECTS.length]!;
  return [
    { role: 'system', content: SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Question ${i + 1}: where was ${subject} born, and in which year? Reply with a \`\`\`javascript block.`,
    },
  ];
}

interface Condition {
  name: string;
  grammar: string | undefined;
  maxTokens: number;
  note: string;
}

interface Outcome {
  /** Programs that extractProgram finds and prepareProgram accepts. */
  parsed: number;
  /** Generations that ended before the token budget (end of grammar or end-of-text token). */
  finished: number;
  /** Both: a whole program that parses, not a prefix that happens to (cut in a comment, say). */
  complete: number;
  ms: number[];
  tokens: number[];
}

export const programGrammarBenchmark: Benchmark = {
  name: 'program-grammar',
  description:
    'tiny GGUF: share of generated programs that parse, program grammar off vs on, and time per program',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    const dir = context.makeTempDir('reckon-bench-grammar-');
    const modelPath = await makeTinyGguf({ path: path.join(dir, 'tiny.gguf') });
    const bounded = buildProgramGrammar({ toolNames: TOOLS, fenced: true, limits: BOUNDED_PROGRAM_LIMITS });
    // +8: room for the end-of-generation token; no program of this grammar needs more.
    const boundedBudget = GbnfGrammar.parse(bounded).maxBytes() + 8;
    const conditions: Condition[] = [
      { name: 'grammar off', grammar: undefined, maxTokens: sizes.maxTokens, note: 'unconstrained' },
      {
        name: 'grammar on',
        grammar: buildProgramGrammar({ toolNames: TOOLS, fenced: true }),
        maxTokens: sizes.maxTokens,
        note: 'default limits',
      },
      {
        name: 'grammar on, bounded',
        grammar: bounded,
        maxTokens: boundedBudget,
        note: 'bounded limits; budget above the longest program',
      },
    ];

    const backend = await createLlamaCppBackend({
      modelPath,
      threads: THREADS,
      sequences: 1,
      contextSize: CONTEXT_SIZE,
    });
    const rows: BenchRow[] = [];
    try {
      // Warm-up, timed on its own: the first call with a grammar compiles it (then it is cached).
      const firstCallMs: number[] = [];
      for (const condition of conditions) {
        const started = performance.now();
        await backend.generate({ messages: messagesFor(0), grammar: condition.grammar, maxTokens: 4 });
        firstCallMs.push(performance.now() - started);
      }
      for (const [i, condition] of conditions.entries()) {
        rows.push({
          metric: `${condition.name}: first call`,
          value: firstCallMs[i]!,
          unit: 'ms',
          notes: `4 tokens; ${condition.grammar === undefined ? 'no grammar' : `compiles the grammar (${condition.grammar.length} characters of GBNF)`}${i === 0 ? '; also warms the model' : ''}`,
        });
      }
      for (const condition of conditions) {
        context.progress(
          `${condition.name}: ${sizes.programs} programs, ≤ ${condition.maxTokens} tokens each`,
        );
        const outcome = await generatePrograms(backend, condition, sizes.programs, context.progress);
        rows.push(...rowsFor(condition, outcome, sizes.programs));
      }
    } finally {
      await backend.dispose();
    }
    return rows;
  },
};

async function generatePrograms(
  backend: LlmBackend,
  condition: Condition,
  programs: number,
  progress: (message: string) => void,
): Promise<Outcome> {
  const outcome: Outcome = { parsed: 0, finished: 0, complete: 0, ms: [], tokens: [] };
  const report = throttle((done: number) => progress(`${condition.name}: ${done}/${programs}`));
  for (let i = 0; i < programs; i++) {
    const started = performance.now();
    const result = await backend.generate({
      messages: messagesFor(i),
      grammar: condition.grammar,
      maxTokens: condition.maxTokens,
      temperature: 0,
    });
    outcome.ms.push(performance.now() - started);
    outcome.tokens.push(result.completionTokens);
    const finished = result.completionTokens < condition.maxTokens;
    const extracted = extractProgram(result.text);
    const parsed = extracted !== undefined && prepareProgram(extracted.code, { hostFunctions: TOOLS }).ok;
    if (finished) outcome.finished++;
    if (parsed) outcome.parsed++;
    if (finished && parsed) outcome.complete++;
    report(i + 1);
  }
  return outcome;
}

function rowsFor(condition: Condition, outcome: Outcome, programs: number): BenchRow[] {
  const meanMs = outcome.ms.reduce((a, b) => a + b, 0) / programs;
  const meanTokens = outcome.tokens.reduce((a, b) => a + b, 0) / programs;
  const totalTokens = outcome.tokens.reduce((a, b) => a + b, 0);
  const totalMs = outcome.ms.reduce((a, b) => a + b, 0);
  return [
    {
      metric: `${condition.name}: programs that parse`,
      value: (100 * outcome.parsed) / programs,
      unit: '%',
      notes:
        `${outcome.parsed}/${programs} pass extractProgram + prepareProgram ` +
        `(${outcome.parsed - outcome.complete} of them cut off by the budget); ${condition.note}`,
    },
    {
      metric: `${condition.name}: complete programs that parse`,
      value: (100 * outcome.complete) / programs,
      unit: '%',
      notes: `${outcome.complete}/${programs} ended before ${condition.maxTokens} tokens and parse; ${outcome.finished} ended before the budget`,
    },
    {
      metric: `${condition.name}: time per program`,
      value: meanMs,
      unit: 'ms',
      notes:
        `mean; median ${median(outcome.ms).toFixed(0)} ms; ${meanTokens.toFixed(0)} tokens on average, ` +
        `${(totalMs / Math.max(1, totalTokens)).toFixed(2)} ms/token; ${THREADS} thread`,
    },
  ];
}
