import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import { Option } from 'commander';
import fs from 'node:fs';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { TracePrinter } from '../TracePrinter.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import { DEFAULT_RUN_TOP_K, startRun, type RunRequest, type RunResult } from '../../engine/runs/startRun.ts';
import { describeRange, strategyRegistry } from '../../engine/strategies/registry.ts';
import { DEFAULT_STRATEGY_ID } from '../../../preload/contract.ts';
import {
  denseUnavailableError,
  SEARCH_MODES,
  type SearchMode,
} from '../../engine/corpus/search/searchCorpus.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../../engine/sandbox/SandboxTypes.ts';
import { ReckonError } from '../../engine/errors.ts';
import { checkRunArguments } from './checkRunArguments.ts';
import { programRerunRequest } from '../../engine/app/programRerunRequest.ts';

interface RunCliOptions {
  corpus?: string;
  model?: string;
  k: number;
  mode: SearchMode;
  threads?: number;
  contextSize?: number;
  deadlineMs?: number;
  retryAttempts?: number;
  retryBaseMs?: number;
  forceReplay?: boolean;
  json?: boolean;
}

function addRunOptions(command: Command): Command {
  return command
    .option('-k, --k <n>', 'passages per retrieve() call', parsePositiveInt, DEFAULT_RUN_TOP_K)
    .addOption(
      new Option('--mode <mode>', 'search behind retrieve()').choices(SEARCH_MODES).default('hybrid'),
    )
    .option('--threads <n>', 'llama.cpp threads (default: physical cores less one)', parsePositiveInt)
    .option('--context-size <n>', 'llama.cpp context size in tokens', parsePositiveInt)
    .option(
      '--deadline-ms <n>',
      `sandbox deadline per program run (default ${DEFAULT_SANDBOX_LIMITS.deadlineMs})`,
      parsePositiveInt,
    )
    .option('--retry-attempts <n>', 'attempts per model call before giving up (default 4)', parsePositiveInt)
    .option('--retry-base-ms <n>', 'first backoff delay in ms (default 500)', parsePositiveInt)
    .option(
      '--force-replay',
      'with --model replay:<file>, play the recorded outputs even where the prompts differ from the recording (a warning instead of REPLAY_MISMATCH)',
    )
    .option('--json', 'print the whole run (events included) as JSON');
}

export function registerAsk(program: Command, run: CommandRunner): void {
  addRunOptions(
    program
      .command('ask')
      .description(COMMAND_SUMMARIES.ask.description)
      .argument('<question>')
      .option('-c, --corpus <name>', 'corpus to search (methods that need one say so)')
      .option(
        '--memory <name>',
        'memory of solved examples for strategies that take one (icrag): --option memory=<name>',
      )
      .requiredOption('-m, --model <spec>', 'a .gguf file, openai:<baseURL>#<model>, or replay:<file.jsonl>')
      .addOption(
        new Option('--strategy <id>', 'method (reckon strategies lists them)')
          .choices(strategyRegistry.ids())
          .default(DEFAULT_STRATEGY_ID),
      )
      .option(
        '-o, --option <key=value>',
        "a strategy option, repeatable (reckon strategies lists each strategy's options and defaults)",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      ),
  ).action(
    (question: string, options: RunCliOptions & { strategy: string; option: string[]; memory?: string }) =>
      run((ctx) =>
        executeRun(
          ctx,
          {
            kind: 'question',
            question,
            strategy: options.strategy,
            options: strategyRegistry.parseOptionPairs(options.strategy, [
              ...options.option,
              ...(options.memory !== undefined ? [`memory=${options.memory}`] : []),
            ]),
            model: options.model!,
            ...common(options),
          },
          options,
        ),
      ),
  );

  program
    .command('strategies')
    .description(COMMAND_SUMMARIES.strategies.description)
    .option('--json', 'print them as JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        const strategies = strategyRegistry.list();
        if (options.json) {
          ctx.json({ strategies });
          return ExitCode.OK;
        }
        for (const strategy of strategies) {
          ctx.out(`${strategy.id} — ${strategy.label}`);
          ctx.out(`  ${strategy.description}`);
          ctx.out(`  corpus: ${strategy.corpus}`);
          if (strategy.options.length > 0) ctx.out('  options (--option key=value):');
          for (const option of strategy.options)
            ctx.out(
              `    ${option.key} = ${String(option.default)}  (${describeRange(option)}) ${option.description}`,
            );
          ctx.out('');
        }
        return ExitCode.OK;
      }),
    );

  addRunOptions(
    program
      .command('run-program')
      .description(COMMAND_SUMMARIES['run-program'].description)
      .argument('<file>', 'JavaScript file')
      .option('-c, --corpus <name>', 'corpus searched by retrieve()')
      .option('-m, --model <spec>', "model used by answer() (with --from-run: default that run's model)")
      .option(
        '--from-run <id>',
        "run the file as an edited version of a saved run's program: on that run's corpus, model, k and search mode, reusing its recorded results for unchanged calls",
      )
      .option(
        '--execution <n>',
        'with --from-run, the execution whose results are reused (default: its last successful one)',
        parsePositiveInt,
      ),
  ).action((file: string, options: RunCliOptions & { fromRun?: string; execution?: number }) =>
    run((ctx) => {
      let code: string;
      try {
        code = fs.readFileSync(file, 'utf8');
      } catch (error) {
        throw new ReckonError('FILE_NOT_FOUND', `Cannot read ${file}: ${(error as Error).message}`);
      }
      if (options.fromRun === undefined) {
        if (options.execution !== undefined)
          throw new ReckonError('CONFLICTING_OPTIONS', '--execution only applies with --from-run <id>.');
        return executeRun(
          ctx,
          { kind: 'program', code, model: options.model ?? null, ...common(options) },
          options,
        );
      }
      if (options.corpus !== undefined) {
        throw new ReckonError(
          'CONFLICTING_OPTIONS',
          `--from-run reuses run ${options.fromRun}'s corpus (its recorded passages come from it); leave out --corpus.`,
        );
      }
      const edited = programRerunRequest(
        {
          fromRunId: options.fromRun,
          code,
          ...(options.execution !== undefined ? { execution: options.execution } : {}),
          ...(options.model !== undefined ? { model: options.model } : {}),
        },
        { engine: ctx.engine, store: ctx.runStore },
      );
      const { sandboxLimits, retry } = common(options);
      return executeRun(
        ctx,
        { ...edited, ...(sandboxLimits ? { sandboxLimits } : {}), ...(retry ? { retry } : {}) },
        options,
      );
    }),
  );
}

