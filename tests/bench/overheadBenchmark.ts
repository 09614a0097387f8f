/**
 * Framework overhead per question: a whole PyRAG run (decompose → plan → execute in the sandbox →
 * adaptive re-run → answer) on real HotpotQA questions over the real 200-question corpus (SQLite
 * BM25), with the replay backend standing in for the model so model time is ~0. What remains is
 * Reckon's own cost per question: prompts, program preparation, sandbox start and host calls,
 * retrieval, trace recording and persistence. Reported beside the time the replay "model" took.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine } from '../../main/engine/createEngine.ts';
import { createReplayBackend, formatReplayLine } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import { SHARED_DATA_DIR, median, percentile, type Benchmark, type BenchRow } from './Benchmark.ts';

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
      const totals: number[] = [];
      const modelMs: number[] = [];
      const executeMs: number[] = [];
      let events = 0;
      for (const [i, record] of records.entries()) {
        const file = path.join(dir, `replay-${i}.jsonl`);
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
            store,
            llm: async (spec) => {
              const backend = await createReplayBackend({ file: spec.slice('replay:'.length) });
              return { backend, release: () => backend.dispose() };
            },
          },
        );
        const started = performance.now();
        const result = await handle.done;
        totals.push(performance.now() - started);
        if (result.status !== 'succeeded')
          throw new Error(`run ${i} ${result.status}: ${result.error?.message}`);
        modelMs.push(result.events.reduce((sum, e) => sum + (e.type === 'llm-call' ? e.durationMs : 0), 0));
        executeMs.push(result.metrics.phaseMs.execute ?? 0);
        events += result.events.length;
        if (i % 10 === 9) context.progress(`${i + 1}/${records.length} questions`);
      }
      const sorted = [...totals].sort((a, b) => a - b);
      const medianTotal = median(totals);
      const medianModel = median(modelMs);
      return [
        {
          metric: 'questions',
          value: records.length,
          unit: 'runs',
          notes: '2 program executions each (the second a boosted re-run), 8 model calls',
        },
        {
          metric: 'overhead per question p50',
          value: medianTotal - medianModel,
          unit: 'ms',
          notes: 'wall time minus replay model time',
        },
        { metric: 'wall time per question p50', value: medianTotal, unit: 'ms' },
        { metric: 'wall time per question p99', value: percentile(sorted, 99), unit: 'ms' },
        { metric: 'replay model time per question p50', value: medianModel, unit: 'ms' },
        {
          metric: 'execute phase per question p50',
          value: median(executeMs),
          unit: 'ms',
          notes: 'sandbox runs incl. retrieval and host calls',
        },
        {
          metric: 'trace events per question',
          value: events / records.length,
          unit: 'events',
          notes: 'each validated and persisted to SQLite',
        },
      ] satisfies BenchRow[];
    } finally {
      store.close();
      await engine.close();
    }
  },
};
