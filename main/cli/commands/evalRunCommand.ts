import { InvalidArgumentError, Option, type Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { ProgressBar, formatSeconds } from '../ProgressBar.ts';
import { sanitizeTerminalText } from '../sanitizeTerminalText.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import type { EmbedderChoice } from '../../engine/createEngine.ts';
import { SEARCH_MODES, type SearchMode } from '../../engine/corpus/search/searchCorpus.ts';
import { InvalidStrategyOptionsError, strategyRegistry } from '../../engine/strategies/registry.ts';
import { DEFAULT_RUN_TOP_K } from '../../engine/runs/startRun.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../../engine/sandbox/SandboxTypes.ts';
import { ReckonError } from '../../engine/errors.ts';
import { EVAL_DATASET_FORMATS, type EvalDatasetFormat } from '../../engine/eval/datasets/EvalItem.ts';
import { loadEvalDataset } from '../../engine/eval/datasets/loadEvalDataset.ts';
import { METRIC_INFO } from '../../engine/eval/scoring/EvalScore.ts';
import { EvalResultsFile } from '../../engine/eval/run/EvalResultsFile.ts';
import { evalReportColumns, formatPValue } from '../../engine/eval/run/evalReportColumns.ts';
import { prepareEvalCorpus } from '../../engine/eval/run/prepareEvalCorpus.ts';
import {
  DEFAULT_EVAL_CONCURRENCY,
  hashDatasetBytes,
  runEvaluation,
  type EvalMethodSpec,
  type EvalProgressEvent,
} from '../../engine/eval/run/runEvaluation.ts';
import { summarizeEvaluation } from '../../engine/eval/run/summarizeEvaluation.ts';
import { writeEvalReports } from '../../engine/eval/run/writeEvalReports.ts';

/** Output folder when --out is not given. */
export const DEFAULT_EVAL_OUT = 'eval-out';
/** Folder under the data directory that keeps the files the evaluation corpora are ingested from. */
export const EVAL_CORPUS_FILES_SUBDIR = 'eval-corpora';
/** On a non-terminal, a progress line is printed at most this often (and for every finished question before that). */
const PLAIN_PROGRESS_INTERVAL_MS = 2000;

interface EvalRunCliOptions {
  dataset: string;
  format?: EvalDatasetFormat;
  methods: string;
  model: string[];
  limit?: number;
  seed?: number;
  concurrency: number;
  out: string;
  corpus?: string;
  option: string[];
  k: number;
  mode: SearchMode;
  embedder?: string;
  deadlineMs?: number;
  retryAttempts?: number;
  retryBaseMs?: number;
  threads?: number;
  contextSize?: number;
  quiet?: boolean;
  json?: boolean;
}

/**
 * Hangs `reckon eval [run] --dataset … --methods … --model …` on the `eval` command (registerEval):
 * run methods with models over a dataset, resumably, and write JSON, CSV and HTML reports.
 */
export function registerEvalRun(evalCommand: Command, run: CommandRunner): void {
  evalCommand
    // The default subcommand: `reckon eval --dataset …` is `reckon eval run --dataset …`. (Options on
    // `eval` itself would take `eval score --dataset` away from score.)
    .command('run', { isDefault: true })
    .description(
      'Run methods with models over a dataset (resumable: re-run the same command to finish) and write JSON, CSV and HTML reports.',
    )
    .requiredOption('-d, --dataset <file>', 'the dataset file (format recognized from its content)')
    .addOption(
      new Option('--format <format>', 'read the dataset as this format instead of recognizing it').choices(
        EVAL_DATASET_FORMATS,
      ),
    )
    .requiredOption('--methods <ids>', `comma-separated methods (${strategyRegistry.ids().join(', ')})`)
    .option(
      '-m, --model <spec>',
      'a .gguf file, openai:<baseURL>#<model> or replay:<file.jsonl>; repeat to compare models',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('--limit <n>', 'run this many questions (default: all)', parsePositiveInt)
    .option(
      '--seed <n>',
      'draw the questions at random with this seed (default: the first --limit)',
      parseSeed,
    )
    .option(
      '--concurrency <n>',
      'questions run at once: up to what a local model serves in parallel (replay: 1), exactly this many against an OpenAI-compatible server',
      parsePositiveInt,
      DEFAULT_EVAL_CONCURRENCY,
    )
    .option(
      '--out <dir>',
      'folder for results.jsonl and the reports (re-run into it to resume)',
      DEFAULT_EVAL_OUT,
    )
    .option(
      '-c, --corpus <name>',
      'search this corpus (default: a corpus built from the dataset’s own paragraphs, where it has them)',
    )
    .option(
      '-o, --option <key=value>',
      'a method option, repeatable; method.key=value for one method only (reckon strategies lists them)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option('-k, --k <n>', 'passages per retrieve() call', parsePositiveInt, DEFAULT_RUN_TOP_K)
    .addOption(
      new Option('--mode <mode>', 'search behind retrieve()').choices(SEARCH_MODES).default('hybrid'),
    )
    .option(
      '--embedder <dir|none>',
      'embedding model for the corpus built from the dataset, or "none" for BM25 only (default: an installed one)',
    )
    .option(
      '--deadline-ms <n>',
      `sandbox deadline per program run (default ${DEFAULT_SANDBOX_LIMITS.deadlineMs})`,
      parsePositiveInt,
    )
    .option('--retry-attempts <n>', 'attempts per model call before giving up (default 4)', parsePositiveInt)
    .option('--retry-base-ms <n>', 'first backoff delay in ms (default 500)', parsePositiveInt)
    .option('--threads <n>', 'llama.cpp threads (default: physical cores less one)', parsePositiveInt)
    .option('--context-size <n>', 'llama.cpp context size in tokens', parsePositiveInt)
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the report as JSON')
    .action((options: EvalRunCliOptions) => run((ctx) => evaluate(ctx, options)));
}

function parseSeed(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0 || parsed > 0xffffffff)
    throw new InvalidArgumentError('expected a whole number from 0 to 4294967295.');
  return parsed;
}

async function evaluate(ctx: CliContext, options: EvalRunCliOptions): Promise<number> {
  if (options.model.length === 0) {
    ctx.err('error: reckon eval needs at least one --model <spec>; see reckon eval run --help.');
    return ExitCode.USAGE;
  }
  const methods = parseMethods(options.methods, options.option);
  let bytes: Buffer;
  try {
    bytes = await fs.promises.readFile(options.dataset);
  } catch (error) {
    throw new ReckonError(
      'FILE_NOT_FOUND',
      `Cannot read the dataset ${options.dataset}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const dataset = await loadEvalDataset(options.dataset, {
    ...(options.format ? { format: options.format } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    signal: ctx.signal,
  });
  const results = EvalResultsFile.open(options.out);

  const anyRetrieves = methods.some((method) => strategyRegistry.get(method.id).corpus !== 'none');
  let corpus: string | null = null;
  if (options.corpus) {
    // Fail before loading a model.
    ctx.engine.library.open(options.corpus).close();
    corpus = options.corpus;
  } else if (dataset.hasContexts && anyRetrieves) {
    const embedder: EmbedderChoice =
      options.embedder === undefined
        ? 'auto'
        : options.embedder === 'none'
          ? 'none'
          : { dir: path.resolve(options.embedder) };
    const bar = new ProgressBar(ctx.io.stderr, options.quiet ?? false);
    try {
      const prepared = await prepareEvalCorpus(ctx.engine, {
        dataset,
        corpusFilesDir: path.join(ctx.settings.dataDir, EVAL_CORPUS_FILES_SUBDIR),
        embedder,
        signal: ctx.signal,
        onProgress: (event) => bar.update(event),
      });
      corpus = prepared.name;
      if (!options.quiet)
        ctx.err(
          `Corpus ${prepared.name}: ${prepared.paragraphs} paragraphs of the ${dataset.items.length} questions${prepared.ingested ? '' : ' (already built)'}.`,
        );
    } finally {
      bar.finish();
    }
  }

  const progress = new EvalProgressPrinter(ctx, options.quiet ?? false);
  const outcome = await runEvaluation(
    {
      dataset,
      datasetHash: hashDatasetBytes(bytes),
      methods,
      models: options.model,
      corpus,
      results,
      topK: options.k,
      searchMode: options.mode,
      concurrency: options.concurrency,
      ...(options.deadlineMs ? { sandboxLimits: { deadlineMs: options.deadlineMs } } : {}),
      ...(options.retryAttempts || options.retryBaseMs
        ? {
            retry: {
              ...(options.retryAttempts ? { maxAttempts: options.retryAttempts } : {}),
              ...(options.retryBaseMs ? { baseDelayMs: options.retryBaseMs } : {}),
            },
          }
        : {}),
      signal: ctx.signal,
      onProgress: (event) => progress.update(event),
    },
    {
      engine: ctx.engine,
      llm: ctx.llmProvider({
        ...(options.threads ? { threads: options.threads } : {}),
        ...(options.contextSize ? { contextSize: options.contextSize } : {}),
      }),
      store: ctx.runStore,
    },
  );
  progress.finish();

  const report = summarizeEvaluation(outcome.records, {
    dataset: {
      name: dataset.name,
      kind: dataset.kind,
      format: dataset.format,
      path: options.dataset,
      total: dataset.total,
      notes: dataset.notes,
    },
    sample: { limit: options.limit ?? null, seed: options.seed ?? null, questions: dataset.items.length },
    corpus,
    configs: outcome.configs,
    itemIds: dataset.items.map((item) => item.id),
  });
  const written = writeEvalReports(options.out, report, outcome.records);

  if (options.json) {
    ctx.json({ ...report, files: { results: results.path, ...written } });
  } else {
    printTable(ctx, report);
    ctx.out(
      `\n${outcome.completed} run now, ${outcome.resumed} already in ${results.path}.` +
        `\nReports: ${written.html}, ${written.csv}, ${written.json} (per question: ${written.questionsCsv}).`,
    );
  }
  if (outcome.cancelled) {
    ctx.err(
      `Stopped with ${report.missing} of ${outcome.configs.length * dataset.items.length} measurements to go; run the same command again to resume.`,
    );
    return ExitCode.CANCELLED;
  }
  return ExitCode.OK;
}

/**
 * `--methods a,b` and `--option` pairs as method specs: `key=value` goes to every chosen method that
 * declares `key` (an error when none does), `method.key=value` to that method only.
 */
export function parseMethods(list: string, pairs: readonly string[]): EvalMethodSpec[] {
  const ids = [
    ...new Set(
      list
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean),
    ),
  ];
  if (ids.length === 0) throw new InvalidStrategyOptionsError('--methods takes comma-separated method ids.');
  for (const id of ids) strategyRegistry.get(id);
  const optionsOf = new Map<string, Record<string, unknown>>(ids.map((id) => [id, {}]));
  const infos = strategyRegistry.list();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new InvalidStrategyOptionsError(`--option takes key=value or method.key=value; got "${pair}".`);
    let key = pair.slice(0, eq).trim();
    let targets: string[];
    const dot = key.indexOf('.');
    if (dot > 0) {
      const id = key.slice(0, dot);
      if (!ids.includes(id))
        throw new InvalidStrategyOptionsError(`--option ${pair} names ${id}, which is not among --methods.`);
      targets = [id];
      key = key.slice(dot + 1);
    } else {
      targets = ids.filter((id) =>
        infos.find((info) => info.id === id)?.options.some((option) => option.key === key),
      );
      if (targets.length === 0)
        throw new InvalidStrategyOptionsError(
          `No chosen method takes the option "${key}"; reckon strategies lists each method's options.`,
        );
    }
    for (const id of targets)
      Object.assign(
        optionsOf.get(id)!,
        strategyRegistry.parseOptionPairs(id, [`${key}=${pair.slice(eq + 1)}`]),
      );
  }
  return ids.map((id) => ({ id, options: optionsOf.get(id)! }));
}

/** Progress with ETA on stderr: one redrawn line on a terminal, a line per finished question (at most every 2 s) elsewhere. */
class EvalProgressPrinter {
  private drawn = false;
  private lastPlain = 0;

  constructor(
    private readonly ctx: CliContext,
    private readonly quiet: boolean,
  ) {}

  update(event: EvalProgressEvent): void {
    if (this.quiet) return;
    const stream = this.ctx.io.stderr;
    const finished = event.resumed + event.done;
    const percent = event.total === 0 ? 100 : Math.floor((finished / event.total) * 100);
    let line = `[${finished}/${event.total}] ${percent}%`;
    if (!event.record) {
      line +=
        event.resumed > 0
          ? ` — resuming: ${event.resumed} already done, ${event.remaining} to run`
          : ` — ${event.remaining} to run`;
    } else {
      const record = event.record;
      const metric = record.score.metrics.em !== undefined ? 'em' : 'accuracy';
      const value = record.score.metrics[metric];
      line += ` ${record.config.method} · ${record.itemId} ${METRIC_INFO[metric].label} ${value === undefined ? '—' : value.toFixed(2)} · ${record.seconds.toFixed(1)}s${record.error ? ` · ${record.error.code}` : ''}`;
      if (event.etaSeconds !== undefined) line += ` · ETA ${formatSeconds(event.etaSeconds)}`;
    }
    line = sanitizeTerminalText(line);
    if (stream.isTTY) {
      const columns = stream.columns || 100;
      stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (!event.record || event.remaining === 0 || now - this.lastPlain >= PLAIN_PROGRESS_INTERVAL_MS) {
      stream.write(`${line}\n`);
      this.lastPlain = now;
    }
  }

  finish(): void {
    if (this.drawn) this.ctx.io.stderr.write('\n');
    this.drawn = false;
  }
}

function printTable(ctx: CliContext, report: ReturnType<typeof summarizeEvaluation>): void {
  const columns = evalReportColumns(report).filter((column) => column.id !== 'tokens_estimated');
  const rows = [
    columns.map((column) => column.label),
    ...report.cells.map((cell) => columns.map((column) => column.format(cell))),
  ];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  ctx.out(
    `${report.dataset.name}: ${report.sample.questions} questions${report.corpus ? `, corpus ${report.corpus}` : ''} (scores in %, official rule)`,
  );
  for (const row of rows)
    ctx.out(
      row
        .map((value, index) => (index < 2 ? value.padEnd(widths[index]!) : value.padStart(widths[index]!)))
        .join('  ')
        .trimEnd(),
    );
  if (report.cells.some((cell) => cell.tokensEstimated))
    ctx.out('~ token counts estimated (the backend cannot count tokens).');
  for (const comparison of report.comparisons)
    ctx.out(
      `${comparison.a.method}${comparison.a.model === comparison.b.model ? '' : ` (${comparison.a.model})`} vs ${comparison.b.method}${comparison.a.model === comparison.b.model ? '' : ` (${comparison.b.model})`}: ${comparison.aWins} won, ${comparison.bWins} lost, ${comparison.ties} tied on ${METRIC_INFO[comparison.metric].label}; McNemar b = ${comparison.mcnemar.b}, c = ${comparison.mcnemar.c}, exact p = ${formatPValue(comparison.mcnemar.exactPValue)}${comparison.mcnemar.chiSquare ? ` (χ² ${comparison.mcnemar.chiSquare.statistic.toFixed(2)}, p = ${formatPValue(comparison.mcnemar.chiSquare.pValue)})` : ''}`,
    );
}
