/**
 * The dense index of a corpus: a usearch HNSW (cosine) index file derived from the vectors stored in
 * SQLite. The store records which generation, dimension, model and checksum the file was built
 * from; a file that is missing, stale, for another model, or fails its checksum is never loaded (a
 * truncated usearch file must not reach native code) — it is rebuilt from the store instead.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import usearch from 'usearch';
import type { CorpusStore } from '../CorpusStore.ts';
import { commitTempFile, tempPathFor } from '../../util/atomicWrite.ts';

/** HNSW graph degree. usearch's default. */
export const DEFAULT_CONNECTIVITY = 16;
/** Candidates explored while building. */
export const DEFAULT_EXPANSION_ADD = 128;
/** Candidates explored while searching (higher = better recall, slower). */
export const DEFAULT_EXPANSION_SEARCH = 64;

/**
 * What the index is derived from: a SQLite store of vectors keyed by integer id, with its embedder
 * binding, a generation counter, tombstones and the recorded index state. A corpus store is one (its
 * keys are chunk ids); so is a memory of solved examples (keys: example ids).
 */
export type VectorStore = Pick<
  CorpusStore,
  | 'embedderBinding'
  | 'generation'
  | 'getVectorIndexState'
  | 'setVectorIndexState'
  | 'countVectors'
  | 'iterateVectors'
  | 'vectorTombstonesSince'
  | 'pruneVectorTombstones'
  | 'vectorChunkIds'
  | 'getVectors'
>;

export interface DenseHit {
  chunkId: number;
  /** Cosine similarity in [-1, 1]. */
  score: number;
}

export type VectorIndexStatus =
  | { kind: 'loaded' }
  /** A saved index brought up to date with the vectors added and removed since it was built. */
  | { kind: 'updated'; added: number; removed: number; saved: boolean }
  | { kind: 'rebuilt'; reason: string; saved: boolean }
  | { kind: 'empty' };

export class VectorIndex {
  private constructor(
    private readonly index: InstanceType<typeof usearch.Index>,
    readonly dimension: number,
    readonly modelId: string,
    readonly status: VectorIndexStatus,
  ) {}

  get size(): number {
    return Number(this.index.size());
  }

  /**
   * Opens the index file for `store`, rebuilding it from the stored vectors when it cannot be
   * trusted. `persist` (default true) saves a rebuilt index atomically; pass false when this
   * process does not hold the writer lock.
   */
  static open(
    store: VectorStore,
    filePath: string,
    options: { persist?: boolean } = {},
  ): VectorIndex | undefined {
    const binding = store.embedderBinding();
    if (!binding) return undefined;
    const generation = store.generation();
    const state = store.getVectorIndexState();
    let reason: string;
    if (!state) reason = 'no index has been built yet';
    else if (state.modelId !== binding.modelId || state.dimension !== binding.dimension)
      reason = `the index was built for ${state.modelId} (${state.dimension}-d)`;
    else if (!fs.existsSync(filePath)) reason = 'the index file is missing';
    else if (sha256File(filePath) !== state.checksum)
      reason = 'the index file is damaged (checksum mismatch)';
    else {
      const index = newIndex(binding.dimension);
      try {
        index.load(filePath);
        if (Number(index.size()) !== state.count) {
          reason = `the index holds ${index.size()} vectors, expected ${state.count}`;
        } else if (state.generation === generation) {
          return new VectorIndex(index, binding.dimension, binding.modelId, { kind: 'loaded' });
        } else {
          // Intact but stale: apply what changed since it was built instead of rebuilding it all.
          const changes = applyChanges(index, store, state.generation);
          if (Number(index.size()) === store.countVectors()) {
            const saved =
              (options.persist ?? true) && persistIndex(index, store, filePath, generation, binding);
            return new VectorIndex(index, binding.dimension, binding.modelId, {
              kind: 'updated',
              ...changes,
              saved,
            });
          }
          reason = `updating the index from generation ${state.generation} left ${index.size()} vectors, expected ${store.countVectors()}`;
        }
      } catch (error) {
        reason = `the index file could not be loaded (${(error as Error).message})`;
      }
    }
    return VectorIndex.rebuild(store, filePath, { persist: options.persist ?? true, reason });
  }

