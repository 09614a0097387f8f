/**
 * The app service's run commands: the strategies, starting a run (the active model unless one is
 * given, the sandbox and retry settings applied), replaying a saved run with its recorded outputs,
 * cancelling, listing, reading and exporting runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CommandOutput } from '../../../preload/contract.ts';
import { ReckonError, toReckonError } from '../errors.ts';
import { parseModelSpec } from '../models/createLlmBackend.ts';
import type { RunSummary } from '../runs/RunStore.ts';
import { startRun, type RunHandle } from '../runs/startRun.ts';
import { strategyRegistry } from '../strategies/registry.ts';
import { atomicWriteFileSync } from '../util/atomicWrite.ts';
import { programRerunRequest } from './programRerunRequest.ts';
import { recordedRunSettings, replayRequestFor, type ReplayRequest } from './replayRequestFor.ts';
import type { Handlers, ServiceContext } from './ServiceContext.ts';

/** Folder of `<dataDir>` where replayRun writes the replay file of each run it replays. */
export const REPLAYS_DIR = 'replays';

/** What launchRun needs: startRun's input, or a replayed run's settings with its replay model. */
type LaunchRunRequest = Omit<ReplayRequest, 'corpus'> & {
  corpus: string | null;
  /** Default: the active model from Settings. */
  model?: string;
};

type RunCommands =
  | 'listStrategies'
  | 'startRun'
  | 'replayRun'
  | 'rerunProgram'
  | 'cancelRun'
  | 'listRuns'
  | 'getRun'
  | 'exportRun';

export function createRunHandlers(ctx: ServiceContext): Pick<Handlers, RunCommands> {
  const { options, engine, settings, runs, emit, now, warn, llmProvider, activeRuns } = ctx;

  /**
   * Starts a run the way startRun does (the active model unless one is given, the sandbox and
   * retry settings applied), streams its events and tracks it for cancelRun and close().
   */
  function launchRun({ question, corpus, strategy, options, model, k, mode }: LaunchRunRequest): {
    runId: string;
  } {
    const current = settings.get();
    const spec = model ?? current.activeModel;
    if (spec === null) {
      throw new ReckonError(
        'NO_MODEL',
        'No model is chosen to answer questions. Choose a model in the Models view (or download one there), then ask again.',
      );
    }
    parseModelSpec(spec);
    // Fail before loading a model when the corpus is not there.
    if (corpus !== null && !engine.library.exists(corpus)) engine.library.open(corpus).close();
    const handle = startRun(
      {
        kind: 'question',
        question,
        strategy,
        ...(options ? { options } : {}),
        model: spec,
        corpus,
        ...(k !== undefined ? { topK: k } : {}),
        ...(mode ? { searchMode: mode } : {}),
        retry: current.retry,
        sandboxLimits: current.sandbox,
      },
      { engine, llm: llmProvider, store: runs(), now },
    );
    return follow(handle);
  }

  /** Streams a started run's events and tracks it for cancelRun and close(). */
  function follow(handle: RunHandle): { runId: string } {
    const unsubscribe = handle.on((event) => emit('onDidRecordTraceStep', event));
    const done = handle.done
      .catch((error: unknown) =>
        warn(`Run ${handle.runId} failed unexpectedly: ${toReckonError(error).message}`),
      )
      .finally(() => {
        unsubscribe();
        activeRuns.delete(handle.runId);
      });
    activeRuns.set(handle.runId, { handle, done });
    return { runId: handle.runId };
  }

  return {
    listStrategies: () => ({ strategies: strategyRegistry.list() }),

    startRun: (input) => launchRun(input),

    replayRun({ runId }) {
      const found = runs().getRun(runId);
      if (!found) throw runNotFound(runId);
      const { run } = found;
      if (run.status === 'running') {
        throw new ReckonError(
          'RUN_ACTIVE',
          `Run ${runId} is still running; wait for it to finish (or cancel it), then replay it.`,
        );
      }
      if (run.recordedCalls === 0) {
        throw new ReckonError(
          'REPLAY_EMPTY',
          `Run ${runId} has no recorded model outputs (it stopped before its first model call), so there is nothing to replay. Ask the question again instead.`,
        );
      }
      const request = replayRequestFor(run);
      // REPLAY_INCOMPLETE when an output is missing: a replay would serve later outputs to the wrong calls.
      const content = runs().exportReplay(runId);
      const dir = path.join(options.dataDir, REPLAYS_DIR);
      fs.mkdirSync(dir, { recursive: true });
      // Run ids are file-name safe when Reckon made them; keep any other id inside the folder.
      const file = path.join(dir, `${runId.replace(/[^A-Za-z0-9._-]/g, '_')}.jsonl`);
      atomicWriteFileSync(file, content);
      return launchRun({ ...request, model: `replay:${file}` });
    },

    rerunProgram({ fromRunId, program, execution, model }) {
      const request = programRerunRequest(
        {
          fromRunId,
          code: program,
          ...(execution !== undefined ? { execution } : {}),
          ...(model !== undefined ? { model } : {}),
        },
        { engine, store: runs() },
      );
      if (request.model !== null) parseModelSpec(request.model);
      const current = settings.get();
      return follow(
        startRun(
          { ...request, retry: current.retry, sandboxLimits: current.sandbox },
          { engine, llm: llmProvider, store: runs(), now },
        ),
      );
    },

    cancelRun({ runId }) {
      const active = activeRuns.get(runId);
      if (active) active.handle.cancel();
      else if (runs().getRun(runId) === undefined) throw runNotFound(runId);
      return { ok: true as const };
    },

    listRuns({ limit, search }) {
      return {
        runs: runs()
          .listRuns({
            ...(limit !== undefined ? { limit } : {}),
            ...(search !== undefined ? { search } : {}),
          })
          .map(toRunSummary),
      };
    },

    getRun({ runId }) {
      const found = runs().getRun(runId);
      if (!found) throw runNotFound(runId);
      return {
        run: toRunSummary(found.run),
        events: found.events,
        childRunIds: runs().childRunIds(runId),
      };
    },

    exportRun({ runId, format }) {
      if (format === 'replay') {
        return {
          fileName: `${runId}.replay.jsonl`,
          mimeType: 'application/x-ndjson',
          content: runs().exportReplay(runId),
        };
      }
      return {
        fileName: `${runId}.json`,
        mimeType: 'application/json',
        content: `${JSON.stringify(runs().exportRun(runId), null, 2)}\n`,
      };
    },
  };
}

function toRunSummary(run: RunSummary): CommandOutput<'getRun'>['run'] {
  return {
    id: run.id,
    createdAt: run.createdAt,
    finishedAt: run.finishedAt,
    question: run.question,
    corpus: run.corpus,
    strategy: run.strategy,
    model: run.model,
    status: run.status,
    answer: run.answer,
    error: run.error,
    metrics: run.metrics,
    recordedCalls: run.recordedCalls,
    parentRunId: run.parentRunId,
    ...summarySettings(run),
  };
}

/** What Re-run restores: the settings the run recorded, null where it recorded none. */
function summarySettings(
  run: RunSummary,
): Pick<CommandOutput<'getRun'>['run'], 'strategyOptions' | 'k' | 'mode'> {
  const { options, k, mode } = recordedRunSettings(run.options);
  return { strategyOptions: options ?? null, k: k ?? null, mode: mode ?? null };
}

function runNotFound(runId: string): ReckonError {
  return new ReckonError(
    'RUN_NOT_FOUND',
    `There is no run with id ${runId}. It may have been deleted; the Runs view lists the saved ones.`,
  );
}
