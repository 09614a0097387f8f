/**
 * One corpus on disk: a SQLite database (WAL, FTS5) that is the source of truth for its documents,
 * chunks and embedding vectors. Every change to a document is one transaction, so a process killed
 * at any point leaves a consistent store (chunks, full-text rows and vectors agree) that the next
 * ingestion completes. The usearch index beside it is derived from this store (see VectorIndex).
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { ReckonError } from '../errors.ts';
import { StatementCache } from '../util/StatementCache.ts';
import { DEFAULT_BM25_MAX_POSTINGS, type Bm25QueryPlan, type OmittedQueryWord } from './search/bm25Plan.ts';
import { openSqlite } from '../util/openSqlite.ts';
import { toStorageError, type StorageErrorContext } from '../util/toStorageError.ts';
import { readVectorIndexState, writeVectorIndexState } from './vectorIndexStateTable.ts';

export const SCHEMA_VERSION = 1;
/** Title matches count this much more than body matches in BM25. */
export const DEFAULT_TITLE_WEIGHT = 2;
/** Query terms beyond this many are ignored (FTS5 query cost grows with terms). */
export const MAX_QUERY_TERMS = 64;

export type DocumentStatus = 'ok' | 'failed';

export interface DocumentRow {
  id: number;
  path: string;
  kind: string | null;
  title: string | null;
  contentHash: string;
  size: number;
  mtimeMs: number;
  status: DocumentStatus;
  errorCode: string | null;
  error: string | null;
  chunkCount: number;
  ingestedAt: number;
}

export interface ChunkInput {
  section: number;
  title: string;
  text: string;
  start: number;
  end: number;
  page?: number;
}

export interface ChunkRow {
  id: number;
  documentId: number;
  path: string;
  ord: number;
  section: number;
  title: string;
  text: string;
  start: number;
  end: number;
  page: number | null;
}

export interface Bm25Hit {
  chunkId: number;
  score: number;
}

export interface CorpusStats {
  documents: number;
  /** Sections across documents: a dataset file's distinct paragraphs, one per ordinary file. */
  sections: number;
  failedDocuments: number;
  chunks: number;
  ftsRows: number;
  vectors: number;
  generation: number;
  embedderId: string | null;
  dimension: number | null;
}

export interface VectorIndexState {
  generation: number;
  dimension: number;
  modelId: string;
  checksum: string;
  count: number;
}

