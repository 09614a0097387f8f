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
import { DEFAULT_MEMORY_FOLDS } from '../../engine/corpus/memory/SolvedExampleMemory.ts';
import type { EvalMemoryBuild } from '../../engine/eval/run/buildEvalMemory.ts';
import {
  EVAL_DATASET_FORMATS,
  type EvalDataset,
  type EvalDatasetFormat,
} from '../../engine/eval/datasets/EvalItem.ts';
import { loadEvalDataset } from '../../engine/eval/datasets/loadEvalDataset.ts';
import { METRIC_INFO } from '../../engine/eval/scoring/EvalScore.ts';
import { EvalResultsFile } from '../../engine/eval/run/EvalResultsFile.ts';
import { evalConfigKey, evalMethodLabel, type EvalConfig } from '../../engine/eval/run/EvalRecord.ts';
import { evalReportColumns, formatPValue, formatShare } from '../../engine/eval/run/evalReportColumns.ts';
import { EVAL_CORPUS_FILES_DIR, prepareEvalCorpus } from '../../engine/eval/run/prepareEvalCorpus.ts';
import {
  DEFAULT_EVAL_CONCURRENCY,
  hashDatasetBytes,
  runEvaluations,
  type EvalDatasetPart,
  type EvalMethodSpec,
  type EvalProgressEvent,
} from '../../engine/eval/run/runEvaluation.ts';
import { summarizeEvalSuite, type EvalSuiteReport } from '../../engine/eval/run/summarizeEvalSuite.ts';
import { measureOracleRecall, type OracleRecallReport } from '../../engine/eval/run/measureOracleRecall.ts';
import { summarizeEvaluation } from '../../engine/eval/run/summarizeEvaluation.ts';
import { writeEvalReports } from '../../engine/eval/run/writeEvalReports.ts';

/** Output folder when --out is not given. */
export const DEFAULT_EVAL_OUT = 'eval-out';
/** On a non-terminal, a progress line is printed at most this often (and for every finished question before that). */
const PLAIN_PROGRESS_INTERVAL_MS = 2000;

