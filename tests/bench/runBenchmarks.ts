/**
 * `npm run bench [-- --quick] [-- --only <name>[,<name>…]]`: runs the benchmarks in tests/bench with
 * real components, prints a table (benchmark, metric, value, unit, notes) on stdout and saves the
 * results with machine info to bench-results/<timestamp>.json and bench-results/latest.json.
 * Progress goes to stderr. Not part of `npm test`: nothing here asserts on a timing.
 *
 * The `memory` benchmark (MemoryMonitor.ts) runs alongside every other one: its rows are the peak
 * RSS sampled while that benchmark ran, and RSS, heap and maxRSS right after it.
 *
 * Exit codes: 0 all ran, 1 a benchmark failed (the others still ran and were saved), 2 bad arguments,
 * 130 interrupted (temp dirs are removed first).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { physicalCoreCount } from '../../main/engine/models/physicalCores.ts';
import { MIB, REPO_ROOT, type BenchContext, type Benchmark } from './Benchmark.ts';
import { formatMarkdownReport, formatValue, type BenchResultRow, type MachineInfo } from './benchReport.ts';
import { MemoryMonitor, memoryRows } from './MemoryMonitor.ts';
import { annBenchmark } from './annBenchmark.ts';
import { bm25Benchmark } from './bm25Benchmark.ts';
import { cliStartupBenchmark } from './cliStartupBenchmark.ts';
import { embeddingsBenchmark } from './embeddingsBenchmark.ts';
import { evalScaleBenchmark } from './evalScaleBenchmark.ts';
import { ingestBenchmark } from './ingestBenchmark.ts';
import { llmBandwidthBenchmark } from './llmBandwidthBenchmark.ts';
import { llmParallelBenchmark } from './llmParallelBenchmark.ts';
import { llmPrefixBenchmark } from './llmPrefixBenchmark.ts';
import { llmThreadsBenchmark } from './llmThreadsBenchmark.ts';
import { methodsBenchmark } from './methodsBenchmark.ts';
import { overheadBenchmark } from './overheadBenchmark.ts';
import { programGrammarBenchmark } from './programGrammarBenchmark.ts';
import { pyragReuseBenchmark } from './pyragReuseBenchmark.ts';
import { sandboxBenchmark } from './sandboxBench.ts';
import { scaleBenchmark } from './scaleBenchmark.ts';

/** In the order they run. */
export const BENCHMARKS: readonly Benchmark[] = [
  cliStartupBenchmark,
  ingestBenchmark,
  bm25Benchmark,
  annBenchmark,
  embeddingsBenchmark,
  llmThreadsBenchmark,
  llmBandwidthBenchmark,
  llmPrefixBenchmark,
  llmParallelBenchmark,
  programGrammarBenchmark,
  pyragReuseBenchmark,
  sandboxBenchmark,
  overheadBenchmark,
  methodsBenchmark,
  evalScaleBenchmark,
  scaleBenchmark,
];
export const MEMORY_BENCHMARK_NAME = 'memory';
export const RESULTS_DIR = path.join(REPO_ROOT, 'bench-results');

export type { BenchResultRow } from './benchReport.ts';

export interface BenchRunOptions {
  /** Smaller sizes for a smoke run. Default: false. */
  quick?: boolean;
  /** Names of the benchmarks to run. Default: all of BENCHMARKS but the opt-in ones (`scale`). */
  only?: readonly string[];
  /** Corpus size of the `scale` benchmark (`--passages`). Default: its own (1,000,000; quick 20,000). */
  passages?: number;
}

export interface BenchRunResult {
  rows: BenchResultRow[];
  failures: { benchmark: string; message: string }[];
  durations: Record<string, number>;
}

