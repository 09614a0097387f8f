/**
 * What replaying a saved run asks for: the run's own question, corpus and strategy, and the k and
 * search mode it ran with when its stored options record them (runs started by startRun keep their
 * whole RunRequest there: `topK`, `searchMode`). The model is the caller's: a replay file of the
 * run's recorded outputs.
 */
import { z } from 'zod';
import { searchModeSchema, strategySchema } from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';
import type { RunSummary } from '../runs/RunStore.ts';

/** The run settings a replay repeats. */
export interface ReplayRequest {
  question: string;
  corpus: string | null;
  strategy: z.output<typeof strategySchema>;
  /** Passages per retrieve() call; absent when the run did not record one. */
  k?: number;
  /** Absent when the run did not record one. */
  mode?: z.output<typeof searchModeSchema>;
}

const topKSchema = z.number().int().positive();

/**
 * The ReplayRequest for `run`. Options that are missing or not understood are left out (the run
 * used the defaults then). A run whose strategy the app cannot start (a user program run from the
 * command line) is ReckonError 'REPLAY_UNSUPPORTED'.
 */
export function replayRequestFor(
  run: Pick<RunSummary, 'id' | 'question' | 'corpus' | 'strategy' | 'options'>,
): ReplayRequest {
  const strategy = strategySchema.safeParse(run.strategy);
  if (!strategy.success) {
    throw new ReckonError(
      'REPLAY_UNSUPPORTED',
      `Run ${run.id} used the "${run.strategy}" strategy, which the app cannot start. Export its ` +
        `replay file and run it again from the command line (reckon run-program --model replay:<file>).`,
    );
  }
  const options: Record<string, unknown> =
    typeof run.options === 'object' && run.options !== null ? (run.options as Record<string, unknown>) : {};
  const k = topKSchema.safeParse(options.topK);
  const mode = searchModeSchema.safeParse(options.searchMode);
  return {
    question: run.question,
    corpus: run.corpus,
    strategy: strategy.data,
    ...(k.success ? { k: k.data } : {}),
    ...(mode.success ? { mode: mode.data } : {}),
  };
}
