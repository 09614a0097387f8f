/**
 * `ann`: usearch HNSW against exact search on 100k × 384-d vectors, with the parameters VectorIndex
 * uses (cosine, f32, DEFAULT_CONNECTIVITY, DEFAULT_EXPANSION_ADD / _SEARCH). The vectors are
 * clustered, not uniform: Gaussian cluster centres on the unit sphere plus Gaussian noise, closer to
 * sentence embeddings (topics) than uniform noise, where in 384 dimensions every point is about
 * equally far from every other (a worst case no real corpus looks like). Queries are held-out vectors
 * drawn the same way. Clusters are equal in expectation (~100 members) and well separated, so the
 * recall measured here is on the easy side: large isotropic clusters (Zipf-sized topics) are much
 * harder for HNSW at the same ef_search.
 *
 * Ground truth is a plain JS brute-force dot product (the vectors are unit length, so dot = cosine),
 * timed as the "no index" baseline; usearch's own SIMD exactSearch is timed beside it. Then the
 * derived-index design is costed: fill a CorpusStore with the same vectors, VectorIndex.rebuild
 * (read from SQLite + build + save + checksum) and VectorIndex.open (checksum + load).
 */
import fs from 'node:fs';
import path from 'node:path';
import usearch from 'usearch';
import { CorpusStore, type ChunkInput } from '../../main/engine/corpus/CorpusStore.ts';
import {
  DEFAULT_CONNECTIVITY,
  DEFAULT_EXPANSION_ADD,
  DEFAULT_EXPANSION_SEARCH,
  VectorIndex,
  newIndex,
  sha256File,
} from '../../main/engine/corpus/search/VectorIndex.ts';
import {
  MIB,
  summarize,
  throttle,
  timed,
  type BenchContext,
  type BenchRow,
  type Benchmark,
} from './Benchmark.ts';
import { gaussian, mulberry32, randomInt } from '../fixtures/mulberry32.ts';

export const ANN_DIMENSION = 384;
export const TOP_K = 10;
/** Standard deviation of the per-coordinate noise around a cluster centre: with 384 dimensions a
 * member's cosine to its centre is about 0.7 and to another member about 0.5, like related sentences. */
export const CLUSTER_NOISE = 0.05;

interface AnnSizes {
  vectors: number;
  clusters: number;
  queries: number;
}
export const FULL_SIZES: AnnSizes = { vectors: 100_000, clusters: 1_000, queries: 1_000 };
export const QUICK_SIZES: AnnSizes = { vectors: 10_000, clusters: 100, queries: 200 };
/** Vectors per index.add call while building (progress is reported between calls). */
const ADD_BATCH = 10_000;
/** Chunks per replaceDocument and vectors per putVectors transaction when filling the store. */
const STORE_BATCH = 1_000;
const MODEL_ID = 'bench-clustered-384';

