/**
 * `scale` (opt-in: `npm run bench -- --only scale [--passages N] [--quick]`): Reckon on a corpus the
 * size the papers retrieve from. Wikipedia 2018 as FlashRAG ships it (wiki-18) is 21M passages of
 * JSON lines `{"id": "…", "contents": "\"Title\"\ntext"}`; this writes a corpus of N passages
 * (default 1,000,000) in that format, made from the real paragraphs of the shared QA datasets, varied
 * deterministically (bm25Benchmark's variedText, mulberry32 seeded), in shards of
 * PASSAGES_PER_SHARD lines (a single file above the parser's 64 MiB limit is refused, so wiki-18
 * is split the same way: `split -l 10000 psgs_w100.jsonl shard-`).
 *
 * It ingests the shards through the engine (the path `reckon ingest` takes) in two stages — the
 * first 10% of the shards, then all of them (the first ones unchanged, skipped by hash) — and
 * measures passages/s, RSS at 10%, 50% and 100% of the passages (memory must not grow with the
 * corpus), database bytes per passage, BM25 p50/p99 at 10% and at 100% (the growth exponent the 21M
 * estimate uses), and the time to re-open the corpus and answer a first query in a new engine.
 *
 * Dense search is measured on a sample (10% of the passages, at most DENSE_SAMPLE = 100,000: 100k at
 * the default 1M; embedding N passages with a real
 * encoder on a 2-core machine takes hours): the sample is embedded with a generated encoder (random
 * bag-of-words projection to 384 dimensions, real tokenizer; see makeTinyEncoder) and indexed by
 * usearch HNSW as f32 and as i8, both compared with exact search on the same vectors (recall@10)
 * and by size. Every figure labelled "estimate" is an extrapolation, with its formula in the notes.
 */
import fs from 'node:fs';
import path from 'node:path';
import usearch from 'usearch';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import type { IngestProgressEvent } from '../../main/engine/corpus/ingestPaths.ts';
import {
  DEFAULT_CONNECTIVITY,
  DEFAULT_EXPANSION_ADD,
  DEFAULT_EXPANSION_SEARCH,
} from '../../main/engine/corpus/search/VectorIndex.ts';
import { loadTransformersEmbedder } from '../../main/engine/models/TransformersEmbedder.ts';
import { DEFAULT_BM25_MAX_POSTINGS } from '../../main/engine/corpus/search/bm25Plan.ts';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';
import { mulberry32 } from '../fixtures/mulberry32.ts';
import { bruteForceTopK, recallAtK, TOP_K } from './annBenchmark.ts';
import { directoryBytes, variedText } from './bm25Benchmark.ts';
import { MIB, summarize, throttle, type BenchContext, type BenchRow, type Benchmark } from './Benchmark.ts';
import { loadQaText, type QaParagraph } from './loadQaText.ts';

/** Passages by default, as in the issue (wiki-18 has 21M). */
export const DEFAULT_SCALE_PASSAGES = 1_000_000;
/** Passages with --quick. */
export const QUICK_SCALE_PASSAGES = 20_000;
/** JSON lines per shard file: about 6 MB, far below the parser's 64 MiB limit per file. */
export const PASSAGES_PER_SHARD = 10_000;
/** Passages embedded and indexed for the dense comparison: this fraction of the corpus… */
export const DENSE_SAMPLE_FRACTION = 0.1;
/** …but at most this many (embedding is the slow part on 2 cores). */
export const DENSE_SAMPLE = 100_000;
/** BM25 and dense queries: real questions of the QA datasets (quick: 50). */
export const SCALE_QUERIES = 200;
const QUICK_SCALE_QUERIES = 50;
/** The size the papers' corpus has: wiki-18 in FlashRAG's format. */
export const WIKI18_PASSAGES = 21_000_000;
/** Dimension of the generated encoder's vectors (all-MiniLM-L6's). */
const DENSE_DIMENSION = 384;
/** Fractions of the corpus at which RSS is reported. */
const RSS_MILESTONES = [0.1, 0.5, 1] as const;
/** RSS is sampled this often during ingestion, in ms. */
const RSS_SAMPLE_MS = 250;

