/**
 * `bm25`: full-text query latency at 100k chunks. A CorpusStore (real SQLite, FTS5 with the porter
 * tokenizer, the same triggers as ingestion) is filled through replaceDocument with chunks made of
 * real sentences from the HotpotQA, 2WikiMultihopQA and MuSiQue paragraphs: each chunk is a source
 * paragraph, its sentences rotated and mixed with 1–3 sentences drawn from other paragraphs, so the
 * vocabulary and term statistics are those of real text. Then every dataset question is run through
 * bm25Search(question, 10), the call retrieval makes.
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import path from 'node:path';
import {
  CorpusStore,
  DEFAULT_TITLE_WEIGHT,
  MAX_QUERY_TERMS,
  QUERY_STOPWORDS,
  toFtsQuery,
  type ChunkInput,
} from '../../main/engine/corpus/CorpusStore.ts';
import { DEFAULT_MAX_CHUNK_CHARS } from '../../main/engine/corpus/chunkDocument.ts';
import { MIB, summarize, throttle, type BenchRow, type Benchmark } from './Benchmark.ts';
import { loadQaText, type QaParagraph } from './loadQaText.ts';
import { mulberry32, randomInt, shuffle } from '../fixtures/mulberry32.ts';

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
        throw new Error(
          `The store holds ${stats.chunks} chunks and ${stats.ftsRows} FTS rows, expected ${chunkCount}.`,
        );
      }
      const queries = shuffle([...questions], random);
      const timedQueries = context.quick ? queries.slice(0, QUICK_QUERY_COUNT) : queries;
      for (const query of queries.slice(0, WARM_UP_QUERIES)) store.bm25Search(query, TOP_K);

      context.progress(`timing ${timedQueries.length} queries against ${chunkCount} chunks`);
      const latencies: number[] = [];
      const fetchLatencies: number[] = [];
      let slowest = { ms: 0, query: '' };
      let empty = 0;
      const results: number[][] = [];
      const reportQueries = throttle((done: number) =>
        context.progress(`${done}/${timedQueries.length} queries`),
      );
      for (const [i, query] of timedQueries.entries()) {
        const started = performance.now();
        const hits = store.bm25Search(query, TOP_K);
        const searched = performance.now();
        results.push(hits.map((hit) => hit.chunkId));
        // The retrieve() path then reads the hits' texts; timed apart so the search figures stay pure.
        store.getChunks(hits.map((hit) => hit.chunkId));
        fetchLatencies.push(performance.now() - searched);
        const ms = searched - started;
        latencies.push(ms);
        if (ms > slowest.ms) slowest = { ms, query };
        if (hits.length === 0) empty++;
        reportQueries(i + 1);
      }
      const search = summarize(latencies);
      const fetched = summarize(fetchLatencies);
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
        {
          metric: 'bm25Search QPS',
          value: search.count / (search.total / 1000),
          unit: 'queries/s',
          notes: 'one thread',
        },
        {
          metric: 'getChunks(10 hits) p50',
          value: fetched.p50,
          unit: 'ms',
          notes: `reading the hits' texts after the search; p99 ${fetched.p99.toFixed(3)} ms`,
        },
      );

      // Side by side: the engine leaves English function words out of the query (QUERY_STOPWORDS).
      // The same questions with every word OR-ed in — what it did before — show what that saves and
      // how much it changes the top 10. Same SQL, through a second read-only connection.
      context.progress('the same questions with every word kept');
      const raw = new Database(store.dbPath, { readonly: true });
      const allWords = raw.prepare(
        `SELECT rowid AS chunkId FROM chunks_fts WHERE chunks_fts MATCH ? ORDER BY bm25(chunks_fts, ?, 1.0) LIMIT ?`,
      );
      const kept: number[] = [];
      let overlap = 0;
      try {
        for (const [i, query] of timedQueries.entries()) {
          const match = everyWordQuery(query);
          const started = performance.now();
          const hits = match
            ? (allWords.all(match, DEFAULT_TITLE_WEIGHT, TOP_K) as { chunkId: number }[])
            : [];
          kept.push(performance.now() - started);
          const engine = new Set(results[i]);
          overlap += hits.filter((hit) => engine.has(hit.chunkId)).length / Math.max(1, engine.size);
        }
      } finally {
        raw.close();
      }
      const withStop = summarize(kept);
      rows.push(
        {
          metric: 'every word kept: p50',
          value: withStop.p50,
          unit: 'ms',
          notes: `the same questions without leaving out the ${QUERY_STOPWORDS.size} function words`,
        },
        { metric: 'every word kept: p99', value: withStop.p99, unit: 'ms' },
        {
          metric: 'speed-up from dropping function words (p50)',
          value: withStop.p50 / search.p50,
          unit: '×',
          notes: `top-10 overlap between the two: ${((overlap / timedQueries.length) * 100).toFixed(0)}%`,
        },
      );
    } finally {
      store.close();
    }
    return rows;
  },
};

/** Chunk `n`: variedText(n) as a chunk of section 0. */
function makeChunk(n: number, paragraphs: readonly QaParagraph[], random: () => number): ChunkInput {
  const { title, text } = variedText(n, paragraphs, random);
  return { section: 0, title, text, start: 0, end: text.length };
}

/**
 * Passage `n` made from real text: paragraph n (cycling), its sentences rotated by how many times
 * the cycle came round, with 1–3 sentences of random other paragraphs inserted at random places;
 * cut to whole sentences within DEFAULT_MAX_CHUNK_CHARS, like the chunker's output. Deterministic
 * for a given `random` sequence (mulberry32).
 */
export function variedText(
  n: number,
  paragraphs: readonly QaParagraph[],
  random: () => number,
): { title: string; text: string } {
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
  return { title: base.title, text };
}

/** Every word of the query as an OR-ed FTS5 term (the engine's query before it dropped function words). */
function everyWordQuery(query: string): string {
  const words = [...new Set(query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])].slice(0, MAX_QUERY_TERMS);
  return words.map((word) => `"${word}"`).join(' OR ');
}

export function directoryBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