  /** Builds a fresh index from every vector in the store. */
  static rebuild(
    store: VectorStore,
    filePath: string,
    options: { persist: boolean; reason: string },
  ): VectorIndex | undefined {
    const binding = store.embedderBinding();
    if (!binding) return undefined;
    const generation = store.generation();
    const count = store.countVectors();
    const index = newIndex(binding.dimension);
    const batchKeys: bigint[] = [];
    const batch = new Float32Array(1024 * binding.dimension);
    const flush = (): void => {
      if (batchKeys.length === 0) return;
      index.add(BigUint64Array.from(batchKeys), batch.subarray(0, batchKeys.length * binding.dimension));
      batchKeys.length = 0;
    };
    for (const { chunkId, vector } of store.iterateVectors()) {
      batch.set(vector, batchKeys.length * binding.dimension);
      batchKeys.push(BigInt(chunkId));
      if (batchKeys.length === 1024) flush();
    }
    flush();
    const saved = options.persist && persistIndex(index, store, filePath, generation, binding);
    const status: VectorIndexStatus =
      count === 0 ? { kind: 'empty' } : { kind: 'rebuilt', reason: options.reason, saved };
    return new VectorIndex(index, binding.dimension, binding.modelId, status);
  }

  /** The k nearest chunks to `query` by cosine similarity. */
  search(query: Float32Array, k: number): DenseHit[] {
    if (this.size === 0 || k <= 0) return [];
    const matches = this.index.search(query, Math.min(k, this.size), 0);
    const hits: DenseHit[] = [];
    for (let i = 0; i < matches.keys.length; i++) {
      hits.push({ chunkId: Number(matches.keys[i]), score: 1 - (matches.distances[i] ?? 1) });
    }
    return hits;
  }
}

/** Removes the vectors deleted since `sinceGeneration` and adds the stored ones the index lacks. */
function applyChanges(
  index: InstanceType<typeof usearch.Index>,
  store: VectorStore,
  sinceGeneration: number,
): { added: number; removed: number } {
  let removed = 0;
  const tombstones = store.vectorTombstonesSince(sinceGeneration).map((id) => BigInt(id));
  if (tombstones.length > 0) {
    const present = index.contains(tombstones) as boolean[];
    const keys = tombstones.filter((_, i) => present[i]);
    if (keys.length > 0) {
      index.remove(BigUint64Array.from(keys));
      removed = keys.length;
    }
  }
  const ids = store.vectorChunkIds();
  let added = 0;
  for (let start = 0; start < ids.length; start += 4096) {
    const slice = ids.slice(start, start + 4096);
    const present = index.contains(slice.map((id) => BigInt(id))) as boolean[];
    const missing = slice.filter((_, i) => !present[i]);
    if (missing.length === 0) continue;
    const rows = store.getVectors(missing);
    const dimension = Number(index.dimensions());
    const matrix = new Float32Array(rows.length * dimension);
    rows.forEach((row, i) => matrix.set(row.vector, i * dimension));
    index.add(BigUint64Array.from(rows.map((row) => BigInt(row.chunkId))), matrix);
    added += rows.length;
  }
  return { added, removed };
}

/** Saves the index atomically, records what it was built from, and forgets tombstones it reflects. */
function persistIndex(
  index: InstanceType<typeof usearch.Index>,
  store: VectorStore,
  filePath: string,
  generation: number,
  binding: { modelId: string; dimension: number },
): true {
  const tmp = tempPathFor(filePath);
  index.save(tmp);
  const checksum = sha256File(tmp);
  commitTempFile(tmp, filePath);
  store.setVectorIndexState({
    generation,
    dimension: binding.dimension,
    modelId: binding.modelId,
    checksum,
    count: Number(index.size()),
  });
  store.pruneVectorTombstones(generation);
  return true;
}

/** An empty usearch index configured as every Reckon index is (cosine, f32, the defaults above). */
export function newIndex(dimension: number): InstanceType<typeof usearch.Index> {
  return new usearch.Index(
    dimension,
    usearch.MetricKind.Cos,
    usearch.ScalarKind.F32,
    DEFAULT_CONNECTIVITY,
    DEFAULT_EXPANSION_ADD,
    DEFAULT_EXPANSION_SEARCH,
    false,
  );
}

/** SHA-256 of a file, read in 1 MiB pieces (what the index state records). */
export function sha256File(filePath: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(filePath, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let read: number;
    while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0)
      hash.update(buffer.subarray(0, read));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