function common(
  options: RunCliOptions,
): Omit<RunRequest, 'kind' | 'question' | 'strategy' | 'model' | 'code'> {
  return {
    corpus: options.corpus ?? null,
    topK: options.k,
    searchMode: options.mode,
    ...(options.deadlineMs ? { sandboxLimits: { deadlineMs: options.deadlineMs } } : {}),
    ...(options.retryAttempts || options.retryBaseMs
      ? {
          retry: {
            ...(options.retryAttempts ? { maxAttempts: options.retryAttempts } : {}),
            ...(options.retryBaseMs ? { baseDelayMs: options.retryBaseMs } : {}),
          },
        }
      : {}),
  };
}

async function executeRun(ctx: CliContext, request: RunRequest, options: RunCliOptions): Promise<number> {
  // A bad question or model is a usage error: say so before a run is recorded.
  checkRunArguments(
    { ...(request.kind === 'question' ? { question: request.question } : {}), model: request.model },
    ctx.settings.modelsDir,
  );
  if (request.corpus && !ctx.engine.library.exists(request.corpus)) {
    // Fail before loading a model.
    ctx.engine.library.open(request.corpus).close();
  }
  if (request.corpus && request.searchMode === 'dense') {
    // --mode dense on a corpus without vectors is a usage error, before a run is recorded.
    const retriever = ctx.engine.openRetriever(request.corpus);
    try {
      const reason = (await retriever.denseUnavailable?.()) ?? null;
      if (reason !== null) throw denseUnavailableError(reason);
    } finally {
      retriever.close();
    }
  }
  const handle = startRun(request, {
    engine: ctx.engine,
    llm: ctx.llmProvider({
      ...(options.threads ? { threads: options.threads } : {}),
      ...(options.contextSize ? { contextSize: options.contextSize } : {}),
      ...(options.forceReplay ? { replayMismatch: 'warn' as const } : {}),
    }),
    store: ctx.runStore,
  });
  const onAbort = (): void => handle.cancel();
  ctx.signal.addEventListener('abort', onAbort);
  if (!options.json) {
    const metricLabels =
      request.kind === 'question'
        ? Object.fromEntries(
            (strategyRegistry.list().find((info) => info.id === request.strategy)?.metrics ?? []).map((m) => [
              m.key,
              m.label,
            ]),
          )
        : { cachedCalls: 'Cached calls' };
    const printer = new TracePrinter((line) => ctx.out(line), { metricLabels });
    handle.on((event) => printer.print(event));
  }
  let result: RunResult;
  try {
    result = await handle.done;
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  if (options.json) ctx.json(result);
  else ctx.err(`Saved as run ${result.runId} (reckon runs show ${result.runId}).`);
  return result.status === 'succeeded'
    ? ExitCode.OK
    : result.status === 'cancelled'
      ? ExitCode.CANCELLED
      : ExitCode.ERROR;
}
