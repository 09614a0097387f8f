/**
 * `methods`: seconds and model calls per question for every strategy on the registry, each run
 * whole through startRun (prompts, retrieval over the real 200-question HotpotQA corpus with BM25,
 * sandbox, trace recording and persistence) with the replay backend standing in for the model, so
 * the seconds are Reckon's own cost per question. The scripts (tests/fixtures/methodScripts.ts) are
 * default-options runs shaped like the strategies' integration tests. Also PyRAG's model calls per
 * question against IRCoT's (the papers: about 3.7 for PyRAG, up to 9 for IRCoT). Then the same
 * strategies on the tiny generated GGUF through node-llama-cpp (tinyGgufRows): the real model path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import { createReplayBackend, formatReplayLine } from '../../main/engine/models/ReplayBackend.ts';
import { RunStore } from '../../main/engine/runs/RunStore.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import { REGISTERED_STRATEGIES } from '../../main/engine/strategies/registry.ts';
import { methodScript, type MethodQuestion } from '../fixtures/methodScripts.ts';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import { defaultInferenceThreads } from '../../main/engine/models/physicalCores.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { SHARED_DATA_DIR, median, type BenchContext, type Benchmark, type BenchRow } from './Benchmark.ts';

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
      // The same engine and corpus, so the corpus is ingested once.
      rows.push(
        ...(await tinyGgufRows(context, engine, records.slice(0, context.quick ? 1 : 2).map(methodQuestion))),
      );
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

/** Context of the tiny-GGUF runs: its vocabulary is a few hundred pieces, so five passages take thousands of tokens. */
const TINY_GGUF_CONTEXT = 8192;

/**
 * Every strategy with defaults on the tiny generated GGUF (random weights) through node-llama-cpp:
 * the real model path, prompt formatting to decoding, at a size any machine runs. What the model
 * writes is noise, so a run may fail (a program that never parses, for one); what is measured is
 * seconds and model calls per question, and that every run ends in a typed result.
 */
async function tinyGgufRows(
  context: BenchContext,
  engine: Engine,
  questions: readonly MethodQuestion[],
): Promise<BenchRow[]> {
  const dir = context.makeTempDir('reckon-bench-methods-gguf-');
  const modelPath = await makeTinyGguf({
    path: path.join(dir, 'tiny.gguf'),
    contextLength: TINY_GGUF_CONTEXT,
  });
  const threads = defaultInferenceThreads();
  const backend = await createLlamaCppBackend({ modelPath, threads, contextSize: TINY_GGUF_CONTEXT });
  const rows: BenchRow[] = [];
  try {
    for (const strategy of REGISTERED_STRATEGIES) {
      const seconds: number[] = [];
      const statuses = new Map<string, number>();
      let calls = 0;
      let tokens = 0;
      for (const q of questions) {
        const started = performance.now();
        const result = await startRun(
          {
            kind: 'question',
            question: q.question,
            strategy: strategy.id,
            model: modelPath,
            corpus: 'hotpot',
            searchMode: 'bm25',
          },
          // One loaded model for every run, as the app keeps it.
          { engine, llm: async () => ({ backend, release: async () => {} }) },
        ).done;
        seconds.push((performance.now() - started) / 1000);
        const outcome = result.error ? `${result.status} (${result.error.code})` : result.status;
        statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1);
        calls += result.metrics.llmCalls;
        tokens += result.metrics.completionTokens;
      }
      const outcomes = [...statuses].map(([status, count]) => `${count} ${status}`).join(', ');
      context.progress(`tiny GGUF, ${strategy.id}: ${outcomes}, p50 ${median(seconds).toFixed(2)} s`);
      rows.push(
        {
          metric: `${strategy.id}: seconds per question p50, tiny GGUF`,
          value: median(seconds),
          unit: 's',
          notes: `${questions.length} question(s), default options, threads=${threads}; ${outcomes} (random weights: failures are typed results, not errors)`,
        },
        {
          metric: `${strategy.id}: model calls per question, tiny GGUF`,
          value: calls / questions.length,
          unit: 'calls',
          notes: `${(tokens / questions.length).toFixed(0)} tokens generated per question`,
        },
      );
    }
  } finally {
    await backend.dispose();
  }
  return rows;
}
