/**
 * `ingest`: ingestion throughput through the real engine (createEngine → ingest: folder walk,
 * content hashing, worker-thread parsing, chunking, SQLite/FTS5 transactions, embedding, usearch
 * index rebuild) on a generated folder of Markdown files built from real HotpotQA paragraphs, plus
 * the raw HotpotQA dataset file itself (parsed as a QA dataset: one section per paragraph).
 *
 * Measured twice: BM25 only (`embedder: 'none'`) and with the tiny generated encoder. The tiny
 * encoder is a single Gather: its numbers are the pipeline's overhead (tokenizer, onnxruntime call,
 * vector storage, index rebuild), not a real model's compute, which would dominate. Each corpus is
 * then ingested again unchanged, which should only hash the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createEngine, type Engine, type EmbedderChoice } from '../../main/engine/createEngine.ts';
import type { IngestPhase, IngestProgressEvent, IngestResult } from '../../main/engine/corpus/ingestPaths.ts';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';
import { SHARED_DATA_DIR, throttle, type BenchContext, type BenchRow, type Benchmark } from './Benchmark.ts';
import { HOTPOTQA_FILE, HOTPOTQA_SMALL_FILE, loadQaText, type QaParagraph } from './loadQaText.ts';
import { mulberry32, randomInt } from '../fixtures/mulberry32.ts';

/** Markdown files generated for the full run. */
export const FULL_FILE_COUNT = 2_000;
/** Markdown files generated for `--quick`. */
export const QUICK_FILE_COUNT = 200;
/** Files per generated sub-folder. */
const FILES_PER_FOLDER = 100;
/** Each file holds its own paragraph plus up to this many others as `##` sections. */
const MAX_EXTRA_SECTIONS = 5;
/** Width of the tiny encoder: all-MiniLM-L6-v2's, so stored vectors and the index have real sizes. */
export const BENCH_ENCODER_DIMENSION = 384;
const MB = 1_000_000;

interface IngestRun {
  result: IngestResult;
  ms: number;
  /** Wall time spent in each phase, from the progress events. */
  phaseMs: Partial<Record<IngestPhase, number>>;
}

export const ingestBenchmark: Benchmark = {
  name: 'ingest',
  description:
    'engine ingestion throughput (files/s, MB/s, chunks/s), BM25-only and with the tiny encoder; re-ingest',
  async run(context) {
    const root = context.makeTempDir('reckon-bench-ingest-');
    const fileCount = context.quick ? QUICK_FILE_COUNT : FULL_FILE_COUNT;
    const datasetPath = path.join(SHARED_DATA_DIR, context.quick ? HOTPOTQA_SMALL_FILE : HOTPOTQA_FILE);

    context.progress(`writing ${fileCount} Markdown files from HotpotQA paragraphs`);
    const docsDir = path.join(root, 'docs');
    const docsBytes = writeMarkdownFolder(
      docsDir,
      loadQaText().paragraphs.filter((p) => p.source === 'hotpotqa'),
      fileCount,
    );
    const inputs = [docsDir, datasetPath];
    const files = fileCount + 1;
    const bytes = docsBytes + fs.statSync(datasetPath).size;
    const inputNote = `${files} files (${fileCount} .md + ${path.basename(datasetPath)}), ${(bytes / MB).toFixed(2)} MB`;

    const engine = createEngine({ dataDir: path.join(root, 'data'), modelsDir: path.join(root, 'models') });
    const rows: BenchRow[] = [];
    try {
      const bm25Only = await ingestTwice(engine, context, 'bm25-only', inputs, 'none');
      rows.push(...throughputRows('no embedder', bm25Only.first, files, bytes, inputNote));
      rows.push(...reingestRows('no embedder', bm25Only.first, bm25Only.again));

      context.progress(`writing the tiny ${BENCH_ENCODER_DIMENSION}-d encoder`);
      const encoderDir = await makeTinyEncoder({
        dir: path.join(root, 'models', 'embedders', `tiny-encoder-${BENCH_ENCODER_DIMENSION}`),
        dimension: BENCH_ENCODER_DIMENSION,
      });
      const embedder: EmbedderChoice = { dir: encoderDir };
      // Load the model once outside the measurement: the engine caches it across ingest calls.
      const warmFile = path.join(root, 'warm-up.md');
      fs.writeFileSync(warmFile, '# Warm-up\n\nLoads the embedding model before the measured run.\n');
      const warm = await runIngest(engine, context, 'warm-up', [warmFile], embedder);
      rows.push({
        metric: 'tiny encoder: model load (1-file ingest)',
        value: warm.ms / 1000,
        unit: 's',
        notes: 'excluded from the rows below',
      });

      const embedded = await ingestTwice(engine, context, 'tiny-encoder', inputs, embedder);
      rows.push(...throughputRows('tiny encoder', embedded.first, files, bytes, inputNote));
      const embedMs = embedded.first.phaseMs.embed ?? 0;
      rows.push({
        metric: 'tiny encoder: embed phase',
        value: embedded.first.result.chunksEmbedded / (embedMs / 1000),
        unit: 'chunks/s',
        notes: `${embedded.first.result.chunksEmbedded} chunks in ${(embedMs / 1000).toFixed(1)} s (tokenize + Gather + putVectors)`,
      });
      rows.push({
        metric: 'tiny encoder: index phase',
        value: (embedded.first.phaseMs.index ?? 0) / 1000,
        unit: 's',
        notes: `usearch rebuild of ${embedded.first.result.chunksEmbedded} vectors + save + checksum`,
      });
      rows.push(...reingestRows('tiny encoder', embedded.first, embedded.again));
      rows.push({
        metric: 'tiny encoder: re-ingest index phase',
        value: (embedded.again.phaseMs.index ?? 0) / 1000,
        unit: 's',
        notes: 'VectorIndex.open of the unchanged index (load + checksum)',
      });
    } finally {
      await engine.close();
    }
    return rows;
  },
};

