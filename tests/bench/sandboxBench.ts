/**
 * Sandbox cost per run: create + execute + dispose of a 40-line program with 6 host calls (fake tools
 * that resolve at once), measured side by side in the same process:
 *
 *   - warm: SandboxHost with its worker already started (fresh QuickJS runtime + context per run);
 *   - cold: runSandboxedProgram on a new SandboxHost each run (worker start-up, run, close), once
 *     with the worker as TypeScript compiled by tsx on start (how the sources run) and once with the
 *     built worker (dist/cli/sandboxWorker.js, what `npm install` builds and the CLI starts);
 *   - node:vm: a new context per run running the same script with the same fake tools — the
 *     baseline with no isolation of memory, CPU or host objects.
 *
 * Run alone: `node bin/run-ts.mjs tests/bench/sandboxBench.ts [--quick]`.
 */
import { answerTool, retrieveTool } from '../../main/engine/strategies/retrievalTools.ts';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { runSandboxedProgram, SandboxHost } from '../../main/engine/sandbox/runSandboxedProgram.ts';
import type { HostTools, RetrievedDoc, SandboxRunResult } from '../../main/engine/sandbox/SandboxTypes.ts';
import { median, REPO_ROOT, type BenchRow as BaseBenchRow, type Benchmark } from './Benchmark.ts';

/** The sandbox worker as built by `npm run build:cli` (scripts/buildCli.mjs). */
export const BUILT_SANDBOX_WORKER = path.join(REPO_ROOT, 'dist', 'cli', 'sandboxWorker.js');

/** One measurement, with the benchmark it belongs to. */
export interface BenchRow {
  benchmark: string;
  metric: string;
  value: number;
  unit: string;
  notes?: string;
}

const BENCHMARK = 'sandbox';

/** The measured program: 40 lines, 2 retrieve() + 4 answer() calls, bindings and a little work. */
export const SANDBOX_BENCH_PROGRAM = [
  '(async () => {',
  "  const question = 'Where was the author of the annual report born?';",
  "  const first = await retrieve('author of the annual report', 3);",
  "  __reckonBind('first', first, 3);",
  "  const author = await answer('Who wrote the annual report?', first);",
  "  __reckonBind('author', author, 5);",
  "  const second = await retrieve(author + ' birthplace', 3);",
  "  __reckonBind('second', second, 7);",
  '  const seen = new Set();',
  '  const merged = [];',
  '  for (const doc of [...first, ...second]) {',
  '    if (seen.has(doc.id)) continue;',
  '    seen.add(doc.id);',
  '    merged.push(doc);',
  '  }',
  "  __reckonBind('merged', merged, 16);",
  '  const words = merged',
  '    .map((doc) => doc.text.toLowerCase().split(/\\W+/))',
  '    .flat()',
  '    .filter((word) => word.length > 3);',
  '  const counts = {};',
  '  for (const word of words) counts[word] = (counts[word] || 0) + 1;',
  '  const top = Object.entries(counts)',
  '    .sort((a, b) => b[1] - a[1])',
  '    .slice(0, 5)',
  '    .map(([word]) => word);',
  "  __reckonBind('top', top, 27);",
  '  const [place, year, role] = await Promise.all([',
  "    answer('Where was ' + author + ' born?', merged),",
  "    answer('When was ' + author + ' born?', merged),",
  "    answer('What is the role of ' + author + '?', merged.slice(0, 2)),",
  '  ]);',
  "  __reckonBind('place', place, 33);",
  "  const summary = [question, author, place, year, role].join(' | ');",
  "  __reckonBind('summary', summary, 35);",
  '  let checksum = 0;',
  '  for (let i = 0; i < summary.length; i++) checksum = (checksum * 31 + summary.charCodeAt(i)) | 0;',
  '  return { answer: place, author, top, checksum, docs: merged.length };',
  '})()',
  '',
].join('\n');

/** Fake tool bodies that resolve at once with fixed data, shared by all three variants. */
const BENCH_TOOL_BODIES = {
  retrieve(query: string, k: number | undefined): Promise<RetrievedDoc[]> {
    const docs = Array.from({ length: k ?? 3 }, (_, index) => ({
      id: (query.length * 7 + index) % 5,
      title: `Document ${index}`,
      text: `Passage ${index} about ${query}. The annual report was written by Ada Lovelace, born in London in 1815, who served as the analyst of the engine project.`,
      score: 1 / (index + 1),
      source: `corpus/doc-${index}.md`,
    }));
    return Promise.resolve(docs);
  },
  answer(question: string): Promise<string> {
    if (question.startsWith('Who')) return Promise.resolve('Ada Lovelace');
    if (question.startsWith('Where')) return Promise.resolve('London');
    if (question.startsWith('When')) return Promise.resolve('1815');
    return Promise.resolve('analyst');
  },
};

/** The fake tools as the sandbox's tool table (with the engine's argument checks). */
export const SANDBOX_BENCH_TOOLS: HostTools = {
  retrieve: retrieveTool(({ query, k }) => BENCH_TOOL_BODIES.retrieve(query, k)),
  answer: answerTool(({ question }) => BENCH_TOOL_BODIES.answer(question)),
};

/**
 * Measures ms per run for the warm worker, a cold worker per run and node:vm, and their ratios.
 * `quick` runs 40 warm / 5 cold / 40 vm runs after warm-up; otherwise 300 / 20 / 300.
 */