export const annBenchmark: Benchmark = {
  name: 'ann',
  description:
    'usearch HNSW vs exact brute force at 100k × 384-d (recall@10, QPS); VectorIndex rebuild/open cost',
  async run(context) {
    const sizes = context.quick ? QUICK_SIZES : FULL_SIZES;
    const d = ANN_DIMENSION;
    const rows: BenchRow[] = [];
    const shape = `${sizes.vectors} × ${d}-d, ${sizes.clusters} clusters, ${sizes.queries} queries`;

    context.progress(`generating ${shape}`);
    const { data, queries } = clusteredVectors(sizes);

    // 1. HNSW build, exactly as VectorIndex.newIndex configures it.
    const index = newIndex(d);
    const report = throttle((done: number, what: string) =>
      context.progress(`${what} ${done}/${sizes.vectors}`),
    );
    const build = await timed(() => {
      for (let start = 0; start < sizes.vectors; start += ADD_BATCH) {
        const end = Math.min(sizes.vectors, start + ADD_BATCH);
        const keys = new BigUint64Array(end - start);
        for (let i = start; i < end; i++) keys[i - start] = BigInt(i);
        index.add(keys, data.subarray(start * d, end * d));
        report(end, 'HNSW add');
      }
    });
    rows.push({
      metric: 'HNSW build',
      value: build.ms / 1000,
      unit: 's',
      notes: `${shape}; M=${DEFAULT_CONNECTIVITY}, ef_add=${DEFAULT_EXPANSION_ADD}, threads auto; ${Math.round(sizes.vectors / (build.ms / 1000))} vectors/s`,
    });

    // 2. HNSW queries, one at a time as VectorIndex.search runs them.
    context.progress(`HNSW: ${sizes.queries} queries`);
    const hnswKeys = new Int32Array(sizes.queries * TOP_K).fill(-1);
    const hnswLatencies: number[] = [];
    for (let q = 0; q < sizes.queries; q++) {
      const query = queries.subarray(q * d, (q + 1) * d);
      const started = performance.now();
      const matches = index.search(query, TOP_K, 0);
      hnswLatencies.push(performance.now() - started);
      for (let i = 0; i < matches.keys.length; i++) hnswKeys[q * TOP_K + i] = Number(matches.keys[i]);
    }
    const hnsw = summarize(hnswLatencies);
    const hnswQps = sizes.queries / (hnsw.total / 1000);

    // 3. Exact search: JS brute force (ground truth) and usearch's SIMD exactSearch.
    context.progress(`exact: JS brute force over ${sizes.vectors} vectors for ${sizes.queries} queries`);
    const truth = new Int32Array(sizes.queries * TOP_K);
    const reportExact = throttle((done: number) =>
      context.progress(`exact: ${done}/${sizes.queries} queries`),
    );
    const brute = await timed(() => {
      for (let q = 0; q < sizes.queries; q++) {
        bruteForceTopK(data, sizes.vectors, d, queries.subarray(q * d, (q + 1) * d), truth, q * TOP_K);
        reportExact(q + 1);
      }
    });
    const bruteQps = sizes.queries / (brute.ms / 1000);
    context.progress('exact: usearch exactSearch');
    const simd = await timed(
      () =>
        usearch.exactSearch(data, queries, d, TOP_K, usearch.MetricKind.Cos, 0) as InstanceType<
          typeof usearch.BatchMatches
        >,
    );
    const simdKeys = Int32Array.from(simd.value.keys, (key) => Number(key));
    const simdQps = sizes.queries / (simd.ms / 1000);

    const recall = recallAtK(hnswKeys, truth, sizes.queries);
    rows.push(
      {
        metric: 'HNSW recall@10',
        value: recall.mean,
        unit: 'fraction',
        notes: `vs JS brute force; ef_search=${DEFAULT_EXPANSION_SEARCH}; worst query ${recall.worst.toFixed(1)}, ${recall.perfect} of ${sizes.queries} perfect`,
      },
      {
        metric: 'HNSW query p50',
        value: hnsw.p50,
        unit: 'ms',
        notes: `k=${TOP_K}, one query per call (threads 0)`,
      },
      { metric: 'HNSW query p99', value: hnsw.p99, unit: 'ms' },
      { metric: 'HNSW QPS', value: hnswQps, unit: 'queries/s', notes: 'sequential single queries' },
      {
        metric: 'exact QPS (JS brute force)',
        value: bruteQps,
        unit: 'queries/s',
        notes: `Float32Array dot products, one thread; ${(brute.ms / 1000).toFixed(1)} s total`,
      },
      {
        metric: 'exact QPS (usearch exactSearch)',
        value: simdQps,
        unit: 'queries/s',
        notes: `SIMD, batch of ${sizes.queries}, threads auto; recall vs JS ${recallAtK(simdKeys, truth, sizes.queries).mean.toFixed(4)}`,
      },
      { metric: 'HNSW speed-up vs JS exact', value: hnswQps / bruteQps, unit: '×', notes: 'QPS ratio' },
      { metric: 'HNSW speed-up vs usearch exact', value: hnswQps / simdQps, unit: '×', notes: 'QPS ratio' },
    );

    // 4. The derived-index design: vectors live in SQLite, the usearch file is rebuilt from them.
    rows.push(...(await derivedIndexRows(context, data, queries, truth, sizes)));
    return rows;
  },
};