const USAGE = `Usage: npm run bench -- [--quick] [--only <name>[,<name>…]] [--passages N]

  --quick        shrink sizes for a smoke run (about a minute)
  --only <name>  run only these benchmarks: ${BENCHMARKS.map((b) => b.name).join(', ')}
                 (memory is measured alongside whichever run; opt-in ones run only when named)
  --passages N   corpus size of the scale benchmark (default 1000000, quick 20000)

${BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.optIn ? '(opt-in) ' : ''}${b.description}`).join('\n')}
  ${MEMORY_BENCHMARK_NAME.padEnd(12)} peak RSS (sampled), RSS, heap used and maxRSS per benchmark
`;

const tempDirs = new Set<string>();

function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch (error) {
      process.stderr.write(`[bench] could not remove ${dir}: ${(error as Error).message}\n`);
    }
  }
  tempDirs.clear();
}

/** Runs the selected benchmarks one after the other, each followed by its memory rows. */
export async function runBenchmarks(options: BenchRunOptions = {}): Promise<BenchRunResult> {
  const selected = options.only
    ? BENCHMARKS.filter((b) => options.only?.includes(b.name))
    : BENCHMARKS.filter((b) => b.optIn !== true);
  const monitor = MemoryMonitor.start();
  const runStarted = performance.now();
  const result: BenchRunResult = { rows: [], failures: [], durations: {} };
  result.rows.push({
    benchmark: MEMORY_BENCHMARK_NAME,
    metric: 'baseline RSS',
    value: process.memoryUsage.rss() / MIB,
    unit: 'MiB',
    notes: 'after loading the benchmark modules',
  });
  try {
    for (const benchmark of selected) {
      const started = performance.now();
      const context: BenchContext = {
        quick: options.quick ?? false,
        ...(options.passages !== undefined ? { passages: options.passages } : {}),
        progress: (message) => {
          const total = ((performance.now() - runStarted) / 1000).toFixed(0).padStart(4);
          process.stderr.write(`[bench ${total}s] ${benchmark.name}: ${message}\n`);
        },
        makeTempDir: (prefix) => {
          const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
          tempDirs.add(dir);
          return dir;
        },
      };
      context.progress(`start (${benchmark.description})`);
      const startRss = process.memoryUsage.rss();
      monitor.reset();
      try {
        const rows = await benchmark.run(context);
        result.rows.push(...rows.map((row) => ({ benchmark: benchmark.name, ...row })));
      } catch (error) {
        const message = error instanceof Error ? (error.stack ?? error.message) : 'unknown error';
        result.failures.push({ benchmark: benchmark.name, message });
        context.progress(`FAILED: ${message}`);
      } finally {
        removeTempDirs();
      }
      const snapshot = monitor.snapshot();
      result.rows.push(
        ...memoryRows(benchmark.name, snapshot, startRss).map((row) => ({
          benchmark: MEMORY_BENCHMARK_NAME,
          ...row,
        })),
      );
      result.durations[benchmark.name] = (performance.now() - started) / 1000;
      context.progress(`done in ${result.durations[benchmark.name]!.toFixed(1)} s`);
    }
  } finally {
    await monitor.stop();
  }
  return result;
}

/** Machine and library facts saved with the results, so numbers from different runs can be compared. */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  const packageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = packageJson.dependencies ?? {};
  const db = new Database(':memory:');
  const sqliteVersion = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    physicalCores: physicalCoreCount(),
    availableParallelism: os.availableParallelism(),
    totalMemoryBytes: os.totalmem(),
    totalMemoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${os.release()}`,
    arch: process.arch,
    /** 1, 5 and 15-minute load averages when the run started: other work on the machine skews timings. */
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    sqlite: sqliteVersion,
    libraries: Object.fromEntries(
      ['better-sqlite3', 'usearch', 'node-llama-cpp', '@huggingface/transformers'].map((name) => [
        name,
        dependencies[name],
      ]),
    ),
  };
}

