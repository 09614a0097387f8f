/**
 * Framework overhead per question: a whole PyRAG run (decompose → plan → execute in the sandbox →
 * adaptive re-run → answer) on real HotpotQA questions over the real 200-question corpus (SQLite
 * BM25), with the replay backend standing in for the model so model time is ~0. What remains is
 * Reckon's own cost per question: prompts, program preparation, sandbox start and host calls,
 * retrieval, trace recording and persistence. Reported beside the time the replay "model" took,
 * and beside the same questions run without a run store (the trace kept in memory only, five
 * questions at a time in turn with the stored ones), so the cost of persisting the trace shows as a
 * difference measured in the same run. CPU time per
 * question (all threads of the process) is printed too: unlike wall time it does not grow when
 * other work on the machine takes the cores.
 *
 * Then the trace persistence itself: the events of one recorded run written again into fresh runs,
 * one transaction per event (how the store wrote them before issue 12) against one transaction per
 * step (TraceRecorder's batches at TRACE_STEP_BOUNDARIES), with the schema check the recorder does.
 * Last, the floor that isolation sets: a sandbox run of an empty program and of a PyRAG-like program
 * whose tools answer at once (a question runs two programs), and what one hand-over between threads
 * costs when the receiving thread had been idle (a question's host calls hand over about 24 times).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createEngine } from '../../main/engine/createEngine.ts';
import { createReplayBackend, formatReplayLine } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { startRun, type RunResult } from '../../main/engine/runs/startRun.ts';
import { parseTraceEvent } from '../../main/engine/runs/parseTraceEvent.ts';
import {
  DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS,
  TRACE_STEP_BOUNDARIES,
} from '../../main/engine/runs/TraceRecorder.ts';
import type { Engine } from '../../main/engine/createEngine.ts';
import type { HostTools } from '../../main/engine/sandbox/SandboxTypes.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';
import {
  SHARED_DATA_DIR,
  median,
  percentile,
  type BenchContext,
  type Benchmark,
  type BenchRow,
} from './Benchmark.ts';

/** Issue 12's target for Reckon's own time per question (everything but the model). */
export const OVERHEAD_TARGET_MS = 10;
/** Runs of the persistence comparison (each writes one recorded trace twice). */
const PERSIST_ROUNDS = 40;

interface HotpotRecord {
  question: string;
  answer: string;
  context: [string, string[]][];
}

/** A scripted PyRAG run for one question: a bridge-style program whose inner answer is a sentinel (so the boost path runs too). */
function scriptFor(record: HotpotRecord): string {
  const [titleA, titleB] = [record.context[0]?.[0] ?? 'A', record.context[1]?.[0] ?? 'B'];
  const q = JSON.stringify(record.question);
  const program = [
    '```javascript',
    `const docsA = await retrieve(${JSON.stringify(titleA)});`,
    `const factA = await answer(${JSON.stringify(`What is ${titleA}?`)}, docsA);`,
    `const docsB = await retrieve(\`\${factA} ${titleB.replace(/[`$\\]/g, '')}\`);`,
    `const factB = await answer(${JSON.stringify(`What is ${titleB}?`)}, docsB);`,
    `return await answer(\`Given: \${factA}. \${factB}. Answer the question: \${${q}}\`);`,
    '```',
  ].join('\n');
  const lines = [
    { role: 'decompose', output: JSON.stringify([`What is ${titleA}?`, `What is ${titleB}?`]) },
    { role: 'plan', output: program },
    { role: 'answer', output: `[1] says so. <answer>${titleA}</answer>` },
    { role: 'answer', output: '<answer>unknown</answer>' },
    { role: 'answer', output: '<answer>unknown</answer>' },
    // Boosted re-run.
    { role: 'answer', output: `[1] says so. <answer>${titleA}</answer>` },
    { role: 'answer', output: `[2] says so. <answer>${titleB}</answer>` },
    { role: 'answer', output: `Both documents. <answer>${record.answer}</answer>` },
  ];
  return lines.map((line) => formatReplayLine(line)).join('\n') + '\n';
}

