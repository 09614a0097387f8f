/**
 * What replaying a saved run asks for: the run's own question, corpus, strategy and strategy
 * options, and the k and search mode it ran with when its stored options record them (runs started
 * by startRun keep their whole RunRequest there: `topK`, `searchMode`, `options`). The model is the
 * caller's: a replay file of the run's recorded outputs.
 */
import { z } from 'zod';
import { searchModeSchema, strategyOptionValuesSchema } from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';
import type { RunSummary } from '../runs/RunStore.ts';
import { strategyRegistry } from '../strategies/registry.ts';

/** The run settings a replay repeats. */
export interface ReplayRequest {
  question: string;
  corpus: string | null;
  /** A registered strategy id. */
  strategy: string;
  /** The strategy options the run used; absent when it did not record them (defaults then). */
  options?: z.output<typeof strategyOptionValuesSchema>;
  /** Passages per retrieve() call; absent when the run did not record one. */
  k?: number;
  /** Absent when the run did not record one. */
  mode?: z.output<typeof searchModeSchema>;
}

const topKSchema = z.number().int().positive();

/** What a run's recorded request says of its settings; each is absent when not recorded or not understood. */
export interface RecordedRunSettings {
  options?: z.output<typeof strategyOptionValuesSchema>;
  k?: number;
  mode?: z.output<typeof searchModeSchema>;
}

/**
 * Reads the strategy options, k and search mode from a run's recorded request (startRun keeps the
 * whole RunRequest: `options`, `topK`, `searchMode`). Used by replay and by run summaries (Re-run).
 */
export function recordedRunSettings(recorded: unknown): RecordedRunSettings {
  const request: Record<string, unknown> =
    typeof recorded === 'object' && recorded !== null ? (recorded as Record<string, unknown>) : {};
  const k = topKSchema.safeParse(request.topK);
  const mode = searchModeSchema.safeParse(request.searchMode);
  const options = strategyOptionValuesSchema.safeParse(request.options);
  return {
    ...(options.success ? { options: options.data } : {}),
    ...(k.success ? { k: k.data } : {}),
    ...(mode.success ? { mode: mode.data } : {}),
  };
}

/**
 * The ReplayRequest for `run`. Options that are missing or not understood are left out (the run
 * used the defaults then). A run whose strategy the app cannot start (a user program run from the
 * command line) is ReckonError 'REPLAY_UNSUPPORTED'.
 */
export function replayRequestFor(
  run: Pick<RunSummary, 'id' | 'question' | 'corpus' | 'strategy' | 'options'>,
): ReplayRequest {
  // A user program run saved before PROGRAM was registered recorded "program" as its strategy; its
  // recorded request (kind "program") tells it apart from a run of the PROGRAM strategy.
  const userProgram =
    typeof run.options === 'object' &&
    run.options !== null &&
    (run.options as { kind?: unknown }).kind === 'program';
  if (userProgram || !strategyRegistry.has(run.strategy)) {
    throw new ReckonError(
      'REPLAY_UNSUPPORTED',
      `Run ${run.id} used the "${run.strategy}" strategy, which the app cannot start. Export its ` +
        `replay file and run it again from the command line (reckon run-program --model replay:<file>).`,
    );
  }
  return {
    question: run.question,
    corpus: run.corpus,
    strategy: run.strategy,
    ...recordedRunSettings(run.options),
  };
}
