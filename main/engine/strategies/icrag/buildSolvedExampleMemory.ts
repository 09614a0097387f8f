/**
 * Builds ICRAG's R2 offline: for each solved (task, answer) pair the model writes a program that
 * computes the answer (and, with `withText`, a short natural-language solution for ICRAG_NL), and
 * the example is stored with its fold. Each example is committed on its own, so an interrupted build
 * keeps what it made, and a build run again skips the items the memory already has (resumable).
 */
import type { SolvedExampleMemory } from '../../corpus/memory/SolvedExampleMemory.ts';
import { DEFAULT_MEMORY_FOLDS } from '../../corpus/memory/SolvedExampleMemory.ts';
import { CancelledError, ReckonError, toReckonError } from '../../errors.ts';
import type { LlmBackend } from '../../models/LlmBackend.ts';
import { extractProgram, foreignFenceLanguage, normalizeProgramText } from '../../programs/extractProgram.ts';
import { prepareProgram } from '../../programs/prepareProgram.ts';
import { SIMULATE_TOOL, routeUndefinedCalls } from '../simulation/routeUndefinedCalls.ts';
import { memoryProgramFixMessages, memoryProgramMessages, memoryTextMessages } from './icragPrompts.ts';

/** Program-writing attempts per pair (syntax errors fed back in between). */
export const DEFAULT_MEMORY_PROGRAM_ATTEMPTS = 3;
/** Token budget of one example program. */
export const DEFAULT_MEMORY_PROGRAM_MAX_TOKENS = 768;
/** Token budget of one natural-language solution. */
export const DEFAULT_MEMORY_TEXT_MAX_TOKENS = 256;

/** One solved example to build from: a dataset item's id, its task text and its known answer. */
export interface SolvedPair {
  id: string;
  task: string;
  answer: string;
}

export interface BuildMemoryProgress {
  /** Pairs handled so far (built, skipped or failed). */
  done: number;
  total: number;
  built: number;
  skipped: number;
  failed: number;
  /** The item just handled. */
  itemId: string;
}

export interface BuildMemoryOptions {
  /** A memory opened for writing. */
  memory: SolvedExampleMemory;
  llm: LlmBackend;
  pairs: readonly SolvedPair[];
  /** k of k-fold: pair i goes to fold i mod k. Default DEFAULT_MEMORY_FOLDS (5). */
  folds?: number;
  /** Also ask for a natural-language solution per pair (ICRAG_NL). Default false. */
  withText?: boolean;
  /** Default DEFAULT_MEMORY_PROGRAM_ATTEMPTS (3). */
  maxAttempts?: number;
  /** Default DEFAULT_MEMORY_PROGRAM_MAX_TOKENS (768). */
  maxTokens?: number;
  /** Default DEFAULT_MEMORY_TEXT_MAX_TOKENS (256). */
  textMaxTokens?: number;
  signal?: AbortSignal;
  onProgress?: (progress: BuildMemoryProgress) => void;
  now?: () => number;
}

export interface BuildMemoryResult {
  total: number;
  /** Examples made by this build. */
  built: number;
  /** Pairs the memory already had (an earlier, interrupted build). */
  skipped: number;
  /** Pairs for which no program would parse (recorded; a later build tries them again). */
  failed: number;
  /** True when the build stopped early because it was cancelled; what it built is kept. */
  cancelled: boolean;
}

/**
 * Builds (or resumes building) `memory` from `pairs`. Fold of pair i: i mod `folds` (its position in
 * `pairs`, so build again from the same file and options to resume). A pair whose program never
 * parses after `maxAttempts` is recorded as a failure and the build goes on; a cancelled signal
 * stops it between model calls with `cancelled: true`. Model errors other than cancellation
 * propagate (a ReckonError), after everything before them was saved.
 */
export async function buildSolvedExampleMemory(options: BuildMemoryOptions): Promise<BuildMemoryResult> {
  const folds = options.folds ?? DEFAULT_MEMORY_FOLDS;
  if (!Number.isInteger(folds) || folds < 1)
    throw new ReckonError(
      'INVALID_ARGUMENT',
      `The number of folds must be a whole number ≥ 1; got ${folds}.`,
    );
  const now = options.now ?? Date.now;
  const have = options.memory.itemIds();
  const result: BuildMemoryResult = {
    total: options.pairs.length,
    built: 0,
    skipped: 0,
    failed: 0,
    cancelled: false,
  };
  const report = (itemId: string): void =>
    options.onProgress?.({
      done: result.built + result.skipped + result.failed,
      total: result.total,
      built: result.built,
      skipped: result.skipped,
      failed: result.failed,
      itemId,
    });

  for (const [index, pair] of options.pairs.entries()) {
    if (options.signal?.aborted) {
      result.cancelled = true;
      break;
    }
    if (have.has(pair.id)) {
      result.skipped++;
      report(pair.id);
      continue;
    }
    try {
      const program = await writeExampleProgram(options, pair);
      if (!program.ok) {
        options.memory.addFailure(pair.id, program.reason, now());
        result.failed++;
      } else {
        const text = options.withText
          ? (
              await options.llm.generate({
                role: 'memory-text',
                messages: memoryTextMessages(pair.task, pair.answer),
                maxTokens: options.textMaxTokens ?? DEFAULT_MEMORY_TEXT_MAX_TOKENS,
                ...(options.signal ? { signal: options.signal } : {}),
              })
            ).text.trim()
          : null;
        options.memory.add(
          {
            itemId: pair.id,
            task: pair.task,
            answer: pair.answer,
            program: program.code,
            text,
            fold: index % folds,
          },
          now(),
        );
        result.built++;
      }
    } catch (error) {
      if (options.signal?.aborted || toReckonError(error).code === 'CANCELLED') {
        result.cancelled = true;
        break;
      }
      throw error;
    }
    report(pair.id);
  }
  return result;
}

/** Asks for a program for one pair until one parses (the same checks a run applies). */
async function writeExampleProgram(
  options: BuildMemoryOptions,
  pair: SolvedPair,
): Promise<{ ok: true; code: string } | { ok: false; reason: string }> {
  const attempts = options.maxAttempts ?? DEFAULT_MEMORY_PROGRAM_ATTEMPTS;
  let messages = memoryProgramMessages(pair.task, pair.answer);
  let reason = 'no attempt was made';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (options.signal?.aborted) throw new CancelledError();
    const output = await options.llm.generate({
      role: 'memory-program',
      messages,
      maxTokens: options.maxTokens ?? DEFAULT_MEMORY_PROGRAM_MAX_TOKENS,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const language = foreignFenceLanguage(output.text);
    const code = normalizeProgramText(extractProgram(output.text)?.code ?? output.text);
    let problem: { message: string; line: number | null; language?: string };
    if (language !== undefined) {
      problem = { message: `The reply is ${language} code, not JavaScript.`, line: null, language };
    } else {
      const routed = routeUndefinedCalls(code);
      const prepared = routed.ok
        ? prepareProgram(routed.source, { hostFunctions: [SIMULATE_TOOL] })
        : { ok: false as const, error: routed.error };
      if (prepared.ok) return { ok: true, code };
      problem = { message: prepared.error.message, line: prepared.error.line ?? null };
    }
    reason = `attempt ${attempt}: ${problem.message}`;
    messages = memoryProgramFixMessages(pair.task, pair.answer, code, { kind: 'SyntaxError', ...problem });
  }
  return { ok: false, reason: `No program would parse after ${attempts} attempts (${reason}).` };
}