/** Questions measured in a row on one side (store / memory only) before switching. */
const INTERLEAVE = 5;
/** Host calls of the floor program: what PyRAG's bridge programs make. */
const FLOOR_PROGRAM_CALLS = 5;
const FLOOR_PROGRAM = `(async () => {
  const a = await retrieve("first hop");
  const f = await answer("What is it?", a);
  const b = await retrieve(f + " second hop");
  const g = await answer("And this?", b);
  return await answer("Given " + f + " and " + g + ", answer.");
})()`;

/**
 * What isolation costs by itself: p50 of a sandbox run of an empty program, and of FLOOR_PROGRAM
 * with tools that answer at once (five 600-character passages per retrieve), on the engine's warm
 * sandbox. Part of every question's overhead that no host-side change removes.
 */
async function sandboxFloor(engine: Engine, runs: number): Promise<{ empty: number; calls: number }> {
  const passages = Array.from({ length: 5 }, (_, id) => ({
    id,
    title: `Passage ${id}`,
    text: 'word '.repeat(120),
    score: 1,
    source: 'corpus',
  }));
  const tools: HostTools = {
    retrieve: { validate: (args) => args, call: async () => passages, usage: 'retrieve(query)' },
    answer: { validate: (args) => args, call: async () => 'an answer', usage: 'answer(question, docs)' },
  };
  const time = async (script: string): Promise<number> => {
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const result = await engine.runProgram({ script, tools });
      ms.push(performance.now() - started);
      if (!result.ok) throw new Error(`floor program failed: ${result.error.message}`);
    }
    return median(ms);
  };
  return { empty: await time('1'), calls: await time(FLOOR_PROGRAM) };
}

/**
 * What one hand-over between threads costs on this machine: p50 of the time from postMessage on this
 * thread to the message handler running in a worker, when the worker had nothing to do for ~0 ms
 * (messages back to back) and for ~1 ms (as between a question's host calls). On a VM an idle core
 * halts, and waking it goes through the hypervisor; a question hands over about 24 times.
 */
async function handOverMs(rounds: number): Promise<{ awake: number; idle: number }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', () => parentPort.postMessage(performance.timeOrigin + performance.now()));`,
    { eval: true },
  );
  try {
    const once = (): Promise<number> =>
      new Promise((resolve) => {
        worker.once('message', (received: number) => resolve(received - sentAt));
        const sentAt = performance.timeOrigin + performance.now();
        worker.postMessage(0);
      });
    await once();
    const spin = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // This thread stays awake; only the worker waits.
      }
    };
    const sample = async (idleMs: number): Promise<number> => {
      const ms: number[] = [];
      for (let i = 0; i < rounds; i++) {
        spin(idleMs);
        ms.push(await once());
      }
      return median(ms);
    };
    return { awake: await sample(0), idle: await sample(1) };
  } finally {
    await worker.terminate();
  }
}

function emptyMeasured(): Measured {
  return { totals: [], modelMs: [], executeMs: [], cpuMs: [], events: 0, lastEvents: [] };
}

function merge(into: Measured, part: Measured): void {
  into.totals.push(...part.totals);
  into.modelMs.push(...part.modelMs);
  into.executeMs.push(...part.executeMs);
  into.cpuMs.push(...part.cpuMs);
  into.events += part.events;
  into.lastEvents = part.lastEvents;
}

interface Measured {
  totals: number[];
  modelMs: number[];
  executeMs: number[];
  cpuMs: number[];
  events: number;
  lastEvents: TraceEvent[];
}