interface Stage {
  ms: number;
  passages: number;
  peakRss: number;
  /** RSS when the corpus first held each milestone's passages (the last one at the end). */
  rssAt: Map<number, number>;
}

export const scaleBenchmark: Benchmark = {
  name: 'scale',
  optIn: true,
  description:
    'wiki-18-format corpus of N passages (--passages, default 1M): ingest rate, RSS, bytes, BM25, i8 vs f32 dense, re-open',
  async run(context) {
    const passages = context.passages ?? (context.quick ? QUICK_SCALE_PASSAGES : DEFAULT_SCALE_PASSAGES);
    const queryCount = context.quick ? QUICK_SCALE_QUERIES : SCALE_QUERIES;
    const denseSample = Math.min(DENSE_SAMPLE, Math.ceil(passages * DENSE_SAMPLE_FRACTION));
    const dir = context.makeTempDir('reckon-bench-scale-');
    const shardDir = path.join(dir, 'wiki-shards');
    const dataDir = path.join(dir, 'data');
    const qa = loadQaText();
    const queries = [...new Set(qa.questions)].slice(0, queryCount);

    const shards = Math.ceil(passages / PASSAGES_PER_SHARD);
    const firstStageShards = Math.max(1, Math.round(shards * RSS_MILESTONES[0]));
    const random = mulberry32();
    const writeShards = (from: number, to: number): void => {
      for (let shard = from; shard < to; shard++) {
        const lines: string[] = [];
        const end = Math.min(passages, (shard + 1) * PASSAGES_PER_SHARD);
        for (let n = shard * PASSAGES_PER_SHARD; n < end; n++) lines.push(wikiLine(n, qa.paragraphs, random));
        fs.writeFileSync(
          path.join(shardDir, `shard-${String(shard).padStart(5, '0')}.jsonl`),
          lines.join(''),
        );
      }
    };
    fs.mkdirSync(shardDir, { recursive: true });
    context.progress(`writing ${firstStageShards} of ${shards} shards (${PASSAGES_PER_SHARD} passages each)`);
    writeShards(0, firstStageShards);

    let engine = createEngine({ dataDir, modelsDir: path.join(dir, 'models') });
    try {
      const first = await ingestStage(context, engine, shardDir, passages, 'stage 1 (10%)');
      const bm25AtTenth = await bm25Latencies(engine, queries, context.progress);
      context.progress(`writing shards ${firstStageShards}–${shards - 1}`);
      writeShards(firstStageShards, shards);
      const sourceBytes = directoryBytes(shardDir);
      const second = await ingestStage(context, engine, shardDir, passages, 'stage 2 (100%)', first.passages);
      const corpusDir = engine.library.corpusDir('wiki');
      const dbBytes = directoryBytes(corpusDir);
      const bm25 = await bm25Latencies(engine, queries, context.progress);
      const stored = engine.listCorpora().find((corpus) => corpus.name === 'wiki');
      await engine.close();

      const reopenStarted = performance.now();
      engine = createEngine({ dataDir, modelsDir: path.join(dir, 'models') });
      const retriever = engine.openRetriever('wiki', { embedder: 'none' });
      const opened = performance.now() - reopenStarted;
      await retriever.search(queries[0]!, { k: TOP_K, mode: 'bm25' });
      const reopenAndQuery = performance.now() - reopenStarted;
      retriever.close();

      const rate = (second.passages - first.passages) / (second.ms / 1000);
      const rows: BenchRow[] = [
        {
          metric: 'passages',
          value: second.passages,
          unit: 'passages',
          notes: `${shards} wiki-18-format shards, ${(sourceBytes / second.passages).toFixed(0)} B of JSONL per passage; ${stored?.stats?.sections ?? '?'} sections (distinct passages), ${stored?.stats?.chunks ?? '?'} chunks`,
        },
        {
          metric: 'ingest rate (stage 2)',
          value: rate,
          unit: 'passages/s',
          notes: `BM25 only; ${second.passages - first.passages} passages in ${(second.ms / 1000).toFixed(0)} s after ${first.passages} (${(first.passages / (first.ms / 1000)).toFixed(0)}/s in stage 1)`,
        },
        ...RSS_MILESTONES.map((fraction) => ({
          metric: `RSS at ${fraction * 100}% of the passages`,
          value: (fraction === RSS_MILESTONES[0] ? first : second).rssAt.get(fraction)! / MIB,
          unit: 'MiB',
          notes: 'whole process, parse workers included',
        })),
        {
          metric: 'peak RSS while ingesting',
          value: Math.max(first.peakRss, second.peakRss) / MIB,
          unit: 'MiB',
          notes: `sampled every ${RSS_SAMPLE_MS} ms; stage 1 ${(first.peakRss / MIB).toFixed(0)}, stage 2 ${(second.peakRss / MIB).toFixed(0)}`,
        },
        {
          metric: 'database bytes per passage',
          value: dbBytes / second.passages,
          unit: 'B',
          notes: `corpus folder (SQLite + FTS5, WAL checkpointed on close): ${(dbBytes / MIB).toFixed(0)} MiB`,
        },
        {
          metric: 'BM25 p50 at 10%',
          value: bm25AtTenth.exact.p50,
          unit: 'ms',
          notes: `exact (every query word); ${first.passages} passages, ${queries.length} questions, k=${TOP_K}`,
        },
        {
          metric: 'BM25 p50 at 10%, bounded',
          value: bm25AtTenth.bounded.p50,
          unit: 'ms',
          notes: `at most ${DEFAULT_BM25_MAX_POSTINGS} postings (the default bm25MaxPostings)`,
        },
        {
          metric: 'BM25 p50',
          value: bm25.exact.p50,
          unit: 'ms',
          notes: `exact (bm25MaxPostings 0); ${second.passages} passages`,
        },
        {
          metric: 'BM25 p99',
          value: bm25.exact.p99,
          unit: 'ms',
          notes: `exact; ${second.passages} passages`,
        },
        {
          metric: 'BM25 p50, bounded',
          value: bm25.bounded.p50,
          unit: 'ms',
          notes: `default bm25MaxPostings ${DEFAULT_BM25_MAX_POSTINGS}: the commonest query words left out past it; same questions, in turn with the exact ones`,
        },
        {
          metric: 'BM25 p99, bounded',
          value: bm25.bounded.p99,
          unit: 'ms',
          notes: `${second.passages} passages`,
        },
        { metric: 'BM25 bounded / exact p50', value: bm25.bounded.p50 / bm25.exact.p50, unit: 'x' },
        {
          metric: 'BM25 bounded: top-10 agreement with exact',
          value: bm25.agreement,
          unit: 'fraction',
          notes: `mean share of the exact top ${TOP_K} the bounded search returned; ${(bm25.pruned * 100).toFixed(0)}% of the questions left words out (${(bm25AtTenth.pruned * 100).toFixed(0)}% at 10%, agreement ${bm25AtTenth.agreement.toFixed(3)})`,
        },
        {
          metric: 're-open: engine + retriever',
          value: opened,
          unit: 'ms',
          notes: 'createEngine + openRetriever on the existing corpus',
        },
        {
          metric: 're-open + first BM25 query',
          value: reopenAndQuery,
          unit: 'ms',
          notes: 'cold page cache not forced: the file was just written',
        },
      ];
      rows.push(...(await denseRows(context, dir, qa.paragraphs, queries, denseSample)));
      rows.push(...extrapolation(second.passages, rate, dbBytes / second.passages, first, bm25AtTenth, bm25));
      return rows;
    } finally {
      await engine.close();
    }
  },
};