export interface DocumentFileInfo {
  path: string;
  contentHash: string;
  size: number;
  mtimeMs: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  path TEXT NOT NULL UNIQUE,
  kind TEXT,
  title TEXT,
  content_hash TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
  error_code TEXT,
  error TEXT,
  chunk_count INTEGER NOT NULL DEFAULT 0,
  ingested_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ord INTEGER NOT NULL,
  section INTEGER NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  start INTEGER NOT NULL,
  end INTEGER NOT NULL,
  page INTEGER
);
CREATE INDEX IF NOT EXISTS chunks_by_document ON chunks(document_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
  title, text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_after_insert AFTER INSERT ON chunks BEGIN
  INSERT INTO chunks_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_after_delete AFTER DELETE ON chunks BEGIN
  INSERT INTO chunks_fts(chunks_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
END;
CREATE TABLE IF NOT EXISTS chunk_vectors (
  chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE,
  vector BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS vector_index_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  generation INTEGER NOT NULL,
  dimension INTEGER NOT NULL,
  model_id TEXT NOT NULL,
  checksum TEXT NOT NULL,
  count INTEGER NOT NULL
);
-- Unused since parsing runs in a child process (a crash there fails the file at once); kept so that
-- older databases keep their shape. Rows are still cleared when a document is written or removed.
CREATE TABLE IF NOT EXISTS parse_attempts (
  path TEXT PRIMARY KEY,
  content_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL
);
-- Chunks whose vectors were deleted, with the generation that deleted them, so a saved index can
-- be brought up to date by removing just those keys instead of being rebuilt from scratch.
CREATE TABLE IF NOT EXISTS vector_tombstones (
  chunk_id INTEGER PRIMARY KEY,
  generation INTEGER NOT NULL
);
`;

export interface CorpusStoreOptions {
  /** Open without writing anything (search while another process ingests). Default: false. */
  readonly?: boolean;
}

export class CorpusStore {
  readonly dbPath: string;
  private readonly db: SqliteDatabase;
  /** Statements of the search path (a question runs several searches), prepared once per store. */
  private readonly statements: StatementCache;

  private constructor(dbPath: string, db: SqliteDatabase) {
    this.dbPath = dbPath;
    this.db = db;
    this.statements = new StatementCache(db);
  }

  /** Opens (and when writable, creates and migrates) the store in `dir`. */
  static open(dir: string, options: CorpusStoreOptions = {}): CorpusStore {
    const dbPath = path.join(dir, 'corpus.db');
    if (options.readonly && !fs.existsSync(dbPath)) {
      throw new ReckonError('STORE_MISSING', `No corpus database at ${dbPath}.`);
    }
    if (!options.readonly) fs.mkdirSync(dir, { recursive: true });
    let db: SqliteDatabase | undefined;
    try {
      db = openSqlite(dbPath, {
        readonly: options.readonly ?? false,
        fileMustExist: options.readonly ?? false,
      });
      db.pragma('busy_timeout = 5000');
      if (!options.readonly) {
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = NORMAL');
      }
      db.pragma('foreign_keys = ON');
      if (!options.readonly) db.exec(SCHEMA);
      const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get() as
        | string
        | undefined;
      if (version === undefined && !options.readonly) {
        db.prepare(`INSERT INTO meta(key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
      } else if (version !== undefined && Number(version) > SCHEMA_VERSION) {
        throw new ReckonError(
          'STORE_TOO_NEW',
          `${dbPath} was written by a newer Reckon (schema ${version}); update Reckon to open it.`,
        );
      }
    } catch (error) {
      if (db?.open) db.close();
      if (error instanceof ReckonError) throw error;
      throw (
        toStorageError(error, storageContext(dbPath, 'the corpus could not be opened')) ??
        new ReckonError(
          'STORE_UNREADABLE',
          `Could not open the corpus database ${dbPath}: ${(error as Error).message}. To fix it, ${repairAdvice(dbPath)}.`,
          { cause: error },
        )
      );
    }
    return new CorpusStore(dbPath, db);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs `work` and turns a storage failure it hits into a ReckonError that names the cause (see
   * toStorageError): a full disk is `DISK_FULL`, a damaged file `STORE_UNREADABLE` with the fix.
   * Corruption inside the file only shows when a damaged page is read, long after open() succeeded,
   * so every public read and write goes through here.
   */
  private guard<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw toStorageError(error, storageContext(this.dbPath, action)) ?? error;
    }
  }

  getDocument(filePath: string): DocumentRow | undefined {
    return this.guard('the document could not be looked up', () => {
      const row = this.db.prepare(`SELECT * FROM documents WHERE path = ?`).get(filePath);
      return row ? toDocumentRow(row as Record<string, unknown>) : undefined;
    });
  }

  listDocuments(): DocumentRow[] {
    return this.guard('the documents could not be listed', () => {
      return (
        this.db.prepare(`SELECT * FROM documents ORDER BY path`).all() as Record<string, unknown>[]
      ).map(toDocumentRow);
    });
  }

  /** Replaces a document's chunks (and drops its old vectors) in one transaction. */
  replaceDocument(info: DocumentFileInfo & { kind: string; title: string; chunks: readonly ChunkInput[] }): {
    documentId: number;
  } {
    return this.guard('the new version of the document could not be saved (the old one is kept)', () => {
      return this.db.transaction(() => {
        const documentId = this.upsertDocumentRow(info, {
          kind: info.kind,
          title: info.title,
          status: 'ok',
          errorCode: null,
          error: null,
          chunkCount: info.chunks.length,
        });
        const insert = this.db.prepare(
          `INSERT INTO chunks(document_id, ord, section, title, text, start, end, page) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        info.chunks.forEach((chunk, ord) => {
          insert.run(
            documentId,
            ord,
            chunk.section,
            chunk.title,
            chunk.text,
            chunk.start,
            chunk.end,
            chunk.page ?? null,
          );
        });
        this.bumpGeneration();
        return { documentId };
      })();
    });
  }

  /** Records that a file could not be ingested (and drops any chunks it had). */
  markFailed(info: DocumentFileInfo & { errorCode: string; error: string }): void {
    return this.guard('the failure could not be recorded', () => {
      this.db.transaction(() => {
        this.upsertDocumentRow(info, {
          kind: null,
          title: null,
          status: 'failed',
          errorCode: info.errorCode,
          error: info.error,
          chunkCount: 0,
        });
        this.bumpGeneration();
      })();
    });
  }

  removeDocument(filePath: string): boolean {
    return this.guard('the document could not be removed', () => {
      return this.db.transaction(() => {
        const doc = this.db.prepare(`SELECT id FROM documents WHERE path = ?`).pluck().get(filePath) as
          | number
          | undefined;
        if (doc === undefined) return false;
        this.deleteChunks(doc);
        this.db.prepare(`DELETE FROM documents WHERE id = ?`).run(doc);
        this.db.prepare(`DELETE FROM parse_attempts WHERE path = ?`).run(filePath);
        this.bumpGeneration();
        return true;
      })();
    });
  }

  private upsertDocumentRow(
    info: DocumentFileInfo,
    fields: {
      kind: string | null;
      title: string | null;
      status: DocumentStatus;
      errorCode: string | null;
      error: string | null;
      chunkCount: number;
    },
  ): number {
    const existing = this.db.prepare(`SELECT id FROM documents WHERE path = ?`).pluck().get(info.path) as
      | number
      | undefined;
    if (existing !== undefined) this.deleteChunks(existing);
    // The parse this row records has finished, whichever way it went.
    this.db.prepare(`DELETE FROM parse_attempts WHERE path = ?`).run(info.path);
    this.db
      .prepare(
        `INSERT INTO documents(path, kind, title, content_hash, size, mtime_ms, status, error_code, error, chunk_count, ingested_at)
         VALUES (@path, @kind, @title, @hash, @size, @mtime, @status, @errorCode, @error, @chunkCount, @now)
         ON CONFLICT(path) DO UPDATE SET kind = excluded.kind, title = excluded.title, content_hash = excluded.content_hash,
           size = excluded.size, mtime_ms = excluded.mtime_ms, status = excluded.status, error_code = excluded.error_code,
           error = excluded.error, chunk_count = excluded.chunk_count, ingested_at = excluded.ingested_at`,
      )
      .run({
        path: info.path,
        kind: fields.kind,
        title: fields.title,
        hash: info.contentHash,
        size: info.size,
        mtime: Math.round(info.mtimeMs),
        status: fields.status,
        errorCode: fields.errorCode,
        error: fields.error,
        chunkCount: fields.chunkCount,
        now: Date.now(),
      });
    return this.db.prepare(`SELECT id FROM documents WHERE path = ?`).pluck().get(info.path) as number;
  }

  private deleteChunks(documentId: number): void {
    // The generation this transaction is about to reach (every write bumps it once, at the end).
    this.db
      .prepare(
        `INSERT OR REPLACE INTO vector_tombstones(chunk_id, generation)
         SELECT chunk_id, ? FROM chunk_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE document_id = ?)`,
      )
      .run(this.generation() + 1, documentId);
    this.db
      .prepare(`DELETE FROM chunk_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE document_id = ?)`)
      .run(documentId);
    this.db.prepare(`DELETE FROM chunks WHERE document_id = ?`).run(documentId);
  }

  private bumpGeneration(): void {
    this.db
      .prepare(
        `INSERT INTO meta(key, value) VALUES ('generation', '1')
         ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
      )
      .run();
  }

  /** Counter bumped by every change to chunks or vectors; the vector index records the one it was built from. */
  generation(): number {
    return Number(this.getMeta('generation') ?? 0);
  }

  getMeta(key: string): string | undefined {
    return this.guard('the corpus settings could not be read', () => {
      return this.statements.get(`SELECT value FROM meta WHERE key = ?`).pluck().get(key) as
        | string
        | undefined;
    });
  }

  setMeta(key: string, value: string): void {
    return this.guard('the corpus settings could not be saved', () => {
      this.db
        .prepare(
          `INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        )
        .run(key, value);
    });
  }

  /** The embedding model this corpus's vectors come from, fixed by the first embedding. */
  embedderBinding(): { modelId: string; dimension: number } | undefined {
    const modelId = this.getMeta('embedder_id');
    const dimension = Number(this.getMeta('embedder_dimension'));
    return modelId && dimension > 0 ? { modelId, dimension } : undefined;
  }

  /** Chunks that have no vector yet, oldest first, with ids above `afterId` (default 0). */
  chunksWithoutVectors(limit: number, afterId = 0): { id: number; title: string; text: string }[] {
    return this.guard('the chunks to embed could not be read', () => {
      // The cursor keeps a long embedding pass linear: each batch starts where the last one ended.
      return this.db
        .prepare(
          `SELECT c.id, c.title, c.text FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_id = c.id
           WHERE v.chunk_id IS NULL AND c.id > ? ORDER BY c.id LIMIT ?`,
        )
        .all(afterId, limit) as { id: number; title: string; text: string }[];
    });
  }

  countChunksWithoutVectors(): number {
    return this.guard('the chunks to embed could not be counted', () => {
      return this.db
        .prepare(
          `SELECT count(*) FROM chunks c LEFT JOIN chunk_vectors v ON v.chunk_id = c.id WHERE v.chunk_id IS NULL`,
        )
        .pluck()
        .get() as number;
    });
  }

  /** Stores vectors for chunks (ignoring chunks deleted meanwhile) and binds the corpus to the model. */
  putVectors(
    rows: readonly { chunkId: number; vector: Float32Array }[],
    binding: { modelId: string; dimension: number },
  ): void {
    return this.guard('the vectors could not be saved', () => {
      this.db.transaction(() => {
        const current = this.embedderBinding();
        if (current && (current.modelId !== binding.modelId || current.dimension !== binding.dimension)) {
          throw new ReckonError(
            'EMBEDDER_MISMATCH',
            `This corpus was embedded with ${current.modelId} (${current.dimension}-d); it cannot mix in vectors from ${binding.modelId} (${binding.dimension}-d). Use the same embedder, or re-index the corpus with --reembed.`,
          );
        }
        if (!current) {
          this.setMeta('embedder_id', binding.modelId);
          this.setMeta('embedder_dimension', String(binding.dimension));
        }
        const insert = this.db.prepare(
          `INSERT OR REPLACE INTO chunk_vectors(chunk_id, vector) SELECT ?, ? WHERE EXISTS (SELECT 1 FROM chunks WHERE id = ?)`,
        );
        for (const row of rows) {
          if (row.vector.length !== binding.dimension) {
            throw new ReckonError(
              'EMBEDDER_MISMATCH',
              `A ${row.vector.length}-d vector does not fit this ${binding.dimension}-d corpus.`,
            );
          }
          insert.run(
            row.chunkId,
            Buffer.from(row.vector.buffer, row.vector.byteOffset, row.vector.byteLength),
            row.chunkId,
          );
        }
        this.bumpGeneration();
      })();
    });
  }

  /** Drops every vector and the embedder binding (for re-embedding with another model). */
  clearVectors(): void {
    return this.guard('the vectors could not be cleared', () => {
      this.db.transaction(() => {
        this.db.exec(
          `DELETE FROM chunk_vectors; DELETE FROM vector_index_state; DELETE FROM vector_tombstones;`,
        );
        this.db.prepare(`DELETE FROM meta WHERE key IN ('embedder_id', 'embedder_dimension')`).run();
        this.bumpGeneration();
      })();
    });
  }

  /** Chunk ids whose vectors were deleted by generations after `generation`. */
  vectorTombstonesSince(generation: number): number[] {
    return this.guard('the vector index could not be brought up to date', () => {
      return this.db
        .prepare(`SELECT chunk_id FROM vector_tombstones WHERE generation > ? ORDER BY chunk_id`)
        .pluck()
        .all(generation) as number[];
    });
  }

  /** Forgets tombstones an index at `generation` already reflects. */
  pruneVectorTombstones(generation: number): void {
    return this.guard('the vector index could not be brought up to date', () => {
      this.db.prepare(`DELETE FROM vector_tombstones WHERE generation <= ?`).run(generation);
    });
  }

  /** Ids of every chunk that has a vector, ascending. */
  vectorChunkIds(): number[] {
    return this.guard('the vector index could not be rebuilt', () => {
      return this.db
        .prepare(`SELECT chunk_id FROM chunk_vectors ORDER BY chunk_id`)
        .pluck()
        .all() as number[];
    });
  }

  /** The stored vectors of the given chunks. */
  getVectors(chunkIds: readonly number[]): { chunkId: number; vector: Float32Array }[] {
    return this.guard('the vectors could not be read', () => {
      const select = this.db.prepare(`SELECT vector FROM chunk_vectors WHERE chunk_id = ?`).pluck();
      const out: { chunkId: number; vector: Float32Array }[] = [];
      for (const chunkId of chunkIds) {
        const blob = select.get(chunkId) as Buffer | undefined;
        if (!blob) continue;
        const copy = new Uint8Array(blob.byteLength);
        copy.set(blob);
        out.push({ chunkId, vector: new Float32Array(copy.buffer) });
      }
      return out;
    });
  }

  /** Streams every stored vector (for rebuilding the derived index). */
  *iterateVectors(): Generator<{ chunkId: number; vector: Float32Array }> {
    const rows = this.db
      .prepare(`SELECT chunk_id, vector FROM chunk_vectors ORDER BY chunk_id`)
      .iterate() as Iterable<{
      chunk_id: number;
      vector: Buffer;
    }>;
    const iterator = rows[Symbol.iterator]();
    for (;;) {
      const next = this.guard('the vector index could not be rebuilt', () => iterator.next());
      if (next.done) return;
      const copy = new Uint8Array(next.value.vector.byteLength);
      copy.set(next.value.vector);
      yield { chunkId: next.value.chunk_id, vector: new Float32Array(copy.buffer) };
    }
  }

  countVectors(): number {
    return this.guard('the vectors could not be counted', () => {
      return this.db.prepare(`SELECT count(*) FROM chunk_vectors`).pluck().get() as number;
    });
  }

  getVectorIndexState(): VectorIndexState | undefined {
    return this.guard('the vector index state could not be read', () => readVectorIndexState(this.db));
  }

  setVectorIndexState(state: VectorIndexState): void {
    return this.guard('the vector index state could not be saved', () =>
      writeVectorIndexState(this.db, state),
    );
  }

  /**
   * Which words of `query` a BM25 search uses. All of them (less stopwords) when together they are
   * in at most `maxPostings` passages (a passage counted once per word it contains) or when
   * `maxPostings` is 0; otherwise the rarest words that fit the bound, at least one, and the commoner
   * ones are listed in `omitted`. Counting a word stops at maxPostings + 1 passages, so planning
   * costs at most that much per word however large the corpus.
   */
  planBm25(query: string, maxPostings: number = DEFAULT_BM25_MAX_POSTINGS): Bm25QueryPlan {
    const words = queryWords(query);
    const plan = (kept: string[], omitted: OmittedQueryWord[]): Bm25QueryPlan => ({
      match: toMatchExpression(kept),
      words: kept,
      omitted,
      maxPostings,
    });
    if (!(maxPostings > 0) || words.length <= 1) return plan(words, []);
    return this.guard('the search could not be planned', () => {
      // No word can be in more passages than the corpus has (the largest id bounds that at once).
      const largestId =
        (this.statements.get(`SELECT max(id) FROM chunks`).pluck().get() as number | null) ?? 0;
      if (largestId * words.length <= maxPostings) return plan(words, []);
      const count = this.statements
        .get(`SELECT count(*) FROM (SELECT 1 FROM chunks_fts WHERE chunks_fts MATCH ? LIMIT ?)`)
        .pluck();
      const counted = words.map((word) => ({
        word,
        passages: count.get(toMatchExpression([word]), maxPostings + 1) as number,
      }));
      if (counted.reduce((sum, { passages }) => sum + passages, 0) <= maxPostings) return plan(words, []);
      // Rarest first (stable: ties keep the query's order); keep while the total fits.
      const byRarity = [...counted].sort((a, b) => a.passages - b.passages);
      const kept = new Set<string>();
      let total = 0;
      for (const { word, passages } of byRarity) {
        if (kept.size > 0 && total + passages > maxPostings) break;
        kept.add(word);
        total += passages;
      }
      return plan(
        words.filter((word) => kept.has(word)),
        counted
          .filter(({ word }) => !kept.has(word))
          .map(({ word, passages }) => ({ word, passages, atLeast: passages > maxPostings })),
      );
    });
  }

  /**
   * BM25 over titles and texts; every word of the query is an optional term (OR), ranked by FTS5's
   * bm25. A string query is planned with the default bound (planBm25); pass a plan to choose it.
   */
  bm25Search(query: string | Bm25QueryPlan, k: number): Bm25Hit[] {
    return this.guard('the search could not run', () => {
      const { match } = typeof query === 'string' ? this.planBm25(query) : query;
      if (!match) return [];
      const rows = this.statements
        .get(
          `SELECT rowid AS chunkId, bm25(chunks_fts, ?, 1.0) AS rank FROM chunks_fts WHERE chunks_fts MATCH ?
           ORDER BY rank LIMIT ?`,
        )
        .all(DEFAULT_TITLE_WEIGHT, match, k) as { chunkId: number; rank: number }[];
      return rows.map((row) => ({ chunkId: row.chunkId, score: -row.rank }));
    });
  }

  getChunks(ids: readonly number[]): Map<number, ChunkRow> {
    return this.guard('the matching passages could not be read', () => {
      const result = new Map<number, ChunkRow>();
      const select = this.statements.get(
        `SELECT c.id, c.document_id AS documentId, d.path, c.ord, c.section, c.title, c.text, c.start, c.end, c.page
         FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?`,
      );
      for (const id of ids) {
        const row = select.get(id) as ChunkRow | undefined;
        if (row) result.set(id, row);
      }
      return result;
    });
  }

  stats(): CorpusStats {
    return this.guard('its statistics could not be read', () => {
      const one = (sql: string): number => this.db.prepare(sql).pluck().get() as number;
      const binding = this.embedderBinding();
      return {
        documents: one(`SELECT count(*) FROM documents WHERE status = 'ok'`),
        sections: one(`SELECT count(*) FROM (SELECT DISTINCT document_id, section FROM chunks)`),
        failedDocuments: one(`SELECT count(*) FROM documents WHERE status = 'failed'`),
        chunks: one(`SELECT count(*) FROM chunks`),
        ftsRows: one(`SELECT count(*) FROM chunks_fts_docsize`),
        vectors: one(`SELECT count(*) FROM chunk_vectors`),
        generation: this.generation(),
        embedderId: binding?.modelId ?? null,
        dimension: binding?.dimension ?? null,
      };
    });
  }

  /** Runs FTS5's own integrity check against the chunks table; throws when they disagree. */
  checkFullTextIntegrity(): void {
    return this.guard('the full-text index could not be checked', () => {
      this.db.prepare(`INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`).run();
    });
  }
}

/**
 * English function words left out of BM25 queries: as OR-ed terms they match nearly every chunk, so
 * FTS5 must score almost the whole table (4× slower at 100k chunks, `npm run bench`) for terms that
 * barely move the ranking. A query made only of them ("The Who") keeps them.
 */
export const QUERY_STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its ' +
    'of on or our she so than that the their them then there these they this those to was we were what when where which ' +
    'while who whom whose why will with would you your'
  ).split(' '),
);

/** Turns free text into an FTS5 query of quoted, OR-ed terms (no operator injection possible). */
export function toFtsQuery(query: string): string {
  return toMatchExpression(queryWords(query));
}

/** The distinct words of `query` that BM25 searches for: lower-cased, stopwords left out unless there is nothing else. */
function queryWords(query: string): string[] {
  const words = [
    ...new Set((query.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_QUERY_TERMS * 4)),
  ];
  const content = words.filter((word) => !QUERY_STOPWORDS.has(word));
  return (content.length > 0 ? content : words).slice(0, MAX_QUERY_TERMS);
}

/** Words (letters and digits only, so quoting is safe) as an FTS5 expression matching any of them. */
function toMatchExpression(words: readonly string[]): string {
  return words.map((word) => `"${word}"`).join(' OR ');
}

/** How storage errors of the corpus database at `dbPath` are worded (see toStorageError). */
function storageContext(dbPath: string, action: string): StorageErrorContext {
  return { dbPath, label: 'the corpus database', action, repair: repairAdvice(dbPath) };
}

/** The fix for a damaged corpus database: the documents are still on disk, so re-ingesting rebuilds it. */
function repairAdvice(dbPath: string): string {
  const dir = path.dirname(dbPath);
  return (
    `move the folder ${dir} away (or delete the corpus with: reckon corpora remove ` +
    `${path.basename(dir)}) and ingest the documents again; your own files are not affected`
  );
}

function toDocumentRow(row: Record<string, unknown>): DocumentRow {
  return {
    id: row.id as number,
    path: row.path as string,
    kind: row.kind as string | null,
    title: row.title as string | null,
    contentHash: row.content_hash as string,
    size: row.size as number,
    mtimeMs: row.mtime_ms as number,
    status: row.status as DocumentStatus,
    errorCode: row.error_code as string | null,
    error: row.error as string | null,
    chunkCount: row.chunk_count as number,
    ingestedAt: row.ingested_at as number,
  };
}