/** Runs every record as a PyRAG question (replay model); `store` undefined keeps traces in memory only. */
async function measure(
  context: BenchContext,
  label: string,
  records: readonly HotpotRecord[],
  dir: string,
  engine: Engine,
  store: RunStore | undefined,
): Promise<Measured> {
  const measured: Measured = { totals: [], modelMs: [], executeMs: [], cpuMs: [], events: 0, lastEvents: [] };
  for (const [i, record] of records.entries()) {
    const file = path.join(dir, `replay-${label}-${i}.jsonl`);
    fs.writeFileSync(file, scriptFor(record));
    const handle = startRun(
      {
        kind: 'question',
        question: record.question,
        strategy: 'pyrag',
        model: `replay:${file}`,
        corpus: 'hotpot',
        searchMode: 'bm25',
      },
      {
        engine,
        ...(store ? { store } : {}),
        llm: async (spec) => {
          const backend = await createReplayBackend({ file: spec.slice('replay:'.length) });
          return { backend, release: () => backend.dispose() };
        },
      },
    );
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result: RunResult = await handle.done;
    measured.totals.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuBefore);
    measured.cpuMs.push((cpu.user + cpu.system) / 1000);
    if (result.status !== 'succeeded') throw new Error(`run ${i} ${result.status}: ${result.error?.message}`);
    measured.modelMs.push(
      result.events.reduce((sum, e) => sum + (e.type === 'llm-call' ? e.durationMs : 0), 0),
    );
    measured.executeMs.push(result.metrics.phaseMs.execute ?? 0);
    measured.events += result.events.length;
    measured.lastEvents = result.events;
  }
  return measured;
}

/**
 * Writes `events` (one run's trace) into PERSIST_ROUNDS fresh runs both ways and returns ms per
 * trace: one appendEvent transaction per event, and one appendEvents transaction per step. Both
 * parse each event once, as the recorder does.
 */
function persistenceMs(
  store: RunStore,
  events: readonly TraceEvent[],
): { perEvent: number[]; perStep: number[] } {
  const steps: TraceEvent[][] = [[]];
  for (const event of events) {
    steps.at(-1)!.push(event);
    if (TRACE_STEP_BOUNDARIES.has(event.type)) steps.push([]);
  }
  const perEvent: number[] = [];
  const perStep: number[] = [];
  const write = (round: number, how: 'event' | 'step'): number => {
    const runId = `persist-${how}-${round}`;
    store.createRun({
      id: runId,
      question: 'q',
      corpus: null,
      strategy: 'pyrag',
      model: 'replay',
      createdAt: 1,
    });
    const started = performance.now();
    if (how === 'event') {
      for (const event of events) store.appendEvent(parseTraceEvent({ ...event, runId }));
    } else {
      for (const step of steps) {
        if (step.length > 0) store.appendEvents(step.map((event) => parseTraceEvent({ ...event, runId })));
      }
    }
    return performance.now() - started;
  };
  for (let round = 0; round < PERSIST_ROUNDS; round++) {
    // Alternate, so drift in the machine's load falls on both sides alike.
    perEvent.push(write(round, 'event'));
    perStep.push(write(round, 'step'));
  }
  return { perEvent, perStep };
}

