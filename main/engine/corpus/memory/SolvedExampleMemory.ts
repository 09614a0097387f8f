/**
 * ICRAG's R2: a memory of solved examples. Each example is a task, its known answer, the program the
 * model wrote for it (and, when asked for, a short natural-language solution for the ICRAG_NL
 * variant), and the fold it belongs to. One SQLite file per memory, with an FTS5 table for BM25 over
 * the task and the solution, so retrieval of solved examples works with no embedding model.
 *
 * k-fold: every example carries a fold (0…k−1). A run on a task whose own example is in the memory
 * searches with `excludeFolds` (the task's fold) so it never retrieves its own solution, or any of the
 * fold it is evaluated in — the paper's protocol.
 *
 * Dense search: a memory built with an embedding model also stores one vector per example, of its
 * task (the paper retrieves solved examples by task similarity, and R2 is queried with the task and
 * the refiner's queries, which read like tasks — not like code). The vectors live in SQLite, the
 * source of truth, bound to one embedder (id and dimension; a memory never mixes two); the usearch
 * file beside it is derived by the corpora's VectorIndex (same checks: generation, model, checksum,
 * count; rebuilt from the stored vectors when it cannot be trusted). searchSolvedExamples runs bm25,
 * dense or hybrid over it.
 *
 * Layout: `<dataDir>/memories/<name>/{memory.db, examples.usearch}`; writers hold `<name>/writer.lock`.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ReckonError } from '../../errors.ts';
import type { Embedder } from '../../models/Embedder.ts';
import { openSqlite } from '../../util/openSqlite.ts';
import { toFtsQuery, type VectorIndexState } from '../CorpusStore.ts';
import { VectorIndex } from '../search/VectorIndex.ts';
import { readVectorIndexState, writeVectorIndexState } from '../vectorIndexStateTable.ts';
import { WriterLock } from '../WriterLock.ts';

const MEMORY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SCHEMA_VERSION = 1;

/** Weight of the task column against the solution columns in BM25 (tasks are what queries look like). */
export const MEMORY_TASK_WEIGHT = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS examples (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  item_id TEXT NOT NULL UNIQUE,
  task TEXT NOT NULL,
  task_key TEXT NOT NULL,
  answer TEXT NOT NULL,
  program TEXT NOT NULL,
  text TEXT,
  fold INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS examples_by_task_key ON examples(task_key);
CREATE TABLE IF NOT EXISTS failures (
  item_id TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS examples_fts USING fts5(
  task, program, text, content='examples', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS examples_after_insert AFTER INSERT ON examples BEGIN
  INSERT INTO examples_fts(rowid, task, program, text) VALUES (new.id, new.task, new.program, coalesce(new.text, ''));
END;
CREATE TRIGGER IF NOT EXISTS examples_after_delete AFTER DELETE ON examples BEGIN
  INSERT INTO examples_fts(examples_fts, rowid, task, program, text) VALUES ('delete', old.id, old.task, old.program, coalesce(old.text, ''));
END;
CREATE TABLE IF NOT EXISTS example_vectors (example_id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS vector_index_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  dimension INTEGER NOT NULL,
  model_id TEXT NOT NULL,
  checksum TEXT NOT NULL,
  count INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS vector_tombstones (example_id INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
`;

/** The derived usearch file of a memory's vectors, beside memory.db. */
export const MEMORY_INDEX_FILE = 'examples.usearch';

/** Embedder id and dimension a memory's vectors come from. */
export interface EmbedderBinding {
  modelId: string;
  dimension: number;
}

/**
 * Finds the embedding model a memory's vectors were made with (by its id), or says why there is
 * none. The engine hands one to MemoryLibrary: the same lookup corpora use (models/embedders).
 */
export type MemoryEmbedderSource = (modelId: string) => Promise<Embedder | { unavailable: string }>;

/** The dense side of a memory: its index and the embedder of its queries, or why there is none. */
export type MemoryDenseSide =
  | { index: VectorIndex; embedder: Embedder; warnings: string[] }
  | { unavailable: string };

/** A solved example as stored. */
export interface SolvedExample {
  /** Row id: what `excludeIds` takes. */
  id: number;
  /** The dataset item's id (unique in the memory; a resumed build skips ids it has). */
  itemId: string;
  task: string;
  answer: string;
  program: string;
  /** The natural-language solution (ICRAG_NL), when the memory was built with text. */
  text: string | null;
  fold: number;
}

export interface SolvedExampleHit extends SolvedExample {
  /**
   * Higher is better; what it is depends on the search: -bm25 (bm25), cosine similarity (dense), the
   * reciprocal-rank-fusion score (hybrid).
   */
  score: number;
  /**
   * Each underlying list's score and 1-based rank, for the lists this example appeared in (hybrid
   * fills both when it is in both). Absent from the plain BM25 `search`.
   */
  scores?: { bm25?: { score: number; rank: number }; dense?: { score: number; rank: number } };
}

/** What a memory was built from; kept in its meta table. */
export interface MemoryInfo {
  name: string;
  /** The model spec that wrote the programs. */
  model: string;
  /** The dataset file it was built from. */
  dataset: string;
  /** Number of folds (k). */
  folds: number;
  /** Whether the examples carry natural-language solutions. */
  withText: boolean;
  createdAt: number;
}

export interface MemorySearchOptions {
  /** Examples to return. Default DEFAULT_MEMORY_K (3). */
  k?: number;
  /** Leave out examples of these folds (k-fold evaluation: the fold the task is in). Default none. */
  excludeFolds?: readonly number[];
  /** Leave out these example ids. Default none. */
  excludeIds?: readonly number[];
}

/** Examples a memory search returns when no k is given. */
export const DEFAULT_MEMORY_K = 3;
/** Folds of a memory build when none is given (the paper's k = 5). */
export const DEFAULT_MEMORY_FOLDS = 5;

/** A memory name that does not exist; the message says how to make one. */
export class MemoryNotFoundError extends ReckonError {
  override name = 'MemoryNotFoundError';
  constructor(name: string) {
    super(
      'MEMORY_NOT_FOUND',
      `There is no memory of solved examples named "${name}". Build one with: reckon memory build --dataset <file> --name ${name} --model <spec> (reckon memory list shows those there are).`,
    );
  }
}

/**
 * The key two task texts share when they are the same task: Unicode-normalized, lower-cased,
 * whitespace collapsed, hashed. Used to find the fold of the task a run is asked.
 */
export function taskKey(task: string): string {
  const normal = task.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  return crypto.createHash('sha256').update(normal).digest('hex');
}

/** One open memory. Readers and the writer (holding the lock) share this class. */
export class SolvedExampleMemory {
  private dense: Promise<MemoryDenseSide> | undefined;
  private cachedIndex: VectorIndex | undefined;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly db: SqliteDatabase,
    private readonly lock: WriterLock | undefined,
    private readonly embedderSource: MemoryEmbedderSource | undefined,
    private readonly hasVectorTables: boolean,
  ) {}

  /**
   * Opens (writers: creates) the memory in `dir`. `embedders` finds the embedding model of its
   * vectors for dense search; without it dense search is unavailable (bm25 still works).
   */
  static open(
    name: string,
    dir: string,
    options: { write?: boolean; embedders?: MemoryEmbedderSource } = {},
  ): SolvedExampleMemory {
    const dbPath = path.join(dir, 'memory.db');
    let lock: WriterLock | undefined;
    if (options.write) {
      fs.mkdirSync(dir, { recursive: true });
      lock = WriterLock.acquire(path.join(dir, 'writer.lock'), `Memory "${name}"`);
    } else if (!fs.existsSync(dbPath)) {
      throw new MemoryNotFoundError(name);
    }
    let db: SqliteDatabase | undefined;
    try {
      db = openSqlite(dbPath, { readonly: !options.write, fileMustExist: !options.write });
      db.pragma('busy_timeout = 5000');
      if (options.write) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
        db.exec(SCHEMA);
        db.prepare(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)`).run(
          String(SCHEMA_VERSION),
        );
      }
      const version = Number(
        db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get() ?? 0,
      );
      if (version > SCHEMA_VERSION)
        throw new ReckonError(
          'STORE_TOO_NEW',
          `${dbPath} was written by a newer Reckon (schema ${version}); update Reckon to open it.`,
        );
      // A memory written before vectors existed has no vector tables; read-only it simply has no vectors.
      const hasVectorTables =
        db
          .prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'example_vectors'`)
          .pluck()
          .get() === 1;
      return new SolvedExampleMemory(name, dir, db, lock, options.embedders, hasVectorTables);
    } catch (error) {
      if (db?.open) db.close();
      lock?.release();
      if (error instanceof ReckonError) throw error;
      throw new ReckonError(
        'STORE_UNREADABLE',
        `Could not open the memory ${dbPath}: ${(error as Error).message}. Remove it (reckon memory remove ${name}) and build it again.`,
        { cause: error },
      );
    }
  }

  get writable(): boolean {
    return this.lock !== undefined;
  }

  /** What the memory was built from; null before a build recorded it. */
  info(): MemoryInfo | null {
    const raw = this.getMeta('info');
    return raw === undefined ? null : (JSON.parse(raw) as MemoryInfo);
  }

  /** Records what the memory is built from (writers). */
  setInfo(info: MemoryInfo): void {
    this.setMeta('info', JSON.stringify(info));
  }

  /** Adds a solved example (writers); an item id already there is replaced. Returns its row id. */
  add(example: Omit<SolvedExample, 'id'>, now: number = Date.now()): number {
    const insert = this.db.transaction(() => {
      // A replaced example's vector goes with it; the tombstone lets a saved index drop it too.
      const replaced = this.db
        .prepare(`SELECT id FROM examples WHERE item_id = ?`)
        .pluck()
        .get(example.itemId) as number | undefined;
      if (replaced !== undefined && this.deleteVector(replaced)) this.bumpGeneration();
      this.db.prepare(`DELETE FROM examples WHERE item_id = ?`).run(example.itemId);
      this.db.prepare(`DELETE FROM failures WHERE item_id = ?`).run(example.itemId);
      return this.db
        .prepare(
          `INSERT INTO examples(item_id, task, task_key, answer, program, text, fold, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          example.itemId,
          example.task,
          taskKey(example.task),
          example.answer,
          example.program,
          example.text,
          example.fold,
          now,
        ).lastInsertRowid;
    });
    return Number(insert());
  }

  /** Records that no program could be made for an item (a resumed build tries it again). */
  addFailure(itemId: string, reason: string, now: number = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO failures(item_id, reason, created_at) VALUES (?, ?, ?)
         ON CONFLICT(item_id) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
      )
      .run(itemId, reason, now);
  }

  /** The item ids that have an example. */
  itemIds(): Set<string> {
    return new Set(this.db.prepare(`SELECT item_id FROM examples`).pluck().all() as string[]);
  }

  count(): number {
    return this.db.prepare(`SELECT count(*) FROM examples`).pluck().get() as number;
  }

  failureCount(): number {
    return this.db.prepare(`SELECT count(*) FROM failures`).pluck().get() as number;
  }

  /** Examples per fold, fold 0 first. */
  foldSizes(): Map<number, number> {
    const rows = this.db
      .prepare(`SELECT fold, count(*) AS n FROM examples GROUP BY fold ORDER BY fold`)
      .all() as { fold: number; n: number }[];
    return new Map(rows.map((row) => [row.fold, row.n]));
  }

  /** Every example, in row order. */
  all(): SolvedExample[] {
    return (this.db.prepare(`SELECT * FROM examples ORDER BY id`).all() as Record<string, unknown>[]).map(
      toExample,
    );
  }

  /** The examples whose task is `task` (same taskKey): the task's own solutions, if it is in the memory. */
  examplesOfTask(task: string): SolvedExample[] {
    return (
      this.db.prepare(`SELECT * FROM examples WHERE task_key = ? ORDER BY id`).all(taskKey(task)) as Record<
        string,
        unknown
      >[]
    ).map(toExample);
  }

  /**
   * BM25 over the tasks and solutions: the `k` (default 3) best examples for `query`, leaving out
   * `excludeFolds` and `excludeIds`. The exclusions are applied in SQL before the limit, so k
   * results come back whenever k others match.
   */
  search(query: string, options: MemorySearchOptions = {}): SolvedExampleHit[] {
    const match = toFtsQuery(query);
    if (!match) return [];
    const k = options.k ?? DEFAULT_MEMORY_K;
    const folds = [...(options.excludeFolds ?? [])].filter(Number.isInteger);
    const ids = [...(options.excludeIds ?? [])].filter(Number.isInteger);
    const where = [
      'examples_fts MATCH ?',
      ...(folds.length > 0 ? [`e.fold NOT IN (${folds.map(() => '?').join(', ')})`] : []),
      ...(ids.length > 0 ? [`e.id NOT IN (${ids.map(() => '?').join(', ')})`] : []),
    ].join(' AND ');
    const rows = this.db
      .prepare(
        `SELECT e.*, bm25(examples_fts, ?, 1.0, 1.0) AS rank FROM examples_fts
         JOIN examples e ON e.id = examples_fts.rowid WHERE ${where} ORDER BY rank LIMIT ?`,
      )
      .all(MEMORY_TASK_WEIGHT, match, ...folds, ...ids, k) as Record<string, unknown>[];
    return rows.map((row) => ({ ...toExample(row), score: -(row.rank as number) }));
  }

  /** The examples with these ids, by id (ids that are gone are left out). */
  examplesById(ids: readonly number[]): Map<number, SolvedExample> {
    const select = this.db.prepare(`SELECT * FROM examples WHERE id = ?`);
    const out = new Map<number, SolvedExample>();
    for (const id of ids) {
      const row = select.get(id) as Record<string, unknown> | undefined;
      if (row) out.set(id, toExample(row));
    }
    return out;
  }

  /** Ids of the examples `options`' excludeFolds and excludeIds leave out (existing ones only). */
  excludedIds(options: Pick<MemorySearchOptions, 'excludeFolds' | 'excludeIds'>): number[] {
    const folds = [...(options.excludeFolds ?? [])].filter(Number.isInteger);
    const ids = [...(options.excludeIds ?? [])].filter(Number.isInteger);
    if (folds.length === 0 && ids.length === 0) return [];
    const where = [
      ...(folds.length > 0 ? [`fold IN (${folds.map(() => '?').join(', ')})`] : []),
      ...(ids.length > 0 ? [`id IN (${ids.map(() => '?').join(', ')})`] : []),
    ].join(' OR ');
    return this.db
      .prepare(`SELECT id FROM examples WHERE ${where} ORDER BY id`)
      .pluck()
      .all(...folds, ...ids) as number[];
  }

  // ---- Vectors (the VectorStore the derived index is built from; keys are example ids) ----

  /** The embedder this memory's vectors come from, fixed by the first vector stored; none without vectors. */
  embedderBinding(): EmbedderBinding | undefined {
    const raw = this.getMeta('embedder');
    return raw === undefined ? undefined : (JSON.parse(raw) as EmbedderBinding);
  }

  /** Counter bumped by every change to the vectors; the index file records the one it was built from. */
  generation(): number {
    return Number(this.getMeta('generation') ?? 0);
  }

  /** Examples that have no vector yet, in row order, with ids above `afterId` (default 0). */
  examplesWithoutVectors(limit: number, afterId = 0): { id: number; task: string }[] {
    if (!this.hasVectorTables) return [];
    return this.db
      .prepare(
        `SELECT e.id, e.task FROM examples e LEFT JOIN example_vectors v ON v.example_id = e.id
         WHERE v.example_id IS NULL AND e.id > ? ORDER BY e.id LIMIT ?`,
      )
      .all(afterId, limit) as { id: number; task: string }[];
  }

  countExamplesWithoutVectors(): number {
    return this.count() - this.countVectors();
  }

  /**
   * Stores vectors of examples (writers) and binds the memory to their embedder on the first call.
   * Vectors of another embedder or dimension are refused (ReckonError 'MEMORY_EMBEDDER_MISMATCH'):
   * a memory never mixes two embedders — clearVectors first to re-embed.
   */
  putVectors(rows: readonly { exampleId: number; vector: Float32Array }[], binding: EmbedderBinding): void {
    this.db.transaction(() => {
      const current = this.embedderBinding();
      if (current && (current.modelId !== binding.modelId || current.dimension !== binding.dimension))
        throw embedderMismatchError(this.name, current, binding);
      if (!current) this.setMeta('embedder', JSON.stringify(binding));
      const insert = this.db.prepare(
        `INSERT OR REPLACE INTO example_vectors(example_id, vector) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM examples WHERE id = ?)`,
      );
      for (const row of rows) {
        if (row.vector.length !== binding.dimension)
          throw embedderMismatchError(this.name, binding, { ...binding, dimension: row.vector.length });
        insert.run(
          row.exampleId,
          Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength),
          row.exampleId,
        );
      }
      this.bumpGeneration();
    })();
    this.forgetIndex();
  }

  /** Drops every vector and the embedder binding (writers), to re-embed with another model. */
  clearVectors(): void {
    this.db.transaction(() => {
      this.db.exec(
        `DELETE FROM example_vectors; DELETE FROM vector_index_state; DELETE FROM vector_tombstones;`,
      );
      this.db.prepare(`DELETE FROM meta WHERE key = 'embedder'`).run();
      this.bumpGeneration();
    })();
    this.forgetIndex();
  }

  countVectors(): number {
    if (!this.hasVectorTables) return 0;
    return this.db.prepare(`SELECT count(*) FROM example_vectors`).pluck().get() as number;
  }

  vectorChunkIds(): number[] {
    if (!this.hasVectorTables) return [];
    return this.db
      .prepare(`SELECT example_id FROM example_vectors ORDER BY example_id`)
      .pluck()
      .all() as number[];
  }

  getVectors(ids: readonly number[]): { chunkId: number; vector: Float32Array }[] {
    if (!this.hasVectorTables) return [];
    const select = this.db.prepare(`SELECT vector FROM example_vectors WHERE example_id = ?`).pluck();
    const dimension = this.embedderBinding()?.dimension ?? 0;
    const out: { chunkId: number; vector: Float32Array }[] = [];
    for (const id of ids) {
      const blob = select.get(id) as Buffer | undefined;
      if (blob) out.push({ chunkId: id, vector: this.readVector(id, blob, dimension) });
    }
    return out;
  }

  *iterateVectors(): Generator<{ chunkId: number; vector: Float32Array }> {
    if (!this.hasVectorTables) return;
    const rows = this.db
      .prepare(`SELECT example_id, vector FROM example_vectors ORDER BY example_id`)
      .iterate() as Iterable<{ example_id: number; vector: Buffer }>;
    const dimension = this.embedderBinding()?.dimension ?? 0;
    for (const row of rows)
      yield { chunkId: row.example_id, vector: this.readVector(row.example_id, row.vector, dimension) };
  }

  vectorTombstonesSince(generation: number): number[] {
    if (!this.hasVectorTables) return [];
    return this.db
      .prepare(`SELECT example_id FROM vector_tombstones WHERE generation > ? ORDER BY example_id`)
      .pluck()
      .all(generation) as number[];
  }

  pruneVectorTombstones(generation: number): void {
    this.db.prepare(`DELETE FROM vector_tombstones WHERE generation <= ?`).run(generation);
  }

  getVectorIndexState(): VectorIndexState | undefined {
    if (!this.hasVectorTables) return undefined;
    return readVectorIndexState(this.db);
  }

  setVectorIndexState(state: VectorIndexState): void {
    writeVectorIndexState(this.db, state);
  }

  get vectorIndexPath(): string {
    return path.join(this.dir, MEMORY_INDEX_FILE);
  }

  /**
   * The dense index of the memory's vectors (undefined without vectors), opened once: loaded when
   * the file matches the store, else rebuilt from the stored vectors (and saved when this is the
   * writer). See VectorIndex.open. A damaged stored vector throws 'MEMORY_VECTORS_DAMAGED'.
   */
  vectorIndex(): VectorIndex | undefined {
    this.cachedIndex ??= VectorIndex.open(this, this.vectorIndexPath, { persist: this.writable });
    return this.cachedIndex;
  }

  /**
   * The dense side for searches, resolved once per open memory: why there is none (no vectors, no
   * embedder source, the embedder not installed, an embedder that does not match), or the index and
   * embedder with warnings (an index rebuilt, examples without vectors).
   */
  denseSide(): Promise<MemoryDenseSide> {
    this.dense ??= this.resolveDense();
    return this.dense;
  }

  private async resolveDense(): Promise<MemoryDenseSide> {
    const binding = this.embedderBinding();
    if (!binding || this.countVectors() === 0)
      return {
        unavailable: `the memory "${this.name}" has no vectors (it was built without an embedding model; build it again with one installed to add them)`,
      };
    if (!this.embedderSource)
      return { unavailable: 'no embedding models can be loaded here (the memory was opened without any)' };
    const embedder = await this.embedderSource(binding.modelId);
    if ('unavailable' in embedder) return embedder;
    if (embedder.modelId !== binding.modelId || embedder.dimension !== binding.dimension)
      return {
        unavailable: `the memory was embedded with ${binding.modelId} (${binding.dimension}-d) but the embedder found is ${embedder.modelId} (${embedder.dimension}-d)`,
      };
    const index = this.vectorIndex();
    if (!index) return { unavailable: `the memory "${this.name}" has no vectors` };
    const warnings: string[] = [];
    if (index.status.kind === 'rebuilt')
      warnings.push(
        `The memory's vector index was rebuilt from its stored vectors because ${index.status.reason}${index.status.saved ? '' : ' (in memory only; it is saved by the next reckon memory build)'}.`,
      );
    const missing = this.countExamplesWithoutVectors();
    if (missing > 0)
      warnings.push(
        `${missing} example${missing === 1 ? ' has' : 's have'} no vector yet; dense search cannot find ${missing === 1 ? 'it' : 'them'} (run reckon memory build again to embed them).`,
      );
    return { index, embedder, warnings };
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.lock?.release();
  }

  private readVector(id: number, blob: Buffer, dimension: number): Float32Array {
    if (blob.byteLength !== dimension * 4)
      throw new ReckonError(
        'MEMORY_VECTORS_DAMAGED',
        `The stored vector of example ${id} in memory "${this.name}" is damaged (${blob.byteLength} bytes, expected ${dimension * 4}). Re-embed the memory: reckon memory build --name ${this.name} --dataset <file> --model <spec> --reembed.`,
      );
    const copy = new Uint8Array(blob.byteLength);
    copy.set(blob);
    return new Float32Array(copy.buffer);
  }

  private deleteVector(exampleId: number): boolean {
    const deleted = this.db.prepare(`DELETE FROM example_vectors WHERE example_id = ?`).run(exampleId);
    if (deleted.changes === 0) return false;
    this.db
      .prepare(`INSERT OR REPLACE INTO vector_tombstones(example_id, generation) VALUES (?, ?)`)
      .run(exampleId, this.generation() + 1);
    return true;
  }

  private bumpGeneration(): void {
    this.setMeta('generation', String(this.generation() + 1));
  }

  private forgetIndex(): void {
    this.cachedIndex = undefined;
    this.dense = undefined;
  }

  private getMeta(key: string): string | undefined {
    return this.db.prepare(`SELECT value FROM meta WHERE key = ?`).pluck().get(key) as string | undefined;
  }

  private setMeta(key: string, value: string): void {
    this.db
      .prepare(
        `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      )
      .run(key, value);
  }
}

/** The error of vectors from one embedder meeting a memory bound to another. */
export function embedderMismatchError(
  name: string,
  bound: EmbedderBinding,
  other: EmbedderBinding,
): ReckonError {
  return new ReckonError(
    'MEMORY_EMBEDDER_MISMATCH',
    `The memory "${name}" was embedded with ${bound.modelId} (${bound.dimension}-d); it cannot mix in vectors from ${other.modelId} (${other.dimension}-d). Build it with the same embedder, or add --reembed to replace all its vectors with ${other.modelId}'s.`,
  );
}

