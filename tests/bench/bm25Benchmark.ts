/**
 * `bm25`: full-text query latency at 100k chunks. A CorpusStore (real SQLite, FTS5 with the porter
 * tokenizer, the same triggers as ingestion) is filled through replaceDocument with chunks made of
 * real sentences from the HotpotQA, 2WikiMultihopQA and MuSiQue paragraphs: each chunk is a source
 * paragraph, its sentences rotated and mixed with 1–3 sentences drawn from other paragraphs, so the
 * vocabulary and term statistics are those of real text. Then every dataset question is run through
 * bm25Search(question, 10), the call retrieval makes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorpusStore, MAX_QUERY_TERMS, toFtsQuery, type ChunkInput } from '../../main/engine/corpus/CorpusStore.ts';
import { DEFAULT_MAX_CHUNK_CHARS } from '../../main/engine/corpus/chunkDocument.ts';
import { MIB, summarize, throttle, type BenchRow, type Benchmark } from './Benchmark.ts';
import { loadQaText, type QaParagraph } from './loadQaText.ts';
import { mulberry32, randomInt, shuffle } from './mulberry32.ts';

export const FULL_CHUNK_COUNT = 100_000;
export const QUICK_CHUNK_COUNT = 10_000;
/** Chunks written per replaceDocument call (one transaction each). */
export const CHUNKS_PER_DOCUMENT = 100;
/** Queries timed in `--quick` (the full run times every question, ≥ 500). */
export const QUICK_QUERY_COUNT = 100;
/** Results per query, as retrieval asks. */
export const TOP_K = 10;
/** Untimed queries run first, so the page cache and prepared-statement paths are warm. */
const WARM_UP_QUERIES = 20;