/** Ingests `inputs` into a fresh corpus, then again unchanged; checks the second run changed nothing. */
async function ingestTwice(
  engine: Engine,
  context: BenchContext,
  corpus: string,
  inputs: readonly string[],
  embedder: EmbedderChoice,
): Promise<{ first: IngestRun; again: IngestRun }> {
  const first = await runIngest(engine, context, corpus, inputs, embedder);
  if (first.result.failed.length > 0) {
    const sample = first.result.failed[0]!;
    throw new Error(
      `${first.result.failed.length} files failed to ingest, e.g. ${sample.path}: ${sample.message}`,
    );
  }
  const again = await runIngest(engine, context, `${corpus} (again)`, inputs, embedder, corpus);
  const { added, updated, removed, unchanged } = again.result;
  if (added + updated + removed > 0 || unchanged !== first.result.added) {
    throw new Error(
      `Re-ingesting the unchanged folder changed the corpus: ${JSON.stringify({ added, updated, removed, unchanged })}`,
    );
  }
  return { first, again };
}

async function runIngest(
  engine: Engine,
  context: BenchContext,
  label: string,
  inputs: readonly string[],
  embedder: EmbedderChoice,
  corpus = label,
): Promise<IngestRun> {
  const phaseStarted = new Map<IngestPhase, number>();
  const report = throttle((event: IngestProgressEvent) => {
    const embedding =
      event.phase === 'embed' ? `, embedded ${event.chunksEmbedded}/${event.chunksToEmbed}` : '';
    context.progress(
      `${label}: ${event.phase} ${event.filesDone}/${event.filesTotal} files, ${event.chunksWritten} chunks${embedding}`,
    );
  });
  const started = performance.now();
  const result = await engine.ingest(corpus, inputs, {
    embedder,
    onProgress: (event) => {
      if (!phaseStarted.has(event.phase)) phaseStarted.set(event.phase, performance.now());
      report(event);
    },
  });
  const ms = performance.now() - started;
  const phaseMs: Partial<Record<IngestPhase, number>> = {};
  const order = [...phaseStarted.entries()].sort((a, b) => a[1] - b[1]);
  order.forEach(([phase, at], i) => {
    phaseMs[phase] = (order[i + 1]?.[1] ?? started + ms) - at;
  });
  context.progress(`${label}: ${(ms / 1000).toFixed(2)} s, ${result.chunksWritten} chunks written`);
  return { result, ms, phaseMs };
}

function throughputRows(
  label: string,
  run: IngestRun,
  files: number,
  bytes: number,
  inputNote: string,
): BenchRow[] {
  const seconds = run.ms / 1000;
  const parseMs = run.phaseMs.parse ?? 0;
  return [
    { metric: `${label}: total time`, value: seconds, unit: 's', notes: inputNote },
    { metric: `${label}: files/s`, value: files / seconds, unit: 'files/s', notes: 'end to end' },
    {
      metric: `${label}: MB/s`,
      value: bytes / MB / seconds,
      unit: 'MB/s',
      notes: 'end to end, 1 MB = 10^6 bytes',
    },
    {
      metric: `${label}: chunks/s`,
      value: run.result.chunksWritten / seconds,
      unit: 'chunks/s',
      notes: `${run.result.chunksWritten} chunks`,
    },
    {
      metric: `${label}: parse+write phase`,
      value: parseMs / 1000,
      unit: 's',
      notes: 'hash, worker parse, chunk, SQLite/FTS5 transaction per file',
    },
  ];
}

function reingestRows(label: string, first: IngestRun, again: IngestRun): BenchRow[] {
  return [
    {
      metric: `${label}: re-ingest unchanged`,
      value: again.ms / 1000,
      unit: 's',
      notes: `${again.result.unchanged} files unchanged (hash only)`,
    },
    {
      metric: `${label}: first / re-ingest`,
      value: first.ms / again.ms,
      unit: '×',
      notes: 'higher is better',
    },
  ];
}

/**
 * Writes `count` Markdown files into `dir` (sub-folders of FILES_PER_FOLDER): file i is titled by
 * paragraph i (cycling) and holds it plus 0–MAX_EXTRA_SECTIONS other paragraphs as `##` sections,
 * so sizes vary from one short paragraph to several chunks. Returns the total bytes written.
 */
function writeMarkdownFolder(dir: string, paragraphs: readonly QaParagraph[], count: number): number {
  if (paragraphs.length === 0) throw new Error('No HotpotQA paragraphs found to build documents from.');
  const random = mulberry32();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const main = paragraphs[i % paragraphs.length]!;
    const parts = [`# ${main.title}`, main.text];
    const extra = randomInt(random, MAX_EXTRA_SECTIONS + 1);
    for (let j = 0; j < extra; j++) {
      const other = paragraphs[randomInt(random, paragraphs.length)]!;
      parts.push(`## ${other.title}`, other.text);
    }
    const folder = path.join(dir, `part-${String(Math.floor(i / FILES_PER_FOLDER)).padStart(3, '0')}`);
    if (i % FILES_PER_FOLDER === 0) fs.mkdirSync(folder, { recursive: true });
    const slug =
      main.title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '')
        .slice(0, 60) || 'untitled';
    const content = `${parts.join('\n\n')}\n`;
    fs.writeFileSync(path.join(folder, `${String(i).padStart(5, '0')}-${slug}.md`), content);
    bytes += Buffer.byteLength(content);
  }
  return bytes;
}
