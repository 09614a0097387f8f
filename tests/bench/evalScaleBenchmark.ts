/**
 * `eval-scale`: questions per second of `runEvaluation` against an OpenAI-compatible server at
 * concurrency 1, 4 and 16, measured side by side in one run. The server is a loopback node http
 * server that answers every chat completion after a fixed delay (standing in for a model server's
 * latency), so the ratio against concurrency 1 shows how much of that latency `--concurrency`
 * overlaps; the ideal (min(N, questions)) is printed beside it. Each question is a whole Direct run
 * through startRun (prompt, trace, scoring, results-file append with fsync), so Reckon's own
 * per-question cost is in the figure too.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine } from '../../main/engine/createEngine.ts';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import { EvalResultsFile } from '../../main/engine/eval/run/EvalResultsFile.ts';
import { hashDatasetBytes, runEvaluation } from '../../main/engine/eval/run/runEvaluation.ts';
import { createOpenAiBackend } from '../../main/engine/models/OpenAiBackend.ts';
import type { LlmProvider } from '../../main/engine/models/LlmBackend.ts';
import { startSumsChatServer, writeSumsDataset } from '../fixtures/sumsChatServer.ts';
import type { Benchmark, BenchRow } from './Benchmark.ts';

interface EvalScaleSizes {
  questions: number;
  /** The server's answer delay per completion. */
  delayMs: number;
}
export const FULL_SIZES: EvalScaleSizes = { questions: 32, delayMs: 200 };
export const QUICK_SIZES: EvalScaleSizes = { questions: 16, delayMs: 100 };
export const CONCURRENCIES = [1, 4, 16] as const;
const MODEL = 'bench-model';

export const evalScaleBenchmark: Benchmark = {
  name: 'eval-scale',
  description: 'reckon eval questions/s at --concurrency 1/4/16 against a loopback server with a fixed delay',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    const dir = context.makeTempDir('reckon-bench-eval-scale-');
    const datasetFile = path.join(dir, 'sums.jsonl');
    writeSumsDataset(datasetFile, sizes.questions);
    const dataset = await loadEvalDataset(datasetFile);
    const datasetHash = hashDatasetBytes(fs.readFileSync(datasetFile));
    const engine = createEngine({
      dataDir: path.join(dir, 'data'),
      modelsDir: path.join(dir, 'models'),
      findEmbedders: async () => [],
    });
    const server = await startSumsChatServer(() => sizes.delayMs);
    const llm: LlmProvider = async () => {
      const backend = createOpenAiBackend({ baseUrl: server.baseUrl, model: MODEL });
      return { backend, release: () => backend.dispose() };
    };
    const rows: BenchRow[] = [];
    try {
      let baseline: number | undefined;
      for (const concurrency of CONCURRENCIES) {
        server.stats.maxInFlight = 0;
        const results = EvalResultsFile.open(path.join(dir, `out-${concurrency}`));
        const started = performance.now();
        const outcome = await runEvaluation(
          {
            dataset,
            datasetHash,
            methods: [{ id: 'direct' }],
            models: [`openai:${server.baseUrl}#${MODEL}`],
            corpus: null,
            results,
            concurrency,
          },
          { engine, llm },
        );
        const seconds = (performance.now() - started) / 1000;
        const right = outcome.records.filter((record) => record.score.metrics.em === 1).length;
        if (outcome.records.length !== sizes.questions || right !== sizes.questions)
          throw new Error(
            `concurrency ${concurrency}: ${outcome.records.length} records, ${right} right; expected ${sizes.questions} of each.`,
          );
        const perSecond = sizes.questions / seconds;
        baseline ??= perSecond;
        const ideal = Math.min(concurrency, sizes.questions);
        context.progress(`concurrency ${concurrency}: ${perSecond.toFixed(2)} questions/s`);
        rows.push(
          {
            metric: `concurrency ${concurrency}: questions/s`,
            value: perSecond,
            unit: 'q/s',
            notes: `${sizes.questions} questions, Direct, server delay ${sizes.delayMs} ms; at most ${server.stats.maxInFlight} requests in flight`,
          },
          {
            metric: `concurrency ${concurrency}: speed-up vs concurrency 1`,
            value: perSecond / baseline,
            unit: '×',
            notes: `ideal ${ideal}× (the delay fully overlapped); latency-bound ceiling ${(1000 / sizes.delayMs).toFixed(1)} × N q/s`,
          },
        );
      }
    } finally {
      await server.close();
      await engine.close();
    }
    return rows;
  },
};