async function derivedIndexRows(
  context: BenchContext,
  data: Float32Array,
  queries: Float32Array,
  truth: Int32Array,
  sizes: AnnSizes,
): Promise<BenchRow[]> {
  const d = ANN_DIMENSION;
  const dir = context.makeTempDir('reckon-bench-ann-');
  const indexPath = path.join(dir, 'vectors.usearch');
  const store = CorpusStore.open(dir);
  try {
    context.progress(`store: writing ${sizes.vectors} chunks and vectors to SQLite`);
    const report = throttle((done: number) => context.progress(`store: ${done}/${sizes.vectors} vectors`));
    const fill = await timed(() => {
      for (let start = 0; start < sizes.vectors; start += STORE_BATCH) {
        const end = Math.min(sizes.vectors, start + STORE_BATCH);
        const chunks: ChunkInput[] = [];
        for (let i = start; i < end; i++) {
          const text = `vector ${i}`;
          chunks.push({ section: 0, title: '', text, start: 0, end: text.length });
        }
        store.replaceDocument({
          path: `/bench/${start}`,
          contentHash: 'h',
          size: 0,
          mtimeMs: 0,
          kind: 'text',
          title: '',
          chunks,
        });
        // A fresh store numbers chunks from 1 in insertion order: chunk i + 1 holds vector i.
        const vectors: { chunkId: number; vector: Float32Array }[] = [];
        for (let i = start; i < end; i++)
          vectors.push({ chunkId: i + 1, vector: data.subarray(i * d, (i + 1) * d) });
        store.putVectors(vectors, { modelId: MODEL_ID, dimension: d });
        report(end);
      }
    });
    if (store.countVectors() !== sizes.vectors) {
      throw new Error(`The store holds ${store.countVectors()} vectors, expected ${sizes.vectors}.`);
    }

    const iterate = await timed(() => {
      let count = 0;
      for (const _row of store.iterateVectors()) count++;
      return count;
    });
    context.progress('VectorIndex.rebuild (read store, build, save, checksum)');
    const rebuild = await timed(() =>
      VectorIndex.rebuild(store, indexPath, { persist: true, reason: 'benchmark' }),
    );
    const fileBytes = fs.statSync(indexPath).size;
    const checksum = await timed(() => sha256File(indexPath));
    const rawLoad = await timed(() => newIndex(d).load(indexPath));
    context.progress('VectorIndex.open (checksum, load)');
    const open = await timed(() => VectorIndex.open(store, indexPath));
    if (open.value?.status.kind !== 'loaded') {
      throw new Error(`VectorIndex.open did not load the saved index: ${JSON.stringify(open.value?.status)}`);
    }

    // The loaded index must answer like the one built directly.
    const checked = Math.min(sizes.queries, 200);
    const loadedKeys = new Int32Array(checked * TOP_K).fill(-1);
    for (let q = 0; q < checked; q++) {
      open.value.search(queries.subarray(q * d, (q + 1) * d), TOP_K).forEach((hit, i) => {
        loadedKeys[q * TOP_K + i] = hit.chunkId - 1;
      });
    }
    // One document edited: its STORE_BATCH chunks replaced (new ids, same vectors). The saved index
    // is brought up to date (remove the old keys, add the new ones) instead of being rebuilt.
    context.progress('VectorIndex.open after one document changed (update)');
    const editedIds = store.vectorChunkIds().slice(0, STORE_BATCH);
    const editedVectors = store.getVectors(editedIds);
    store.replaceDocument({
      path: '/bench/0',
      contentHash: 'h2',
      size: 0,
      mtimeMs: 0,
      kind: 'text',
      title: '',
      chunks: editedIds.map((_, i) => ({ section: 0, title: '', text: `edited ${i}`, start: 0, end: 8 })),
    });
    const fresh = store.chunksWithoutVectors(STORE_BATCH);
    store.putVectors(
      fresh.map((chunk, i) => ({ chunkId: chunk.id, vector: editedVectors[i]!.vector })),
      { modelId: MODEL_ID, dimension: d },
    );
    const update = await timed(() => VectorIndex.open(store, indexPath));
    if (update.value?.status.kind !== 'updated') {
      throw new Error(
        `VectorIndex.open did not update the saved index: ${JSON.stringify(update.value?.status)}`,
      );
    }
    return [
      {
        metric: 'VectorIndex.open after editing one document',
        value: update.ms / 1000,
        unit: 's',
        notes: `${editedIds.length} vectors removed and re-added in the saved index, then saved + sha256`,
      },
      {
        metric: 'rebuild / update after one edited document',
        value: rebuild.ms / update.ms,
        unit: '×',
        notes: 'what updating in place saves over rebuilding the whole index',
      },
      {
        metric: 'store: write chunks + vectors',
        value: sizes.vectors / (fill.ms / 1000),
        unit: 'vectors/s',
        notes: `replaceDocument + putVectors, ${STORE_BATCH} per transaction; ${(fill.ms / 1000).toFixed(1)} s`,
      },
      {
        metric: 'store: iterateVectors',
        value: iterate.ms / 1000,
        unit: 's',
        notes: `read all ${iterate.value} vectors back from SQLite`,
      },
      {
        metric: 'VectorIndex.rebuild',
        value: rebuild.ms / 1000,
        unit: 's',
        notes: `read store + HNSW build + save + sha256; index file ${(fileBytes / MIB).toFixed(0)} MiB`,
      },
      {
        metric: 'VectorIndex.open',
        value: open.ms / 1000,
        unit: 's',
        notes: `sha256 ${(checksum.ms / 1000).toFixed(2)} s + usearch load ${(rawLoad.ms / 1000).toFixed(2)} s (timed alone)`,
      },
      {
        metric: 'rebuild / open',
        value: rebuild.ms / open.ms,
        unit: '×',
        notes: 'what a stale or missing index costs over a valid one',
      },
      {
        metric: 'VectorIndex recall@10 (loaded)',
        value: recallAtK(loadedKeys, truth.subarray(0, checked * TOP_K), checked).mean,
        unit: 'fraction',
        notes: `first ${checked} queries through VectorIndex.search on the reopened file`,
      },
    ];
  } finally {
    store.close();
  }
}