/** Passage `n` as one line of FlashRAG's wiki-18 JSONL. */
function wikiLine(n: number, paragraphs: readonly QaParagraph[], random: () => number): string {
  const { title, text } = variedText(n, paragraphs, random);
  return `${JSON.stringify({ id: String(n), contents: `"${title}"\n${text}` })}\n`;
}

/** Ingests the shard folder into corpus "wiki", sampling RSS; `before` passages were there already. */
async function ingestStage(
  context: BenchContext,
  engine: Engine,
  shardDir: string,
  total: number,
  label: string,
  before = 0,
): Promise<Stage> {
  const stage: Stage = { ms: 0, passages: before, peakRss: 0, rssAt: new Map() };
  const sample = (): number => {
    const rss = process.memoryUsage.rss();
    stage.peakRss = Math.max(stage.peakRss, rss);
    return rss;
  };
  const timer = setInterval(sample, RSS_SAMPLE_MS);
  const report = throttle((event: IngestProgressEvent) =>
    context.progress(
      `${label}: ${event.phase} ${event.filesDone}/${event.filesTotal} files, ${before + event.chunksWritten} passages, RSS ${(sample() / MIB).toFixed(0)} MiB`,
    ),
  );
  const started = performance.now();
  try {
    const result = await engine.ingest('wiki', [shardDir], {
      embedder: 'none',
      onProgress: (event) => {
        const held = before + event.chunksWritten;
        for (const fraction of RSS_MILESTONES) {
          if (fraction < 1 && held >= fraction * total && !stage.rssAt.has(fraction))
            stage.rssAt.set(fraction, sample());
        }
        report(event);
      },
    });
    if (result.failed.length > 0)
      throw new Error(`${result.failed.length} shards failed, e.g. ${result.failed[0]!.message}`);
    stage.passages = before + result.chunksWritten;
  } finally {
    clearInterval(timer);
  }
  stage.ms = performance.now() - started;
  const rss = sample();
  if (!stage.rssAt.has(RSS_MILESTONES[0])) stage.rssAt.set(RSS_MILESTONES[0], rss);
  stage.rssAt.set(1, rss);
  context.progress(`${label}: ${stage.passages} passages after ${(stage.ms / 1000).toFixed(1)} s`);
  return stage;
}