export async function sandboxBench(options: { quick: boolean }): Promise<BenchRow[]> {
  const warmRuns = options.quick ? 40 : 300;
  const coldRuns = options.quick ? 5 : 20;
  const vmRuns = warmRuns;

  const host = new SandboxHost();
  let warm: number[];
  let expected: unknown;
  try {
    for (let i = 0; i < 5; i += 1)
      expected = valueOf(await host.run({ script: SANDBOX_BENCH_PROGRAM, tools: SANDBOX_BENCH_TOOLS }));
    warm = await sample(warmRuns, async () => {
      check(valueOf(await host.run({ script: SANDBOX_BENCH_PROGRAM, tools: SANDBOX_BENCH_TOOLS })), expected);
    });
  } finally {
    await host.close();
  }

  if (!fs.existsSync(BUILT_SANDBOX_WORKER))
    throw new Error(`${BUILT_SANDBOX_WORKER} is missing: run \`npm run build:cli\` first`);
  const coldRun = (workerUrl?: URL) => async (): Promise<void> => {
    const coldHost = new SandboxHost(workerUrl ? { workerUrl } : {});
    try {
      check(
        valueOf(
          await runSandboxedProgram({
            script: SANDBOX_BENCH_PROGRAM,
            tools: SANDBOX_BENCH_TOOLS,
            host: coldHost,
          }),
        ),
        expected,
      );
    } finally {
      await coldHost.close();
    }
  };
  const cold = await sample(coldRuns, coldRun());
  const coldBuilt = await sample(coldRuns, coldRun(pathToFileURL(BUILT_SANDBOX_WORKER)));

  const script = new vm.Script(SANDBOX_BENCH_PROGRAM, { filename: 'program.js' });
  const runInVm = async (): Promise<unknown> => {
    const context = vm.createContext({
      retrieve: (query: string, k?: number) => BENCH_TOOL_BODIES.retrieve(query, k),
      answer: (question: string) => BENCH_TOOL_BODIES.answer(question),
      __reckonBind: () => {},
      console: { log() {}, warn() {}, error() {} },
    });
    // Round-trip through JSON like the sandbox's copy of the result, so both return host data.
    return JSON.parse(JSON.stringify(await script.runInContext(context, { timeout: 20_000 })));
  };
  for (let i = 0; i < 5; i += 1) check(await runInVm(), expected);
  const inVm = await sample(vmRuns, async () => {
    check(await runInVm(), expected);
  });

  const warmMs = mean(warm);
  const coldMs = mean(cold);
  const coldBuiltMs = mean(coldBuilt);
  const vmMs = mean(inVm);
  const program = '40-line program, 6 host calls, fake tools';
  return [
    row(
      'quickjs warm worker',
      warmMs,
      'ms/run',
      `SandboxHost, fresh runtime+context per run; ${program}; n=${warmRuns}, p50 ${median(warm).toFixed(2)} ms`,
    ),
    row(
      'quickjs cold worker',
      coldMs,
      'ms/run',
      `new SandboxHost per run (worker start, run, close), worker compiled by tsx; n=${coldRuns}, p50 ${median(cold).toFixed(1)} ms`,
    ),
    row(
      'quickjs cold worker, built',
      coldBuiltMs,
      'ms/run',
      `same, worker from dist/cli (npm run build:cli); n=${coldRuns}, p50 ${median(coldBuilt).toFixed(1)} ms`,
    ),
    row(
      'cold built / cold tsx',
      coldBuiltMs / coldMs,
      'x',
      'sandbox cold start with the built worker (issue 12 item 6: it was 438 ms compiling TypeScript)',
    ),
    row(
      'node:vm',
      vmMs,
      'ms/run',
      `new vm context per run, same script and tools, no isolation; n=${vmRuns}, p50 ${median(inVm).toFixed(3)} ms`,
    ),
    row('warm quickjs / node:vm', warmMs / vmMs, 'x', 'cost of the sandbox over an unisolated vm context'),
    row('cold quickjs / node:vm', coldMs / vmMs, 'x'),
    row('cold / warm quickjs', coldMs / warmMs, 'x', 'what keeping the worker warm saves'),
  ];
}

/** sandboxBench as a Benchmark for runBenchmarks.ts (which adds the benchmark name itself). */
export const sandboxBenchmark: Benchmark = {
  name: BENCHMARK,
  description: 'QuickJS sandbox cost per run (warm worker, cold worker) against node:vm',
  async run(context): Promise<BaseBenchRow[]> {
    context.progress('running the sandbox benchmark');
    const rows = await sandboxBench({ quick: context.quick });
    return rows.map(({ metric, value, unit, notes }) => ({
      metric,
      value,
      unit,
      ...(notes !== undefined ? { notes } : {}),
    }));
  },
};

function row(metric: string, value: number, unit: string, notes?: string): BenchRow {
  return {
    benchmark: BENCHMARK,
    metric,
    value: Number(value.toFixed(3)),
    unit,
    ...(notes !== undefined ? { notes } : {}),
  };
}

async function sample(runs: number, fn: () => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await fn();
    times.push(performance.now() - started);
  }
  return times;
}

function mean(samples: readonly number[]): number {
  return samples.reduce((sum, value) => sum + value, 0) / samples.length;
}

function valueOf(result: SandboxRunResult): unknown {
  if (!result.ok)
    throw new Error(`The benchmark program failed: ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

function check(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      `The benchmark program returned ${JSON.stringify(actual)} instead of ${JSON.stringify(expected)}.`,
    );
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await sandboxBench({ quick: process.argv.includes('--quick') });
  console.table(
    rows.map(({ benchmark, metric, value, unit, notes }) => ({ benchmark, metric, value, unit, notes })),
  );
}