interface EvalRunCliOptions {
  dataset: string[];
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
  kFold: number;
  mode: SearchMode;
  embedder?: string;
  deadlineMs?: number;
  retryAttempts?: number;
  retryBaseMs?: number;
  threads?: number;
  contextSize?: number;
  quiet?: boolean;
  json?: boolean;
  oracle: boolean;
  oracleDecomposition?: boolean;
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
    .requiredOption(
      '-d, --dataset <file>',
      'the dataset file (format recognized from its content); repeat for a method × dataset table',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
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
    .option(
      '--k-fold <k>',
      `folds of the memory of solved examples (R2) built from the evaluated questions for a method that searches one and is given none (icrag): each question never retrieves its own fold (default ${DEFAULT_MEMORY_FOLDS})`,
      parsePositiveInt,
      DEFAULT_MEMORY_FOLDS,
    )
    .addOption(
      new Option('--mode <mode>', 'search behind retrieve()').choices(SEARCH_MODES).default('hybrid'),
    )
    .option(
      '--embedder <dir|none>',
      'embedding model for the corpus built from the dataset and the k-fold memory, or "none" for BM25 only (default: an installed one)',
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
    .option(
      '--no-oracle',
      'skip the gold-decomposition retrieval ceiling (measured by default on datasets with gold decompositions and supporting paragraphs: MuSiQue)',
    )
    .option(
      '--oracle-decomposition',
      'give the methods that take givenSubQuestions (pyrag, program) each question’s gold sub-questions (MuSiQue, Bamboogle, StrategyQA; earlier gold answers substituted), reported as "<method> (oracle decomposition)" beside the method’s own run when --out holds it; questions without a gold decomposition run as usual',
    )
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
  if (options.format && options.dataset.length > 1) {
    ctx.err("error: --format applies to one --dataset; with several, each file's format is recognized.");
    return ExitCode.USAGE;
  }
  const methods = parseMethods(options.methods, options.option);
  const loaded = await loadDatasets(ctx, options);
  const results = EvalResultsFile.open(options.out);

  const anyRetrieves = methods.some((method) => strategyRegistry.get(method.id).corpus !== 'none');
  if (options.corpus) ctx.engine.library.open(options.corpus).close(); // Fail before loading a model.
  const parts: EvalDatasetPart[] = [];
  for (const { dataset, hash } of loaded)
    parts.push({
      dataset,
      datasetHash: hash,
      corpus:
        options.corpus ??
        (dataset.hasContexts && anyRetrieves ? await prepareCorpus(ctx, options, dataset) : null),
    });

  if (options.oracleDecomposition && !options.quiet)
    for (const { dataset } of parts)
      if (!dataset.items.some((item) => (item.gold.decomposition?.length ?? 0) > 0))
        ctx.err(
          `${dataset.name} has no gold decompositions: with --oracle-decomposition its questions run as usual (gold sub-questions come with MuSiQue, Bamboogle and StrategyQA).`,
        );
  const oracles: (OracleRecallReport | null)[] = [];
  for (const part of parts)
    oracles.push(options.oracle && part.corpus ? await measureOracle(ctx, options, part) : null);

  const progress = new EvalProgressPrinter(ctx, options.quiet ?? false, parts.length > 1);
  const outcome = await runEvaluations(
    {
      datasets: parts,
      methods,
      models: options.model,
      results,
      topK: options.k,
      searchMode: options.mode,
      concurrency: options.concurrency,
      kFold: options.kFold,
      memoryEmbedder: embedderChoice(options.embedder),
      ...(options.oracleDecomposition ? { oracleDecomposition: true } : {}),
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

  // The plan's configs, and before each oracle-decomposition one the method's own run where --out holds it.
  const shownParts = outcome.parts.map((part) => {
    const configs = withOwnRuns(part.configs, part.dataset, results);
    const records = configs.flatMap(({ configKey }) =>
      part.dataset.items.flatMap((item) => results.get(configKey, item.id) ?? []),
    );
    return { ...part, configs, records };
  });
  const reports = shownParts.map((part, index) =>
    summarizeEvaluation(part.records, {
      dataset: {
        name: part.dataset.name,
        kind: part.dataset.kind,
        format: part.dataset.format,
        path: loaded[index]!.file,
        total: part.dataset.total,
        notes: part.dataset.notes,
      },
      sample: {
        limit: options.limit ?? null,
        seed: options.seed ?? null,
        questions: part.dataset.items.length,
      },
      corpus: parts[index]!.corpus,
      configs: part.configs,
      itemIds: part.dataset.items.map((item) => item.id),
      oracle: oracles[index] ?? null,
    }),
  );
  const suite = summarizeEvalSuite(reports);
  const records = shownParts.flatMap((part) => part.records);
  const written = writeEvalReports(options.out, suite, records);

  if (options.json) {
    ctx.json({ ...suite, memories: outcome.memories, files: { results: results.path, ...written } });
  } else {
    for (const report of reports) printTable(ctx, report);
    for (const memory of outcome.memories) ctx.out(describeMemory(memory));
    if (reports.length > 1) printSuiteTable(ctx, suite);
    ctx.out(
      `\n${outcome.completed} run now, ${outcome.resumed} already in ${results.path}.` +
        `\nReports: ${written.html}, ${written.csv}, ${written.tableCsv}, ${written.json} (per question: ${written.questionsCsv}).`,
    );
  }
  if (outcome.cancelled) {
    const planned = outcome.parts.reduce(
      (sum, part) => sum + part.configs.length * part.dataset.items.length,
      0,
    );
    ctx.err(
      `Stopped with ${suite.missing} of ${planned} measurements to go; run the same command again to resume.`,
    );
    return ExitCode.CANCELLED;
  }
  return ExitCode.OK;
}

/**
 * The plan's configs with, before each oracle-decomposition config, the method's own run (the same
 * config without `oracle`) where the results file holds it for every question of the sample, so
 * the report shows "pyrag" beside "pyrag (oracle decomposition)". A partial own run is left out.
 */
function withOwnRuns(
  configs: readonly { configKey: string; config: EvalConfig }[],
  dataset: EvalDataset,
  results: EvalResultsFile,
): { configKey: string; config: EvalConfig }[] {
  return configs.flatMap((entry) => {
    if (entry.config.oracle !== 'decomposition') return [entry];
    const { oracle: _oracle, ...config } = entry.config;
    const configKey = evalConfigKey(config);
    const complete = dataset.items.every((item) => results.has(configKey, item.id));
    return complete ? [{ configKey, config }, entry] : [entry];
  });
}

/** Each --dataset, read and sampled; a file given twice (same bytes) is evaluated once. */
async function loadDatasets(
  ctx: CliContext,
  options: EvalRunCliOptions,
): Promise<{ file: string; hash: string; dataset: EvalDataset }[]> {
  const loaded: { file: string; hash: string; dataset: EvalDataset }[] = [];
  for (const file of options.dataset) {
    let bytes: Buffer;
    try {
      bytes = await fs.promises.readFile(file);
    } catch (error) {
      throw new ReckonError(
        'FILE_NOT_FOUND',
        `Cannot read the dataset ${file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const hash = hashDatasetBytes(bytes);
    const same = loaded.find((other) => other.hash === hash);
    if (same) {
      if (!options.quiet) ctx.err(`${file} is the same file as ${same.file}: evaluated once.`);
      continue;
    }
    const dataset = await loadEvalDataset(file, {
      ...(options.format ? { format: options.format } : {}),
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      signal: ctx.signal,
    });
    loaded.push({ file, hash, dataset });
  }
  return loaded;
}

/**
 * The gold-decomposition retrieval ceiling of one dataset (measureOracleRecall) at --k: BM25, and
 * dense too when the corpus has vectors; null when the dataset has no decomposition to measure.
 */
async function measureOracle(
  ctx: CliContext,
  options: EvalRunCliOptions,
  part: EvalDatasetPart,
): Promise<OracleRecallReport | null> {
  const hasSteps = part.dataset.items.some((item) => (item.gold.decomposition?.length ?? 0) > 0);
  if (!hasSteps || !part.corpus) return null;
  const embedder = embedderChoice(options.embedder);
  const retriever = ctx.engine.openRetriever(part.corpus, { embedder });
  try {
    const modes: SearchMode[] =
      (await retriever.denseUnavailable?.()) === null ? ['bm25', 'dense'] : ['bm25'];
    const oracle = await measureOracleRecall({
      dataset: part.dataset,
      retriever,
      topK: options.k,
      modes,
      signal: ctx.signal,
    });
    if (oracle && !options.quiet)
      ctx.err(
        `Gold-decomposition recall ceiling of ${part.dataset.name} measured on ${oracle.modes[0]?.questions ?? 0} questions (${modes.join(', ')}).`,
      );
    return oracle;
  } finally {
    retriever.close();
  }
}

/** --embedder as the engine takes it. */
function embedderChoice(value: string | undefined): EmbedderChoice {
  return value === undefined ? 'auto' : value === 'none' ? 'none' : { dir: path.resolve(value) };
}

/** The corpus of a dataset's own paragraphs (prepareEvalCorpus), with progress; its name. */
async function prepareCorpus(
  ctx: CliContext,
  options: EvalRunCliOptions,
  dataset: EvalDataset,
): Promise<string> {
  const embedder = embedderChoice(options.embedder);
  const bar = new ProgressBar(ctx.io.stderr, options.quiet ?? false);
  try {
    const prepared = await prepareEvalCorpus(ctx.engine, {
      dataset,
      corpusFilesDir: path.join(ctx.settings.dataDir, EVAL_CORPUS_FILES_DIR),
      embedder,
      signal: ctx.signal,
      onProgress: (event) => bar.update(event),
    });
    if (!options.quiet)
      ctx.err(
        `Corpus ${prepared.name}: ${prepared.paragraphs} paragraphs of the ${dataset.items.length} questions${prepared.ingested ? '' : ' (already built)'}.`,
      );
    return prepared.name;
  } finally {
    bar.finish();
  }
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
    /** Several datasets: name each question's dataset (their ids may repeat). */
    private readonly showDataset = false,
  ) {}

  update(event: EvalProgressEvent): void {
    if (this.quiet) return;
    if (event.memory) {
      const m = event.memory;
      this.write(
        sanitizeTerminalText(
          `[memory ${m.done}/${m.total}] building R2 ${m.memory} (k=${m.folds}) for ${m.dataset}: ${m.built} built, ${m.skipped} already there, ${m.failed} failed`,
        ),
        m.done === m.total,
      );
      return;
    }
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
      line += ` ${evalMethodLabel(record.config)} · ${this.showDataset ? `${record.dataset}/` : ''}${record.itemId} ${METRIC_INFO[metric].label} ${value === undefined ? '—' : value.toFixed(2)} · ${record.seconds.toFixed(1)}s${record.error ? ` · ${record.error.code}` : ''}`;
      if (event.etaSeconds !== undefined) line += ` · ETA ${formatSeconds(event.etaSeconds)}`;
    }
    this.write(sanitizeTerminalText(line), !event.record || event.remaining === 0);
  }

  /** One progress line: redrawn on a terminal; elsewhere printed when `always`, else at most every 2 s. */
  private write(line: string, always: boolean): void {
    const stream = this.ctx.io.stderr;
    if (stream.isTTY) {
      const columns = stream.columns || 100;
      stream.write(`\r${line.slice(0, columns - 1).padEnd(columns - 1)}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (always || now - this.lastPlain >= PLAIN_PROGRESS_INTERVAL_MS) {
      stream.write(`${line}\n`);
      this.lastPlain = now;
    }
  }

  finish(): void {
    if (this.drawn) this.ctx.io.stderr.write('\n');
    this.drawn = false;
  }
}

/** What the report says about a k-fold memory the evaluation built. */
function describeMemory(memory: EvalMemoryBuild): string {
  return `R2 for ${memory.dataset} with ${memory.model}: memory ${memory.memory} built k-fold, k=${memory.folds}, from the ${memory.pairs} evaluated questions and their gold answers (${memory.examples} examples: ${memory.built} new, ${memory.skipped} already there, ${memory.failed} failed${memory.cancelled ? '; stopped early' : ''}; ${memory.embedder ? `vectors from ${memory.embedder}` : `BM25 only${memory.embeddingSkipped ? `: ${memory.embeddingSkipped}` : ''}`}); each question's own fold is left out of its retrieval.`;
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
  for (const mode of report.oracle?.modes ?? [])
    ctx.out(
      `Gold-decomposition ceiling (${mode.mode}, ${mode.questions} questions, ${report.oracle!.topK} passages per sub-question): supporting-paragraph recall ${formatShare(mode.question.recall)} with the question alone vs ${formatShare(mode.gold.recall)} with the gold sub-questions (all found: ${formatShare(mode.question.allFound)} vs ${formatShare(mode.gold.allFound)}).`,
    );
  for (const comparison of report.comparisons)
    ctx.out(
      `${comparison.a.label}${comparison.a.model === comparison.b.model ? '' : ` (${comparison.a.model})`} vs ${comparison.b.label}${comparison.a.model === comparison.b.model ? '' : ` (${comparison.b.model})`}: ${comparison.aWins} won, ${comparison.bWins} lost, ${comparison.ties} tied on ${METRIC_INFO[comparison.metric].label}; McNemar b = ${comparison.mcnemar.b}, c = ${comparison.mcnemar.c}, exact p = ${formatPValue(comparison.mcnemar.exactPValue)}${comparison.mcnemar.chiSquare ? ` (χ² ${comparison.mcnemar.chiSquare.statistic.toFixed(2)}, p = ${formatPValue(comparison.mcnemar.chiSquare.pValue)})` : ''}`,
    );
}

/** The method × dataset table (scores in %, best per column marked with *). */
function printSuiteTable(ctx: CliContext, suite: EvalSuiteReport): void {
  const { columns, rows } = suite.table;
  const showModel = new Set(rows.map((row) => row.model)).size > 1;
  const lines = [
    ['method', ...(showModel ? ['model'] : []), ...columns.map((c) => `${c.datasetName} ${c.label}`)],
    ...rows.map((row) => [
      row.label,
      ...(showModel ? [row.model] : []),
      ...row.values.map(
        (value, index) =>
          `${formatShare(value)}${value !== null && columns[index]!.best === value ? '*' : ''}`,
      ),
    ]),
  ];
  const lead = showModel ? 2 : 1;
  const widths = lines[0]!.map((_, index) => Math.max(...lines.map((line) => line[index]!.length)));
  ctx.out(`\nMethods × datasets (scores in %, official rules; * best of the column)`);
  for (const line of lines)
    ctx.out(
      line
        .map((value, index) => (index < lead ? value.padEnd(widths[index]!) : value.padStart(widths[index]!)))
        .join('  ')
        .trimEnd(),
    );
}