interface Bm25Measured {
  /** Exact BM25 (bm25MaxPostings 0): every query word scored. */
  exact: { p50: number; p99: number };
  /** The default bound (DEFAULT_BM25_MAX_POSTINGS). */
  bounded: { p50: number; p99: number };
  /** Mean share of the exact top 10 that the bounded search also returned. */
  agreement: number;
  /** Share of the questions whose bounded search left words out. */
  pruned: number;
  /** p50 of the bounded search over those questions only (undefined when there were none). */
  boundedWhenPruned: number | undefined;
}

/**
 * BM25 over `queries`, exact and with the default bound, side by side (each question both ways in
 * turn), through a retriever as a run makes them; and how much of the exact top 10 the bounded
 * search kept.
 */
async function bm25Latencies(
  engine: Engine,
  queries: readonly string[],
  progress: (message: string) => void,
): Promise<Bm25Measured> {
  const retriever = engine.openRetriever('wiki', { embedder: 'none' });
  try {
    const search = (query: string, bm25MaxPostings: number) =>
      retriever.search(query, { k: TOP_K, mode: 'bm25', bm25MaxPostings });
    await search(queries[0]!, 0);
    await search(queries[0]!, DEFAULT_BM25_MAX_POSTINGS);
    const exactMs: number[] = [];
    const boundedMs: number[] = [];
    let agreement = 0;
    const prunedMs: number[] = [];
    for (const query of queries) {
      let started = performance.now();
      const exact = await search(query, 0);
      exactMs.push(performance.now() - started);
      started = performance.now();
      const bounded = await search(query, DEFAULT_BM25_MAX_POSTINGS);
      boundedMs.push(performance.now() - started);
      const truth = new Set(exact.hits.map((hit) => hit.chunkId));
      const kept = bounded.hits.filter((hit) => truth.has(hit.chunkId)).length;
      agreement += truth.size === 0 ? 1 : kept / truth.size;
      if (bounded.warnings.length > 0) prunedMs.push(boundedMs.at(-1)!);
      if (exactMs.length % 50 === 0)
        progress(`BM25: ${exactMs.length}/${queries.length} questions, exact and bounded`);
    }
    const exactSummary = summarize(exactMs);
    const boundedSummary = summarize(boundedMs);
    return {
      exact: { p50: exactSummary.p50, p99: exactSummary.p99 },
      bounded: { p50: boundedSummary.p50, p99: boundedSummary.p99 },
      agreement: agreement / queries.length,
      pruned: prunedMs.length / queries.length,
      boundedWhenPruned: prunedMs.length > 0 ? summarize(prunedMs).p50 : undefined,
    };
  } finally {
    retriever.close();
  }
}