/** Renders rows as an aligned plain-text table (benchmark, metric, value, unit, notes) for stdout. */
export function formatTable(rows: readonly BenchResultRow[]): string {
  const header = ['benchmark', 'metric', 'value', 'unit', 'notes'];
  const cells = rows.map((row) => [
    row.benchmark,
    row.metric,
    formatValue(row.value),
    row.unit,
    row.notes ?? '',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((cell) => cell[i]!.length)));
  const line = (cell: string[]): string =>
    cell
      .map((text, i) => (i === 2 ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** Rounds to 6 significant digits so the JSON stays readable. */
function roundForJson(value: number): number {
  return Number.isFinite(value) && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value;
}

async function main(argv: readonly string[]): Promise<number> {
  let quick: boolean;
  let only: string[] | undefined;
  let passages: number | undefined;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        quick: { type: 'boolean', default: false },
        only: { type: 'string', multiple: true },
        passages: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    quick = values.quick;
    if (values.passages !== undefined) {
      passages = Number(values.passages.replace(/_/g, ''));
      if (!Number.isInteger(passages) || passages < 1000)
        throw new Error(`--passages needs a whole number of at least 1000, got "${values.passages}".`);
    }
    only = values.only
      ?.flatMap((value) => value.split(','))
      .map((name) => name.trim())
      .filter((name) => name !== '');
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const known = new Set(BENCHMARKS.map((b) => b.name));
  for (const name of only ?? []) {
    if (name === MEMORY_BENCHMARK_NAME) {
      process.stderr.write(
        `"memory" is measured alongside every benchmark; choose one of: ${[...known].join(', ')}.\n`,
      );
      return 2;
    }
    if (!known.has(name)) {
      process.stderr.write(`Unknown benchmark "${name}"; choose from: ${[...known].join(', ')}.\n`);
      return 2;
    }
  }

  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n[bench] ${signal}: removing temp dirs and stopping.\n`);
    removeTempDirs();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const startedAt = new Date();
  const machine = machineInfo();
  process.stderr.write(
    `[bench] ${quick ? 'quick' : 'full'} run on ${String(machine.cpus)} CPUs (${String(machine.physicalCores)} physical), ` +
      `${String(machine.totalMemoryGiB)} GiB, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(2)}\n`,
  );
  const result = await runBenchmarks({
    quick,
    ...(only ? { only } : {}),
    ...(passages !== undefined ? { passages } : {}),
  });
  const finishedAt = new Date();

  process.stdout.write(`\n${formatTable(result.rows)}\n`);
  process.stdout.write(
    `\nLoad average (1 min) at start ${machine.loadAverage[0]}, at end ${os.loadavg()[0]!.toFixed(2)} ` +
      `on ${String(machine.cpus)} CPUs: other work on the machine skews the timings.\n`,
  );
  for (const failure of result.failures) {
    process.stdout.write(`\nFAILED ${failure.benchmark}: ${failure.message.split('\n')[0]}\n`);
  }

  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationSeconds: roundForJson((finishedAt.getTime() - startedAt.getTime()) / 1000),
    mode: quick ? 'quick' : 'full',
    only: only ?? null,
    passages: passages ?? null,
    machine,
    loadAverageAtEnd: os.loadavg().map((load) => Math.round(load * 100) / 100),
    durations: Object.fromEntries(
      Object.entries(result.durations).map(([name, s]) => [name, roundForJson(s)]),
    ),
    results: result.rows.map((row) => ({ ...row, value: roundForJson(row.value) })),
    failures: result.failures,
  };
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const file = path.join(RESULTS_DIR, `${stamp}${quick ? '-quick' : ''}.json`);
  const json = `${JSON.stringify(report, null, 2)}\n`;
  fs.writeFileSync(file, json);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
  const markdown = formatMarkdownReport(report);
  const markdownFile = file.replace(/\.json$/, '.md');
  fs.writeFileSync(markdownFile, markdown);
  fs.writeFileSync(path.join(RESULTS_DIR, 'latest.md'), markdown);
  process.stdout.write(
    `\nSaved ${path.relative(process.cwd(), file)}, ${path.relative(process.cwd(), markdownFile)} and bench-results/latest.{json,md}\n`,
  );
  return result.failures.length > 0 ? 1 : 0;
}

// bin/run-ts.mjs presents this file as the entry point (argv[1]); importing it runs nothing.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
