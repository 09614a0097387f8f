/**
 * `methods`: seconds and model calls per question for every strategy on the registry, each run
 * whole through startRun (prompts, retrieval over the real 200-question HotpotQA corpus with BM25,
 * sandbox, trace recording and persistence) with the replay backend standing in for the model, so
 * the seconds are Reckon's own cost per question. The scripts (tests/fixtures/methodScripts.ts) are
 * default-options runs shaped like the strategies' integration tests. Also PyRAG's model calls per
 * question against IRCoT's (the papers: about 3.7 for PyRAG, up to 9 for IRCoT).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine } from '../../main/engine/createEngine.ts';
import { createReplayBackend, formatReplayLine } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import { REGISTERED_STRATEGIES } from '../../main/engine/strategies/registry.ts';
import { methodScript, type MethodQuestion } from '../fixtures/methodScripts.ts';
import { SHARED_DATA_DIR, median, type Benchmark, type BenchRow } from './Benchmark.ts';

interface HotpotRecord {
  question: string;
  answer: string;
  supporting_facts?: [string, number][];
  context: [string, string[]][];
}

/** The ratio the papers report: about 3.7 calls per question for PyRAG, up to 9 for IRCoT. */
const PAPER_NOTE = 'papers: PyRAG ~3.7 calls/question, IRCoT up to 9';

function methodQuestion(record: HotpotRecord): MethodQuestion {
  const titles = [...new Set((record.supporting_facts ?? []).map(([title]) => title))];
  const titleA = titles[0] ?? record.context[0]?.[0] ?? 'A';
  const titleB = titles[1] ?? record.context[1]?.[0] ?? 'B';
  return { question: record.question, answer: record.answer, titleA, titleB };
}

export const methodsBenchmark: Benchmark = {
  name: 'methods',
  description: 'seconds and model calls per question for every registered strategy (replay backend)',
  async run(context) {
    const questions = context.quick ? 2 : 10;
    const dir = context.makeTempDir('reckon-bench-methods-');
    const dataset = path.join(SHARED_DATA_DIR, 'hotpotqa', 'dev_distractor_200.json');
    const records = (JSON.parse(fs.readFileSync(dataset, 'utf8')) as HotpotRecord[]).slice(0, questions);
    const engine = createEngine({ dataDir: path.join(dir, 'data'), modelsDir: path.join(dir, 'models') });
    const store = RunStore.open(path.join(dir, 'data'));
    const rows: BenchRow[] = [];
    const callsPerQuestion = new Map<string, number>();
    try {
      context.progress('ingesting the HotpotQA dev corpus (BM25 only)');
      await engine.ingest('hotpot', [dataset], { embedder: 'none' });
      let file = 0;
      for (const strategy of REGISTERED_STRATEGIES) {
        const seconds: number[] = [];
        let calls = 0;
        for (const record of records) {
          const q = methodQuestion(record);
          const script = methodScript(strategy.id, q);
          if (script === undefined) throw new Error(`No method script for strategy "${strategy.id}".`);
          const replay = path.join(dir, `replay-${++file}.jsonl`);
          fs.writeFileSync(replay, script.map((line) => formatReplayLine(line)).join('\n') + '\n');
          const handle = startRun(
            {
              kind: 'question',
              question: q.question,
              strategy: strategy.id,
              model: `replay:${replay}`,
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
          seconds.push((performance.now() - started) / 1000);
          if (result.status !== 'succeeded') {
            throw new Error(`${strategy.id} on "${q.question}" ${result.status}: ${result.error?.message}`);
          }
          calls += result.events.filter((event) => event.type === 'llm-call').length;
        }
        const perQuestion = calls / records.length;
        callsPerQuestion.set(strategy.id, perQuestion);
        context.progress(
          `${strategy.id}: ${perQuestion} calls, p50 ${(median(seconds) * 1000).toFixed(0)} ms`,
        );
        rows.push(
          {
            metric: `${strategy.id}: seconds per question p50`,
            value: median(seconds),
            unit: 's',
            notes: `${records.length} questions; replay model, so Reckon's own time`,
          },
          { metric: `${strategy.id}: model calls per question`, value: perQuestion, unit: 'calls' },
        );
      }
    } finally {
      store.close();
      await engine.close();
    }
    const pyrag = callsPerQuestion.get('pyrag');
    const ircot = callsPerQuestion.get('ircot');
    if (pyrag !== undefined && ircot !== undefined) {
      rows.push({
        metric: 'PyRAG / IRCoT model calls',
        value: pyrag / ircot,
        unit: '×',
        notes: `${pyrag} vs ${ircot} per question on these two-hop scripts; ${PAPER_NOTE} (≈ 0.41)`,
      });
    }
    return rows;
  },
};