/** Unit vectors around `clusters` random unit centres (and held-out queries drawn the same way). */
function clusteredVectors(sizes: AnnSizes): { data: Float32Array; queries: Float32Array } {
  const d = ANN_DIMENSION;
  const random = mulberry32();
  const normal = gaussian(random);
  const centres = new Float32Array(sizes.clusters * d);
  for (let c = 0; c < sizes.clusters; c++) {
    const centre = centres.subarray(c * d, (c + 1) * d);
    for (let j = 0; j < d; j++) centre[j] = normal();
    normalize(centre);
  }
  const draw = (count: number): Float32Array => {
    const out = new Float32Array(count * d);
    for (let i = 0; i < count; i++) {
      const c = randomInt(random, sizes.clusters);
      const vector = out.subarray(i * d, (i + 1) * d);
      for (let j = 0; j < d; j++) vector[j] = centres[c * d + j]! + CLUSTER_NOISE * normal();
      normalize(vector);
    }
    return out;
  };
  return { data: draw(sizes.vectors), queries: draw(sizes.queries) };
}

function normalize(vector: Float32Array): void {
  let sum = 0;
  for (let j = 0; j < vector.length; j++) sum += vector[j]! * vector[j]!;
  const scale = 1 / Math.sqrt(sum);
  for (let j = 0; j < vector.length; j++) vector[j] = vector[j]! * scale;
}

/**
 * Writes the indices of the TOP_K rows of `data` (n × d, unit vectors) with the highest dot product
 * with `query` into `out` at `outOffset`, best first. Four accumulators let V8 pipeline the loop.
 */
export function bruteForceTopK(
  data: Float32Array,
  n: number,
  d: number,
  query: Float32Array,
  out: Int32Array,
  outOffset: number,
): void {
  if (d % 4 !== 0) throw new RangeError('bruteForceTopK needs a dimension divisible by 4');
  const bestScore = new Float64Array(TOP_K).fill(-Infinity);
  const bestIndex = new Int32Array(TOP_K).fill(-1);
  let threshold = -Infinity;
  for (let i = 0, base = 0; i < n; i++, base += d) {
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let j = 0; j < d; j += 4) {
      s0 += data[base + j]! * query[j]!;
      s1 += data[base + j + 1]! * query[j + 1]!;
      s2 += data[base + j + 2]! * query[j + 2]!;
      s3 += data[base + j + 3]! * query[j + 3]!;
    }
    const score = s0 + s1 + s2 + s3;
    if (score <= threshold) continue;
    let pos = TOP_K - 1;
    while (pos > 0 && bestScore[pos - 1]! < score) {
      bestScore[pos] = bestScore[pos - 1]!;
      bestIndex[pos] = bestIndex[pos - 1]!;
      pos--;
    }
    bestScore[pos] = score;
    bestIndex[pos] = i;
    threshold = bestScore[TOP_K - 1]!;
  }
  out.set(bestIndex, outOffset);
}

/** Mean and worst per-query recall@TOP_K of `found` against `truth` (both queries × TOP_K). */
export function recallAtK(
  found: Int32Array,
  truth: Int32Array,
  queries: number,
): { mean: number; worst: number; perfect: number } {
  let sum = 0;
  let worst = 1;
  let perfect = 0;
  for (let q = 0; q < queries; q++) {
    const expected = new Set(truth.subarray(q * TOP_K, (q + 1) * TOP_K));
    let hits = 0;
    for (const key of found.subarray(q * TOP_K, (q + 1) * TOP_K)) if (expected.has(key)) hits++;
    const recall = hits / TOP_K;
    sum += recall;
    worst = Math.min(worst, recall);
    if (hits === TOP_K) perfect++;
  }
  return { mean: sum / queries, worst, perfect };
}