export const bm25Benchmark: Benchmark = {
  name: 'bm25',
  description: 'BM25 (SQLite FTS5) query latency p50/p99 at 100k chunks of real text, database size',
  async run(context) {
    const chunkCount = context.quick ? QUICK_CHUNK_COUNT : FULL_CHUNK_COUNT;
    const dir = context.makeTempDir('reckon-bench-bm25-');
    const { paragraphs, questions } = loadQaText();
    const random = mulberry32();
    const rows: BenchRow[] = [];

    // 1. Fill the store.
    let store = CorpusStore.open(dir);
    const report = throttle((done: number) => context.progress(`inserted ${done}/${chunkCount} chunks`));
    const insertStarted = performance.now();
    let textChars = 0;
    try {
      for (let written = 0, doc = 0; written < chunkCount; doc++) {
        const chunks: ChunkInput[] = [];
        for (let i = 0; i < CHUNKS_PER_DOCUMENT && written < chunkCount; i++, written++) {
          const chunk = makeChunk(written, paragraphs, random);
          textChars += chunk.text.length;
          chunks.push(chunk);
        }
        store.replaceDocument({
          path: `/bench/doc-${doc}.md`,
          contentHash: `hash-${doc}`,
          size: 0,
          mtimeMs: 0,
          kind: 'markdown',
          title: chunks[0]!.title,
          chunks,
        });
        report(written);
      }
    } finally {
      store.close();
    }
    const insertSeconds = (performance.now() - insertStarted) / 1000;
    rows.push({
      metric: 'insert via replaceDocument',
      value: chunkCount / insertSeconds,
      unit: 'chunks/s',
      notes: `${chunkCount} chunks (avg ${Math.round(textChars / chunkCount)} chars) in ${insertSeconds.toFixed(1)} s, ${CHUNKS_PER_DOCUMENT} per transaction`,
    });
    // Closing checkpoints the WAL into corpus.db, so its size is the whole store.
    const dbBytes = directoryBytes(dir);
    rows.push({
      metric: 'database size',
      value: dbBytes / MIB,
      unit: 'MiB',
      notes: `corpus.db after close; ${(dbBytes / textChars).toFixed(2)} bytes on disk per character of chunk text`,
    });

    // 2. Query.
    store = CorpusStore.open(dir);
    try {
      const stats = store.stats();
      if (stats.chunks !== chunkCount || stats.ftsRows !== chunkCount) {
        throw new Error(`The store holds ${stats.chunks} chunks and ${stats.ftsRows} FTS rows, expected ${chunkCount}.`);
      }
      const queries = shuffle([...questions], random);
      const timedQueries = context.quick ? queries.slice(0, QUICK_QUERY_COUNT) : queries;
      for (const query of queries.slice(0, WARM_UP_QUERIES)) store.bm25Search(query, TOP_K);

      context.progress(`timing ${timedQueries.length} queries against ${chunkCount} chunks`);
      const latencies: number[] = [];
      let slowest = { ms: 0, query: '' };
      let empty = 0;
      for (const query of timedQueries) {
        const started = performance.now();
        const hits = store.bm25Search(query, TOP_K);
        const ms = performance.now() - started;
        latencies.push(ms);
        if (ms > slowest.ms) slowest = { ms, query };
        if (hits.length === 0) empty++;
      }
      const search = summarize(latencies);
      const terms = (query: string): number => toFtsQuery(query).split(' OR ').length;
      const averageTerms = timedQueries.reduce((sum, query) => sum + terms(query), 0) / timedQueries.length;
      const note = `${timedQueries.length} dataset questions, k=${TOP_K}, ${chunkCount} chunks`;
      rows.push(
        { metric: 'bm25Search p50', value: search.p50, unit: 'ms', notes: note },
        {
          metric: 'bm25Search p99',
          value: search.p99,
          unit: 'ms',
          notes: `slowest ${slowest.ms.toFixed(1)} ms: ${terms(slowest.query)} terms, "${truncate(slowest.query, 60)}"`,
        },
        {
          metric: 'bm25Search mean',
          value: search.mean,
          unit: 'ms',
          notes: `avg ${averageTerms.toFixed(1)} OR-ed terms per query (max ${MAX_QUERY_TERMS}); ${empty} with no hits`,
        },
        { metric: 'bm25Search QPS', value: search.count / (search.total / 1000), unit: 'queries/s', notes: 'one thread' },
      );

      // The retrieve() path also reads the ten chunks' texts.
      const withFetch: number[] = [];
      for (const query of timedQueries) {
        const started = performance.now();
        const hits = store.bm25Search(query, TOP_K);
        store.getChunks(hits.map((hit) => hit.chunkId));
        withFetch.push(performance.now() - started);
      }
      const fetched = summarize(withFetch);
      rows.push(
        { metric: 'bm25Search + getChunks p50', value: fetched.p50, unit: 'ms', notes: 'search, then read the 10 chunks' },
        { metric: 'bm25Search + getChunks p99', value: fetched.p99, unit: 'ms' },
      );
    } finally {
      store.close();
    }
    return rows;
  },
};

/**
 * Chunk `n`: paragraph n (cycling), its sentences rotated by how many times the cycle came round,
 * with 1–3 sentences of random other paragraphs inserted at random places; cut to whole sentences
 * within DEFAULT_MAX_CHUNK_CHARS, like the chunker's output.
 */
function makeChunk(n: number, paragraphs: readonly QaParagraph[], random: () => number): ChunkInput {
  const base = paragraphs[n % paragraphs.length]!;
  const round = Math.floor(n / paragraphs.length);
  const shift = round % base.sentences.length;
  const sentences = [...base.sentences.slice(shift), ...base.sentences.slice(0, shift)];
  const extra = 1 + randomInt(random, 3);
  for (let i = 0; i < extra; i++) {
    const other = paragraphs[randomInt(random, paragraphs.length)]!;
    const sentence = other.sentences[randomInt(random, other.sentences.length)]!;
    sentences.splice(randomInt(random, sentences.length + 1), 0, sentence);
  }
  let text = '';
  for (const sentence of sentences) {
    const next = text === '' ? sentence : `${text} ${sentence}`;
    if (next.length > DEFAULT_MAX_CHUNK_CHARS && text !== '') break;
    text = next.slice(0, DEFAULT_MAX_CHUNK_CHARS);
  }
  return { section: 0, title: base.title, text, start: 0, end: text.length };
}

function directoryBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
