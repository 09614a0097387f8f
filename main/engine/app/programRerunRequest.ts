/**
 * What re-running a saved run with an edited program asks startRun for: the edited code as a user
 * program, on the run's own corpus, model, k and search mode, with the tool results one of its
 * executions recorded so that every call whose inputs are unchanged is served from them (marked
 * cached), and the run it came from as the new run's parent. The app (rerunProgram) and the CLI
 * (`reckon run-program --from-run`) both start edited runs through it.
 */
import type { Engine } from '../createEngine.ts';
import { ReckonError } from '../errors.ts';
import { recordedToolResults } from '../runs/recordedToolResults.ts';
import type { RunStore } from '../runs/RunStore.ts';
import { DEFAULT_RUN_TOP_K, type RunRequest } from '../runs/startRun.ts';
import { recordedRunSettings } from './replayRequestFor.ts';

export interface ProgramRerunOptions {
  /** The saved run whose program was edited. */
  fromRunId: string;
  /** The edited program. */
  code: string;
  /** The execution of that run whose tool results are reused. Default: its last one that ended without a runtime error, else its last. */
  execution?: number;
  /** The model answer() uses (a spec, or null for none). Default: the run's own model. */
  model?: string | null;
}

export type ProgramRerunRequest = Extract<RunRequest, { kind: 'program' }>;

/**
 * The RunRequest for an edited program of run `fromRunId`. An unknown run is ReckonError
 * 'RUN_NOT_FOUND', a running one 'RUN_ACTIVE', an empty program 'EMPTY_PROGRAM', an execution the
 * run does not have 'EXECUTION_NOT_FOUND'; a corpus that has gone is CorpusNotFoundError.
 */
export function programRerunRequest(
  options: ProgramRerunOptions,
  deps: { engine: Engine; store: RunStore },
): ProgramRerunRequest {
  const { fromRunId, code } = options;
  const found = deps.store.getRun(fromRunId);
  if (!found) {
    throw new ReckonError(
      'RUN_NOT_FOUND',
      `There is no run with id ${fromRunId}. It may have been deleted; the History view (reckon runs list) shows the saved ones.`,
    );
  }
  const { run, events } = found;
  if (run.status === 'running') {
    throw new ReckonError(
      'RUN_ACTIVE',
      `Run ${fromRunId} is still running; wait for it to finish (or cancel it), then run an edited program from it.`,
    );
  }
  if (code.trim() === '') {
    throw new ReckonError(
      'EMPTY_PROGRAM',
      'The edited program is empty; write the program to run, then run it.',
    );
  }
  if (
    options.execution !== undefined &&
    !events.some((e) => e.type === 'execution-started' && e.execution === options.execution)
  ) {
    throw new ReckonError(
      'EXECUTION_NOT_FOUND',
      `Run ${fromRunId} has no execution ${options.execution}; its trace lists the executions it made.`,
    );
  }
  const corpus = run.corpus;
  // Fails with CorpusNotFoundError before anything else when the corpus has gone.
  if (corpus !== null && !deps.engine.library.exists(corpus)) deps.engine.library.open(corpus).close();
  const { k, mode } = recordedRunSettings(run.options);
  const topK = k ?? DEFAULT_RUN_TOP_K;
  const recorded = recordedToolResults(events, {
    ...(options.execution !== undefined ? { execution: options.execution } : {}),
    topK,
    readChunks: (ids) => {
      if (corpus === null) return new Map();
      const opened = deps.engine.library.open(corpus);
      try {
        return opened.store.getChunks(ids);
      } finally {
        opened.close();
      }
    },
  });
  return {
    kind: 'program',
    code,
    model: options.model !== undefined ? options.model : run.model === 'none' ? null : run.model,
    question: run.question,
    parentRunId: run.id,
    corpus,
    topK,
    ...(mode ? { searchMode: mode } : {}),
    reuse: recorded.results,
  };
}
