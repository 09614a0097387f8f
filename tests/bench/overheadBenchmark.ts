/**
 * Framework overhead per question: a whole PyRAG run (decompose → plan → execute in the sandbox →
 * adaptive re-run → answer) on real HotpotQA questions over the real 200-question corpus (SQLite
 * BM25), with the replay backend standing in for the model so model time is ~0. What remains is
 * Reckon's own cost per question: prompts, program preparation, sandbox start and host calls,
 * retrieval, trace recording and persistence. Reported beside the time the replay "model" took,
 * and beside the same questions run without a run store (the trace kept in memory only), so the
 * cost of persisting the trace shows as a difference measured in the same run. CPU time per
 * question (all threads of the process) is printed too: unlike wall time it does not grow when
 * other work on the machine takes the cores.
 *
 * Then the trace persistence itself: the events of one recorded run written again into fresh runs,
 * one transaction per event (how the store wrote them before issue 12) against one transaction per
 * step (TraceRecorder's batches at TRACE_STEP_BOUNDARIES), with the schema check the recorder does.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine } from '../../main/engine/createEngine.ts';
import { createReplayBackend, formatReplayLine } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { startRun, type RunResult } from '../../main/engine/runs/startRun.ts';
import { parseTraceEvent } from '../../main/engine/runs/parseTraceEvent.ts';
import { TRACE_STEP_BOUNDARIES } from '../../main/engine/runs/TraceRecorder.ts';
import type { Engine } from '../../main/engine/createEngine.ts';
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
    if (i % 10 === 9) context.progress(`${label}: ${i + 1}/${records.length} questions`);
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
      const stored = await measure(context, 'with run store', records, dir, engine, store);
      const inMemory = await measure(context, 'memory only', records, dir, engine, undefined);
      const persisted = persistenceMs(store, stored.lastEvents);

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
          notes: 'each validated once (at emit) and persisted to SQLite a step at a time',
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
      ] satisfies BenchRow[];
    } finally {
      store.close();
      await engine.close();
    }
  },
};
