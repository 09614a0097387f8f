/**
 * The one-row `vector_index_state` table that a corpus and a memory of solved examples share: what
 * the usearch file beside the database was built from (generation, dimension, embedding model,
 * checksum, count), so VectorIndex.open can tell whether the file matches the stored vectors.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { VectorIndexState } from './CorpusStore.ts';

/** The recorded state, or undefined when no index was ever built. */
export function readVectorIndexState(db: SqliteDatabase): VectorIndexState | undefined {
  const row = db.prepare(`SELECT * FROM vector_index_state WHERE id = 1`).get() as
    | { generation: number; dimension: number; model_id: string; checksum: string; count: number }
    | undefined;
  return row
    ? {
        generation: row.generation,
        dimension: row.dimension,
        modelId: row.model_id,
        checksum: row.checksum,
        count: row.count,
      }
    : undefined;
}

/** Records the state of the index just built (replacing the previous one). */
export function writeVectorIndexState(db: SqliteDatabase, state: VectorIndexState): void {
  db.prepare(
    `INSERT INTO vector_index_state(id, generation, dimension, model_id, checksum, count) VALUES (1, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET generation = excluded.generation, dimension = excluded.dimension,
       model_id = excluded.model_id, checksum = excluded.checksum, count = excluded.count`,
  ).run(state.generation, state.dimension, state.modelId, state.checksum, state.count);
}