/** The sample embedded with the generated encoder, indexed as f32 and i8, against exact search. */
async function denseRows(
  context: BenchContext,
  dir: string,
  paragraphs: readonly QaParagraph[],
  queries: readonly string[],
  sample: number,
): Promise<BenchRow[]> {
  const encoderDir = path.join(dir, 'encoder');
  await makeTinyEncoder({ dir: encoderDir, dimension: DENSE_DIMENSION });
  const embedder = await loadTransformersEmbedder({ modelDir: encoderDir });
  const d = DENSE_DIMENSION;
  const data = new Float32Array(sample * d);
  const queryVectors = new Float32Array(queries.length * d);
  let embedMs = 0;
  try {
    // The same passages as the corpus's first `sample` (same generator, same seed).
    const random = mulberry32();
    const batch = 1_000;
    const report = throttle((done: number) =>
      context.progress(`embedding the dense sample: ${done}/${sample}`),
    );
    for (let start = 0; start < sample; start += batch) {
      const texts: string[] = [];
      for (let n = start; n < Math.min(sample, start + batch); n++) {
        const { title, text } = variedText(n, paragraphs, random);
        texts.push(`${title}\n${text}`);
      }
      const started = performance.now();
      const vectors = await embedder.embed(texts);
      embedMs += performance.now() - started;
      vectors.forEach((vector, i) => data.set(vector, (start + i) * d));
      report(start + texts.length);
    }
    (await embedder.embed(queries)).forEach((vector, i) => queryVectors.set(vector, i * d));
  } finally {
    await embedder.dispose();
  }

  context.progress(`exact top-${TOP_K} for ${queries.length} queries over ${sample} vectors`);
  const truth = new Int32Array(queries.length * TOP_K);
  for (let q = 0; q < queries.length; q++)
    bruteForceTopK(data, sample, d, queryVectors.subarray(q * d, (q + 1) * d), truth, q * TOP_K);

  const rows: BenchRow[] = [
    {
      metric: 'dense sample',
      value: sample,
      unit: 'passages',
      notes: `the first ${sample} passages, embedded at ${(sample / (embedMs / 1000)).toFixed(0)}/s by a generated 384-d bag-of-words encoder (real tokenizer, random weights)`,
    },
  ];
  const sizes = new Map<string, number>();
  for (const kind of [usearch.ScalarKind.F32, usearch.ScalarKind.I8]) {
    const index = new usearch.Index({
      dimensions: d,
      metric: usearch.MetricKind.Cos,
      quantization: kind,
      connectivity: DEFAULT_CONNECTIVITY,
      expansion_add: DEFAULT_EXPANSION_ADD,
      expansion_search: DEFAULT_EXPANSION_SEARCH,
      multi: false,
    });
    context.progress(`building the ${kind} HNSW index`);
    const buildStarted = performance.now();
    const keys = new BigUint64Array(sample);
    for (let i = 0; i < sample; i++) keys[i] = BigInt(i);
    for (let start = 0; start < sample; start += 10_000) {
      const end = Math.min(sample, start + 10_000);
      index.add(keys.subarray(start, end), data.subarray(start * d, end * d));
    }
    const buildMs = performance.now() - buildStarted;
    const file = path.join(dir, `dense-${kind}.usearch`);
    index.save(file);
    const bytes = fs.statSync(file).size;
    sizes.set(kind, bytes);
    const found = new Int32Array(queries.length * TOP_K).fill(-1);
    const ms: number[] = [];
    for (let q = 0; q < queries.length; q++) {
      const started = performance.now();
      const result = index.search(queryVectors.subarray(q * d, (q + 1) * d), TOP_K, 0);
      ms.push(performance.now() - started);
      result.keys.forEach((key, i) => (found[q * TOP_K + i] = Number(key)));
    }
    const recall = recallAtK(found, truth, queries.length);
    const latency = summarize(ms);
    rows.push(
      {
        metric: `dense ${kind} recall@${TOP_K}`,
        value: recall.mean,
        unit: 'fraction',
        notes: `HNSW vs exact f32 search, ${queries.length} questions; worst query ${recall.worst}`,
      },
      {
        metric: `dense ${kind} index bytes per vector`,
        value: bytes / sample,
        unit: 'B',
        notes: `${(bytes / MIB).toFixed(1)} MiB saved; built in ${(buildMs / 1000).toFixed(1)} s`,
      },
      {
        metric: `dense ${kind} search p50`,
        value: latency.p50,
        unit: 'ms',
        notes: `p99 ${latency.p99.toFixed(2)} ms`,
      },
    );
  }
  rows.push({
    metric: 'dense i8 / f32 index size',
    value: sizes.get(usearch.ScalarKind.I8)! / sizes.get(usearch.ScalarKind.F32)!,
    unit: 'x',
  });
  return rows;
}