export const overheadBenchmark: Benchmark = {
  name: 'overhead',
  description: 'Reckon overhead per question (PyRAG with the replay backend: everything except model time)',
  async run(context) {
    const questions = context.quick ? 5 : 40;
    const dir = context.makeTempDir('reckon-bench-overhead-');
    const dataset = path.join(SHARED_DATA_DIR, 'hotpotqa', 'dev_distractor_200.json');
    const records = (JSON.parse(fs.readFileSync(dataset, 'utf8')) as HotpotRecord[]).slice(0, questions);
    const engine = createEngine({ dataDir: path.join(dir, 'data'), modelsDir: path.join(dir, 'models') });
    const store = RunStore.open(path.join(dir, 'data'));
    try {
      context.progress('ingesting the HotpotQA dev corpus (BM25 only)');
      await engine.ingest('hotpot', [dataset], { embedder: 'none' });
      // One untimed question first: the sandbox and preparation workers start on the first run.
      await measure(context, 'warm-up', records.slice(0, 1), dir, engine, store);
      // How many transactions the recorder writes a question's trace in.
      let traceWrites = 0;
      const appendEvents = store.appendEvents.bind(store);
      store.appendEvents = (events, outputs) => {
        traceWrites += 1;
        appendEvents(events, outputs);
      };
      // Five questions with the store, the same five without, and so on: drift in the machine's load
      // and the JIT warming up fall on both sides alike.
      const stored = emptyMeasured();
      const inMemory = emptyMeasured();
      for (let from = 0; from < records.length; from += INTERLEAVE) {
        const chunk = records.slice(from, from + INTERLEAVE);
        merge(stored, await measure(context, `with run store ${from}`, chunk, dir, engine, store));
        merge(inMemory, await measure(context, `memory only ${from}`, chunk, dir, engine, undefined));
        context.progress(`${from + chunk.length}/${records.length} questions, with and without the store`);
      }
      const writesPerQuestion = traceWrites / records.length;
      store.appendEvents = appendEvents;
      const floor = await sandboxFloor(engine, context.quick ? 20 : 100);
      const persisted = persistenceMs(store, stored.lastEvents);
      const handOver = await handOverMs(context.quick ? 50 : 300);

      const sorted = [...stored.totals].sort((a, b) => a - b);
      const medianTotal = median(stored.totals);
      const medianModel = median(stored.modelMs);
      const overhead = medianTotal - medianModel;
      const memoryOverhead = median(inMemory.totals) - median(inMemory.modelMs);
      const perEvent = median(persisted.perEvent);
      const perStep = median(persisted.perStep);
      return [
        {
          metric: 'questions',
          value: records.length,
          unit: 'runs',
          notes: '2 program executions each (the second a boosted re-run), 8 model calls',
        },
        {
          metric: 'overhead per question p50',
          value: overhead,
          unit: 'ms',
          notes: `wall time minus replay model time; target ≤ ${OVERHEAD_TARGET_MS} ms (${overhead <= OVERHEAD_TARGET_MS ? 'met' : 'not met'})`,
        },
        { metric: 'wall time per question p50', value: medianTotal, unit: 'ms' },
        { metric: 'wall time per question p99', value: percentile(sorted, 99), unit: 'ms' },
        {
          metric: 'CPU time per question p50',
          value: median(stored.cpuMs),
          unit: 'ms',
          notes:
            'process.cpuUsage, all threads (sandbox worker included); not inflated by waiting for a core',
        },
        { metric: 'replay model time per question p50', value: medianModel, unit: 'ms' },
        {
          metric: 'execute phase per question p50',
          value: median(stored.executeMs),
          unit: 'ms',
          notes: 'sandbox runs incl. retrieval and host calls',
        },
        {
          metric: 'overhead p50, trace in memory only',
          value: memoryOverhead,
          unit: 'ms',
          notes: 'same questions, no run store: the difference is what persisting the trace costs',
        },
        {
          metric: 'trace events per question',
          value: stored.events / records.length,
          unit: 'events',
          notes: 'each validated once (at emit) and persisted to SQLite in batches (see trace writes)',
        },
        {
          metric: 'trace writes per question',
          value: writesPerQuestion,
          unit: 'transactions',
          notes: `a step that ends within ${DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS} ms of the last write is written with the next; one per step would be ${stored.lastEvents.filter((event) => TRACE_STEP_BOUNDARIES.has(event.type)).length}`,
        },
        {
          metric: 'persist a trace, a transaction per event',
          value: perEvent,
          unit: 'ms',
          notes: `p50 of ${PERSIST_ROUNDS}; ${stored.lastEvents.length} events, as written before issue 12`,
        },
        {
          metric: 'persist a trace, a transaction per step',
          value: perStep,
          unit: 'ms',
          notes: `p50 of ${PERSIST_ROUNDS}; TraceRecorder's batches`,
        },
        { metric: 'per-event / per-step persistence', value: perEvent / perStep, unit: 'x' },
        {
          metric: 'hand-over to a thread idle ~1 ms, p50',
          value: handOver.idle,
          unit: 'ms',
          notes: `postMessage to the handler running in a worker that waited ~1 ms (a question hands over ~24 times); ${handOver.awake.toFixed(3)} ms when it had just run`,
        },
        {
          metric: 'sandbox run, empty program, p50',
          value: floor.empty,
          unit: 'ms',
          notes: 'engine.runProgram("1"): a fresh QuickJS runtime and context in the warm worker, and back',
        },
        {
          metric: 'sandbox run, 5 instant host calls, p50',
          value: floor.calls,
          unit: 'ms',
          notes: `${FLOOR_PROGRAM_CALLS} calls like a PyRAG program's (2 retrieve returning 5 passages, 3 answer), tools that return at once; a question runs 2 such programs`,
        },
      ] satisfies BenchRow[];
    } finally {
      store.close();
      await engine.close();
    }
  },
};
