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
 * Layout: `<dataDir>/memories/<name>/memory.db`; writers hold `<name>/writer.lock`.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ReckonError } from '../../errors.ts';
import { openSqlite } from '../../util/openSqlite.ts';
import { toFtsQuery } from '../CorpusStore.ts';
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
`;

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
  /** BM25 score, higher is better. */
  score: number;
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
  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly db: SqliteDatabase,
    private readonly lock: WriterLock | undefined,
  ) {}

  /** Opens (writers: creates) the memory in `dir`. */
  static open(name: string, dir: string, options: { write?: boolean } = {}): SolvedExampleMemory {
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
      return new SolvedExampleMemory(name, dir, db, lock);
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
    const raw = this.db.prepare(`SELECT value FROM meta WHERE key = 'info'`).pluck().get() as
      | string
      | undefined;
    return raw === undefined ? null : (JSON.parse(raw) as MemoryInfo);
  }

  /** Records what the memory is built from (writers). */
  setInfo(info: MemoryInfo): void {
    this.db
      .prepare(
        `INSERT INTO meta(key, value) VALUES ('info', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      )
      .run(JSON.stringify(info));
  }

  /** Adds a solved example (writers); an item id already there is replaced. Returns its row id. */
  add(example: Omit<SolvedExample, 'id'>, now: number = Date.now()): number {
    const insert = this.db.transaction(() => {
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

  close(): void {
    if (this.db.open) this.db.close();
    this.lock?.release();
  }
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
  error: { code: string; message: string } | null;
}

/** The memories of a data directory: `<dataDir>/memories/<name>/`. */
export class MemoryLibrary {
  readonly memoriesDir: string;

  constructor(readonly dataDir: string) {
    this.memoriesDir = path.join(dataDir, 'memories');
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
    return SolvedExampleMemory.open(name, this.memoryDir(name), options);
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