function toExample(row: Record<string, unknown>): SolvedExample {
  return {
    id: row.id as number,
    itemId: row.item_id as string,
    task: row.task as string,
    answer: row.answer as string,
    program: row.program as string,
    text: (row.text as string | null) ?? null,
    fold: row.fold as number,
  };
}

/** A memory as `reckon memory list` shows it. */
export interface MemorySummary {
  name: string;
  dir: string;
  info: MemoryInfo | null;
  examples: number;
  failures: number;
  folds: Record<string, number>;
  /** The memory's vectors (dense search): embedder id, dimension and how many examples have one; null when none. */
  vectors: (EmbedderBinding & { count: number }) | null;
  error: { code: string; message: string } | null;
}

/** The memories of a data directory: `<dataDir>/memories/<name>/`. */
export class MemoryLibrary {
  readonly memoriesDir: string;
  private readonly embedders: MemoryEmbedderSource | undefined;

  /** `embedders` finds the embedding models of memories' vectors (dense search); default none. */
  constructor(
    readonly dataDir: string,
    options: { embedders?: MemoryEmbedderSource } = {},
  ) {
    this.memoriesDir = path.join(dataDir, 'memories');
    this.embedders = options.embedders;
  }

  /** Throws a ReckonError (`BAD_MEMORY_NAME`) explaining the rule when `name` cannot be a memory name. */
  static validateName(name: string): void {
    if (!MEMORY_NAME.test(name))
      throw new ReckonError(
        'BAD_MEMORY_NAME',
        `"${name}" is not a valid memory name: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      );
  }

  memoryDir(name: string): string {
    MemoryLibrary.validateName(name);
    return path.join(this.memoriesDir, name);
  }

  exists(name: string): boolean {
    return fs.existsSync(path.join(this.memoryDir(name), 'memory.db'));
  }

  /** Opens a memory; `write` creates it and takes its writer lock (a second writer gets WriterLockedError). */
  open(name: string, options: { write?: boolean } = {}): SolvedExampleMemory {
    return SolvedExampleMemory.open(name, this.memoryDir(name), {
      ...options,
      ...(this.embedders ? { embedders: this.embedders } : {}),
    });
  }

  /** Every memory, sorted by name; one that cannot be read is listed with its error. */
  list(): MemorySummary[] {
    if (!fs.existsSync(this.memoriesDir)) return [];
    const out: MemorySummary[] = [];
    for (const entry of fs.readdirSync(this.memoriesDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !MEMORY_NAME.test(entry.name) || !this.exists(entry.name)) continue;
      const dir = this.memoryDir(entry.name);
      try {
        const memory = this.open(entry.name);
        try {
          out.push({
            name: entry.name,
            dir,
            info: memory.info(),
            examples: memory.count(),
            failures: memory.failureCount(),
            folds: Object.fromEntries([...memory.foldSizes()].map(([fold, n]) => [String(fold), n])),
            vectors: vectorSummary(memory),
            error: null,
          });
        } finally {
          memory.close();
        }
      } catch (error) {
        const reckon =
          error instanceof ReckonError
            ? error
            : new ReckonError('STORE_UNREADABLE', (error as Error).message, { cause: error });
        out.push({
          name: entry.name,
          dir,
          info: null,
          examples: 0,
          failures: 0,
          folds: {},
          vectors: null,
          error: { code: reckon.code, message: reckon.message },
        });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a memory (takes its writer lock first, so a build in progress is not pulled away). */
  remove(name: string): void {
    if (!this.exists(name)) throw new MemoryNotFoundError(name);
    this.open(name, { write: true }).close();
    fs.rmSync(this.memoryDir(name), { recursive: true, force: true });
  }
}

function vectorSummary(memory: SolvedExampleMemory): MemorySummary['vectors'] {
  const binding = memory.embedderBinding();
  return binding ? { ...binding, count: memory.countVectors() } : null;
}