/** The 21M-passage estimates: linear in the passages for time and bytes, the measured exponent for BM25. */
function extrapolation(
  passages: number,
  rate: number,
  bytesPerPassage: number,
  first: Stage,
  bm25AtTenth: Bm25Measured,
  bm25Measured: Bm25Measured,
): BenchRow[] {
  const factor = WIKI18_PASSAGES / passages;
  const bm25 = bm25Measured.exact;
  // p50(N) ≈ p50(n)·(N/n)^b, b from the two corpus sizes measured here.
  const growth = (at: { p50: number }, atTenth: { p50: number }): number =>
    Math.log(at.p50 / atTenth.p50) / Math.log(passages / first.passages);
  const exponent = growth(bm25, bm25AtTenth.exact);
  return [
    {
      metric: 'estimate: 21M ingest time',
      value: WIKI18_PASSAGES / rate / 3600,
      unit: 'h',
      notes:
        '21e6 / (stage-2 passages/s); assumes the rate holds (it did from 10% to 100% if the stage rates match)',
    },
    {
      metric: 'estimate: 21M database size',
      value: (WIKI18_PASSAGES * bytesPerPassage) / 1024 ** 3,
      unit: 'GiB',
      notes: '21e6 × bytes per passage',
    },
    {
      metric: 'BM25 p50 growth exponent b',
      value: exponent,
      unit: '',
      notes: `log(p50 at ${passages} / p50 at ${first.passages}) / log(${(passages / first.passages).toFixed(1)}); 1 = linear`,
    },
    {
      metric: 'estimate: 21M BM25 p50',
      value: bm25.p50 * Math.pow(factor, Math.max(exponent, 0)),
      unit: 'ms',
      notes: `p50 × (21e6 / ${passages})^b`,
    },
    {
      metric: 'estimate: 21M BM25 p99',
      value: bm25.p99 * Math.pow(factor, Math.max(exponent, 0)),
      unit: 'ms',
      notes: `p99 × (21e6 / ${passages})^b`,
    },
    ...(bm25Measured.boundedWhenPruned === undefined
      ? []
      : [
          {
            metric: 'BM25 p50, bounded, questions at the bound',
            value: bm25Measured.boundedWhenPruned,
            unit: 'ms',
            notes: `the ${(bm25Measured.pruned * 100).toFixed(0)}% of the questions whose words together were in more than ${DEFAULT_BM25_MAX_POSTINGS} passages`,
          },
          {
            metric: 'estimate: 21M BM25 p50, bounded',
            value: bm25Measured.boundedWhenPruned,
            unit: 'ms',
            notes:
              'the bounded p50 of the questions at the bound here: a bounded query scores at most the bound and counts each word only up to it, so its work does not grow with the corpus (FTS5 b-tree lookups grow with log N, not modelled)',
          },
        ]),
  ];
}
