/**
 * The run history of a data directory: `<dataDir>/runs.db`, a SQLite database (WAL) with one row
 * per run, the run's complete trace (its TraceEvents in seq order) and the exact outputs the model
 * gave, in call order, so that any run can be inspected, exported as JSON or replayed.
 *
 * Several processes may write it at once (two `reckon ask` in two terminals, the desktop app): WAL
 * and a busy timeout let them take turns, and every logical change is one IMMEDIATE transaction, so
 * a process killed at any point leaves a consistent history. Each run records the process that owns
 * it (host, pid, process start time); a run still 'running' whose owner has gone is marked
 * interrupted (see markInterruptedRuns).
 */
import type { Database as SqliteDatabase, Statement, Transaction } from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ReckonError } from '../errors.ts';
import { formatReplayFailureLine, formatReplayHeader, formatReplayLine } from '../models/ReplayBackend.ts';
import type { TokenProbability } from '../models/LlmBackend.ts';
import { formatZodIssues, parseTraceEventOnce } from './parseTraceEvent.ts';
import type { RunMetrics, TraceEvent, TraceEventOf } from '../../../preload/TraceEvent.ts';
import { runMetricsSchema, traceEventSchema } from '../../../preload/TraceEvent.ts';
import { openSqlite } from '../util/openSqlite.ts';
import { StatementCache } from '../util/StatementCache.ts';
import { toStorageError } from '../util/toStorageError.ts';

/** Version of the tables below, kept in `meta.schema_version`; a newer file is refused. */
export const RUN_STORE_SCHEMA_VERSION = 1;
/** File name of the run history inside the data directory. */
export const RUNS_DB_FILE = 'runs.db';
/** How long a write waits for another process's transaction before failing, in ms. */
export const RUN_STORE_BUSY_TIMEOUT_MS = 5_000;
/** listRuns returns this many runs when no limit is given. */
export const DEFAULT_RUN_LIST_LIMIT = 50;
/** listRuns never returns more than this many runs at once. */
export const MAX_RUN_LIST_LIMIT = 1_000;
/** `error.code` of a run whose process stopped before it reported run-finished. */
export const INTERRUPTED_ERROR_CODE = 'INTERRUPTED';
/** `format` field of an exported run. */
export const RUN_EXPORT_FORMAT = 'reckon-run';
/** `version` field of an exported run; bumped when the export's shape changes. */
export const RUN_EXPORT_VERSION = 1;
/**
 * Two process start times closer than this belong to the same process. The start time is derived
 * (now − uptime) each time a module loads, so it wobbles by a few ms between worker threads.
 */
export const OWNER_START_TOLERANCE_MS = 2_000;

/** Every status a run row can have; interrupted runs are 'failed' with INTERRUPTED_ERROR_CODE. */
export const RUN_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** The error a run finished with: the run-finished event's `error`, e.g. a ReckonError's toJSON(). */
export type RunError = NonNullable<TraceEventOf<'run-finished'>['error']>;
const runErrorSchema: z.ZodType<RunError> = z.object({
  name: z.string(),
  code: z.string(),
  message: z.string(),
});

/** What createRun needs to know about a run before its first event. */
export interface RunMeta {
  /** Unique run id, usually from newRunId(). */
  id: string;
  question: string;
  /** The corpus the run retrieves from; null for a question without one. */
  corpus: string | null;
  strategy: string;
  /** The model spec the run uses (LlmBackend.id). */
  model: string;
  /** The strategy's settings, kept as JSON for re-running with edits. Default: none (null). */
  options?: unknown;
  /** The run this one was made from (an edited program re-run). Default: none (null). */
  parentRunId?: string;
  /** Epoch ms. */
  createdAt: number;
}

const runMetaSchema = z.object({
  id: z.string().min(1),
  question: z.string(),
  corpus: z.string().nullable(),
  strategy: z.string().min(1),
  model: z.string(),
  options: z.unknown().optional(),
  parentRunId: z.string().min(1).optional(),
  createdAt: z.number(),
});

/** One run as listed and exported: its row, kept in sync with its final-answer, metrics and run-finished events. */
export interface RunSummary {
  id: string;
  createdAt: number;
  /**
   * The run-finished event's time; for an interrupted run its last recorded activity (the last
   * event, or createdAt). null while the run is running.
   */
  finishedAt: number | null;
  question: string;
  corpus: string | null;
  strategy: string;
  model: string;
  status: RunStatus;
  /** From the final-answer event; null until it arrives. */
  answer: string | null;
  /** From the run-finished event, or the INTERRUPTED error; null otherwise. */
  error: RunError | null;
  /** From the metrics event; null until it arrives. */
  metrics: RunMetrics | null;
  /** RunMeta.options as stored (JSON round trip); null when none were given. */
  options: unknown;
  /** Model calls with a recorded output or failure; a run with none has nothing to replay. */
  recordedCalls: number;
  /** The run this one was made from (RunMeta.parentRunId); null for most runs. */
  parentRunId: string | null;
}

/** One model output to keep for replay. */
export interface ModelOutputInput {
  /** The step that asked (GenerateOptions.role); written into the replay line. */
  role: string;
  /** The exact text the model returned. */
  output: string;
  promptTokens: number;
  completionTokens: number;
  /** The tokens with their probabilities, when the call asked for them (GenerateResult.tokens). Default: none. */
  tokens?: TokenProbability[];
  /** promptFingerprint of the call's messages, written into the replay line. Default: none (not checked on replay). */
  promptSha256?: string;
  /**
   * Position of the call among the run's generate() calls, 0-based, in the order they were made
   * (not the order they returned, which differs when calls run in parallel). Default: one past the
   * highest index recorded so far.
   */
  callIndex?: number;
}

const modelOutputInputSchema = z.object({
  role: z.string().min(1),
  output: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  tokens: z.array(z.object({ text: z.string(), probability: z.number().min(0).max(1) })).optional(),
  promptSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  callIndex: z.number().int().nonnegative().optional(),
});

/**
 * One failed attempt of a model call that the server answered with an HTTP status (429, 503, a
 * deterministic 400…), kept so that a replay fails the same way and its retries reappear.
 */
export interface ModelFailureInput {
  /** The call's index (as ModelOutputInput.callIndex). */
  callIndex: number;
  /** 1-based attempt of that call. */
  attempt: number;
  role: string;
  status: number;
  message: string;
  /** The wait the server asked for (Retry-After). Default: none. */
  retryAfterMs?: number;
  /** promptFingerprint of the call's messages. Default: none. */
  promptSha256?: string;
}

const modelFailureInputSchema = z.object({
  callIndex: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  role: z.string().min(1),
  status: z.number().int().min(100).max(599),
  message: z.string(),
  retryAfterMs: z.number().nonnegative().optional(),
  promptSha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

/** A recorded model output, as exported. */
export interface ModelOutputRecord {
  callIndex: number;
  role: string;
  output: string;
  promptTokens: number;
  completionTokens: number;
  /** Present when the call returned token probabilities. */
  tokens?: TokenProbability[];
  /** Present when the prompt's fingerprint was recorded. */
  promptSha256?: string;
}

export interface ListRunsOptions {
  /** At most this many runs (1 … MAX_RUN_LIST_LIMIT). Default: DEFAULT_RUN_LIST_LIMIT (50). */
  limit?: number;
  /** Skip this many of the newest runs first. Default: 0. */
  offset?: number;
  /** Only runs whose question or answer contains this text, ignoring case. Default: all runs. */
  search?: string;
  /** Only runs with this status. Default: any. */
  status?: RunStatus;
}

const listRunsOptionsSchema = z.object({
  limit: z.number().int().min(1).max(MAX_RUN_LIST_LIMIT).optional(),
  offset: z.number().int().nonnegative().optional(),
  search: z.string().optional(),
  status: z.enum(RUN_STATUSES).optional(),
});

/** A run as a self-contained JSON document (exportRun). */
export interface RunExport {
  format: typeof RUN_EXPORT_FORMAT;
  version: typeof RUN_EXPORT_VERSION;
  run: RunSummary;
  events: TraceEvent[];
  modelOutputs: ModelOutputRecord[];
}

/**
 * The part of RunStore that a running run writes to. TraceRecorder and recordingBackend take this
 * rather than the whole store, so tests can hand them a small fake.
 */
export type RunWriter = Pick<RunStore, 'appendEvent' | 'recordModelOutput'> &
  Partial<Pick<RunStore, 'recordModelFailure' | 'appendEvents'>>;

/** A model output waiting to be written with the events of its step (RunStore.appendEvents). */
export interface HeldModelOutput {
  runId: string;
  record: ModelOutputInput;
}

/**
 * Checks a model output as recordModelOutput does (ReckonError 'INVALID_ARGUMENT'), so that one
 * held for a later appendEvents is refused where it is made, not when its step is written;
 * appendEvents does not check again what this returned.
 */
export function checkModelOutput(record: ModelOutputInput): ModelOutputInput {
  const valid = parseArgument(modelOutputInputSchema, record, 'model output');
  checkedOutputs.add(valid);
  return valid;
}

/** Outputs checkModelOutput returned (weak, like parseTraceEvent's set of validated events). */
const checkedOutputs = new WeakSet<object>();

function checkModelOutputOnce(record: ModelOutputInput): ModelOutputInput {
  return checkedOutputs.has(record) ? record : checkModelOutput(record);
}

/** The process that owns a running run; used to tell a live run from one whose process died. */
interface RunOwner {
  host: string;
  pid: number;
  startedAt: number;
}

// process.uptime() is process-wide, so every worker thread of this process derives the same start
// time (within a few ms); a later process that got our pid back (containers: pid 1) does not.
const CURRENT_OWNER: RunOwner = {
  host: os.hostname(),
  pid: process.pid,
  startedAt: Math.round(Date.now() - process.uptime() * 1000),
};

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  question TEXT NOT NULL,
  corpus TEXT,
  strategy TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  answer TEXT,
  error_json TEXT,
  metrics_json TEXT,
  options_json TEXT,
  owner_host TEXT NOT NULL,
  owner_pid INTEGER NOT NULL,
  owner_started_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_created ON runs(created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs(status);
CREATE TABLE IF NOT EXISTS run_events (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  body_json TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS model_outputs (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  role TEXT NOT NULL,
  output TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  tokens_json TEXT,
  PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS model_failures (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  call_index INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  role TEXT NOT NULL,
  status INTEGER NOT NULL,
  message TEXT NOT NULL,
  retry_after_ms INTEGER,
  prompt_sha256 TEXT,
  PRIMARY KEY (run_id, call_index, attempt)
) WITHOUT ROWID;
`;

interface RunRow {
  id: string;
  created_at: number;
  finished_at: number | null;
  question: string;
  corpus: string | null;
  strategy: string;
  model: string;
  status: RunStatus;
  answer: string | null;
  error_json: string | null;
  metrics_json: string | null;
  options_json: string | null;
  owner_host: string;
  owner_pid: number;
  owner_started_at: number;
  parent_run_id: string | null;
}

interface EventRow {
  seq: number;
  at: number;
  body_json: string;
}

interface ModelOutputRow {
  seq: number;
  role: string;
  output: string;
  prompt_tokens: number;
  completion_tokens: number;
  tokens_json: string | null;
  prompt_sha256: string | null;
}

interface ModelFailureRow {
  call_index: number;
  attempt: number;
  role: string;
  status: number;
  message: string;
  retry_after_ms: number | null;
  prompt_sha256: string | null;
}

/**
 * Persisted run history (see the module comment). Open one per process with RunStore.open(dataDir);
 * every method is synchronous (better-sqlite3) and every write is one transaction.
 */
export class RunStore {
  readonly dbPath: string;
  private readonly db: SqliteDatabase;
  /** Prepared statements of the write path: a run writes dozens of rows per question. */
  readonly #statements: StatementCache;
  /** The write path's transactions, made once (better-sqlite3 wraps a function anew on each call). */
  readonly #appendEvents: Transaction<
    (events: readonly TraceEvent[], outputs: readonly HeldModelOutput[]) => void
  >;
  readonly #recordModelOutput: Transaction<
    (runId: string, valid: z.infer<typeof modelOutputInputSchema>) => number
  >;

  private constructor(dbPath: string, db: SqliteDatabase) {
    this.dbPath = dbPath;
    this.db = db;
    this.#statements = new StatementCache(db);
    this.#appendEvents = db.transaction(
      (events: readonly TraceEvent[], outputs: readonly HeldModelOutput[]) =>
        this.#insertEvents(events, outputs),
    );
    this.#recordModelOutput = db.transaction((runId: string, valid: z.infer<typeof modelOutputInputSchema>) =>
      this.#insertModelOutput(runId, valid),
    );
    // Unicode-aware lower-casing for search (SQLite's lower() only folds ASCII).
    this.db.function('reckon_fold', { deterministic: true }, (value: unknown) =>
      typeof value === 'string' ? value.toLowerCase() : null,
    );
  }

  /**
   * Opens `<dataDir>/runs.db` (RUNS_DB_FILE), creating the directory, the file and the tables when
   * missing, in WAL mode with a RUN_STORE_BUSY_TIMEOUT_MS (5 s) busy timeout. A file written by a
   * newer schema is refused (ReckonError 'STORE_TOO_NEW'), an unreadable one is 'STORE_UNREADABLE'.
   * Then runs left 'running' by processes that no longer exist are marked interrupted
   * (markInterruptedRuns).
   */
  static open(dataDir: string): RunStore {
    const dbPath = path.join(dataDir, RUNS_DB_FILE);
    let db: SqliteDatabase | undefined;
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      db = openSqlite(dbPath);
      db.pragma(`busy_timeout = ${RUN_STORE_BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.exec(SCHEMA);
      // Added after schema 1 shipped, as a nullable column older readers ignore.
      const outputColumns = db.prepare(`PRAGMA table_info(model_outputs)`).all() as { name: string }[];
      if (!outputColumns.some((column) => column.name === 'tokens_json'))
        db.exec(`ALTER TABLE model_outputs ADD COLUMN tokens_json TEXT`);
      if (!outputColumns.some((column) => column.name === 'prompt_sha256'))
        db.exec(`ALTER TABLE model_outputs ADD COLUMN prompt_sha256 TEXT`);
      const runColumns = db.prepare(`PRAGMA table_info(runs)`).all() as { name: string }[];
      if (!runColumns.some((column) => column.name === 'parent_run_id'))
        db.exec(`ALTER TABLE runs ADD COLUMN parent_run_id TEXT`);
      db.exec(`CREATE INDEX IF NOT EXISTS runs_by_parent ON runs(parent_run_id)`);
      const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get() as
        | string
        | undefined;
      if (version === undefined) {
        db.prepare(`INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)`).run(
          String(RUN_STORE_SCHEMA_VERSION),
        );
      } else if (Number(version) > RUN_STORE_SCHEMA_VERSION) {
        throw new ReckonError(
          'STORE_TOO_NEW',
          `${dbPath} was written by a newer Reckon (run history schema ${version}); update Reckon to open it.`,
        );
      }
    } catch (error) {
      if (db?.open) db.close();
      throw classifyOpenError(error, dbPath);
    }
    const store = new RunStore(dbPath, db);
    try {
      // The first query that reads past the header: damage inside the file shows here, not above.
      store.markInterruptedRuns();
    } catch (error) {
      store.close();
      throw classifyOpenError(error, dbPath);
    }
    return store;
  }

  /** Closes the database; further calls throw. Safe to call twice. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Adds a run in status 'running', owned by this process, and returns its summary. The metadata is
   * validated (ReckonError 'INVALID_ARGUMENT'); an id that exists already is 'RUN_EXISTS'; options
   * that JSON cannot represent (cycles, BigInt) are 'INVALID_ARGUMENT'.
   */
  createRun(meta: RunMeta): RunSummary {
    const valid = parseArgument(runMetaSchema, meta, 'run metadata');
    let optionsJson: string | null;
    try {
      optionsJson = valid.options === undefined ? null : (JSON.stringify(valid.options) ?? null);
    } catch (error) {
      throw new ReckonError(
        'INVALID_ARGUMENT',
        `The options of run ${valid.id} cannot be stored as JSON (${(error as Error).message}).`,
        { cause: error },
      );
    }
    this.db
      .transaction(() => {
        if (this.findRow(valid.id) !== undefined) {
          throw new ReckonError('RUN_EXISTS', `A run with id ${valid.id} already exists; use a new id.`);
        }
        this.db
          .prepare(
            `INSERT INTO runs(id, created_at, question, corpus, strategy, model, status, options_json,
               owner_host, owner_pid, owner_started_at, parent_run_id)
             VALUES (@id, @createdAt, @question, @corpus, @strategy, @model, 'running', @optionsJson,
               @host, @pid, @startedAt, @parentRunId)`,
          )
          .run({
            id: valid.id,
            createdAt: valid.createdAt,
            question: valid.question,
            corpus: valid.corpus,
            strategy: valid.strategy,
            model: valid.model,
            optionsJson,
            parentRunId: valid.parentRunId ?? null,
            host: CURRENT_OWNER.host,
            pid: CURRENT_OWNER.pid,
            startedAt: CURRENT_OWNER.startedAt,
          });
      })
      .immediate();
    return this.requireRun(valid.id);
  }

  /**
   * Appends one event to a run's trace, validated against traceEventSchema (ReckonError
   * 'INVALID_TRACE_EVENT'), and in the same transaction keeps the run row in sync: 'final-answer'
   * sets the answer, 'metrics' the metrics, 'run-finished' the status, error and finishedAt (the
   * event's `at`). The run must exist ('RUN_NOT_FOUND') and still be running ('RUN_FINISHED'); a
   * second event with the same seq is 'DUPLICATE_TRACE_EVENT'. Same as appendEvents([event]).
   */
  appendEvent(event: TraceEvent): void {
    this.appendEvents([event]);
  }

  /**
   * Appends several events, in order, in one transaction: all of them or, when any is refused
   * (for the reasons of appendEvent), none. TraceRecorder writes a run's trace this way, one batch
   * per step, because a transaction per event is most of what persisting a trace costs. Events that
   * parseTraceEvent returned already (the recorder validated them) are not parsed again.
   */
  appendEvents(events: readonly TraceEvent[], modelOutputs: readonly HeldModelOutput[] = []): void {
    if (events.length === 0 && modelOutputs.length === 0) return;
    const valid = events.map((event) => parseTraceEventOnce(event));
    const outputs = modelOutputs.map(({ runId, record }) => ({
      runId,
      record: checkModelOutputOnce(record),
    }));
    this.#appendEvents.immediate(valid, outputs);
  }

  /** appendEvents' transaction: the run's status is read once per run, not per event. */
  #insertEvents(events: readonly TraceEvent[], outputs: readonly HeldModelOutput[]): void {
    // Outputs first: each belongs to the llm-call event that ends its step.
    for (const { runId, record } of outputs) this.#insertModelOutput(runId, record);
    let running: string | undefined;
    for (const event of events) {
      if (event.runId !== running) {
        this.requireRunning(event.runId, `add a "${event.type}" event`);
        running = event.runId;
      }
      this.insertEvent(event);
      // Nothing may follow a run's last event, in this batch either.
      if (event.type === 'run-finished') running = undefined;
    }
  }

  /**
   * Keeps one model output of a running run for replay and returns its call index (see
   * ModelOutputInput.callIndex; default one past the highest recorded). Invalid input is
   * 'INVALID_ARGUMENT' (the role must be non-empty: replay lines require it), an unknown run
   * 'RUN_NOT_FOUND', a finished one 'RUN_FINISHED', an index recorded already
   * 'DUPLICATE_MODEL_OUTPUT'.
   */
  recordModelOutput(runId: string, record: ModelOutputInput): number {
    const valid = parseArgument(modelOutputInputSchema, record, 'model output');
    return this.#recordModelOutput.immediate(runId, valid);
  }

  /** recordModelOutput's transaction. */
  #insertModelOutput(runId: string, valid: z.infer<typeof modelOutputInputSchema>): number {
    this.requireRunning(runId, 'record a model output');
    const callIndex =
      valid.callIndex ??
      (this.statement(`SELECT coalesce(max(seq) + 1, 0) FROM model_outputs WHERE run_id = ?`)
        .pluck()
        .get(runId) as number);
    try {
      this.statement(
        `INSERT INTO model_outputs(run_id, seq, role, output, prompt_tokens, completion_tokens, tokens_json, prompt_sha256)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        runId,
        callIndex,
        valid.role,
        valid.output,
        valid.promptTokens,
        valid.completionTokens,
        valid.tokens !== undefined ? JSON.stringify(valid.tokens) : null,
        valid.promptSha256 ?? null,
      );
    } catch (error) {
      if (!isPrimaryKeyConflict(error)) throw error;
      throw new ReckonError(
        'DUPLICATE_MODEL_OUTPUT',
        `Run ${runId} already has a model output for call ${callIndex}.`,
      );
    }
    return callIndex;
  }

  /**
   * Keeps one failed attempt of a running run's model call (see ModelFailureInput), so that its
   * replay fails the same way. Invalid input is 'INVALID_ARGUMENT', an unknown run
   * 'RUN_NOT_FOUND', a finished one 'RUN_FINISHED'; the same attempt twice is
   * 'DUPLICATE_MODEL_OUTPUT'.
   */
  recordModelFailure(runId: string, record: ModelFailureInput): void {
    const valid = parseArgument(modelFailureInputSchema, record, 'model failure');
    this.db
      .transaction(() => {
        this.requireRunning(runId, 'record a model failure');
        const exists = this.statement(
          `SELECT 1 FROM model_failures WHERE run_id = ? AND call_index = ? AND attempt = ?`,
        )
          .pluck()
          .get(runId, valid.callIndex, valid.attempt);
        if (exists !== undefined) {
          throw new ReckonError(
            'DUPLICATE_MODEL_OUTPUT',
            `Run ${runId} already has a failure for attempt ${valid.attempt} of call ${valid.callIndex}.`,
          );
        }
        this.statement(
          `INSERT INTO model_failures(run_id, call_index, attempt, role, status, message, retry_after_ms, prompt_sha256)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          runId,
          valid.callIndex,
          valid.attempt,
          valid.role,
          valid.status,
          valid.message,
          valid.retryAfterMs ?? null,
          valid.promptSha256 ?? null,
        );
      })
      .immediate();
  }

  /**
   * Runs, newest first (createdAt, then id, descending), filtered by `status` and by `search`
   * (case-insensitive substring of the question or the answer). Defaults: limit
   * DEFAULT_RUN_LIST_LIMIT (50, at most MAX_RUN_LIST_LIMIT 1000), offset 0, no filter. Invalid
   * options are 'INVALID_ARGUMENT'. Runs whose process has gone are marked interrupted first.
   */
  listRuns(options: ListRunsOptions = {}): RunSummary[] {
    const valid = parseArgument(listRunsOptionsSchema, options, 'list options');
    this.markInterruptedRuns();
    const where: string[] = [];
    const params: Record<string, unknown> = {
      limit: valid.limit ?? DEFAULT_RUN_LIST_LIMIT,
      offset: valid.offset ?? 0,
    };
    if (valid.status !== undefined) {
      where.push(`status = @status`);
      params.status = valid.status;
    }
    const search = valid.search?.trim() ?? '';
    if (search !== '') {
      // instr, not LIKE: the user's text is matched literally, % and _ included.
      where.push(
        `(instr(reckon_fold(question), @search) > 0 OR instr(reckon_fold(coalesce(answer, '')), @search) > 0)`,
      );
      params.search = search.toLowerCase();
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY created_at DESC, id DESC LIMIT @limit OFFSET @offset`,
      )
      .all(params) as RunRow[];
    return rows.map((row) => this.toSummary(row));
  }

  /**
   * A run's summary and its whole trace in seq order, or undefined for an unknown id. Events read
   * back are validated; one that no longer matches the schema is ReckonError 'RUN_UNREADABLE'.
   * Runs whose process has gone are marked interrupted first.
   */
  getRun(id: string): { run: RunSummary; events: TraceEvent[] } | undefined {
    this.markInterruptedRuns();
    const row = this.findRow(id);
    if (row === undefined) return undefined;
    return { run: this.toSummary(row), events: this.readEvents(id) };
  }

  /** The ids of the runs made from run `id` (edited program re-runs), oldest first. */
  childRunIds(id: string): string[] {
    return this.db
      .prepare(`SELECT id FROM runs WHERE parent_run_id = ? ORDER BY created_at, id`)
      .pluck()
      .all(id) as string[];
  }

  /**
   * The run as a self-contained JSON-ready document: `{ format: 'reckon-run', version: 1, run,
   * events, modelOutputs }` (RUN_EXPORT_FORMAT, RUN_EXPORT_VERSION), model outputs in call order.
   * Unknown id: ReckonError 'RUN_NOT_FOUND'.
   */
  exportRun(id: string): RunExport {
    const found = this.getRun(id);
    if (found === undefined) throw runNotFound(id);
    return {
      format: RUN_EXPORT_FORMAT,
      version: RUN_EXPORT_VERSION,
      run: found.run,
      events: found.events,
      modelOutputs: this.readModelOutputs(id),
    };
  }

  /**
   * The replay file that reproduces the run's model side: a header line (formatReplayHeader: the
   * run's question and strategy, and the fingerprint of the prompts), then for each model call in
   * call order its recorded failed attempts (formatReplayFailureLine, so the retries happen again)
   * and its output (formatReplayLine with role and promptSha256), each line ending in "\n". Feed it
   * to the replay backend ("replay:<file>"). Unknown id: 'RUN_NOT_FOUND'. A run with a call that
   * has neither a recorded output nor a recorded failure (the process stopped while it was running,
   * or it failed without an HTTP status, e.g. a timeout) cannot be replayed exactly, because every
   * later output would be served to the wrong call: that is 'REPLAY_INCOMPLETE' rather than a
   * silently wrong file.
   */
  exportReplay(id: string): string {
    const row = this.findRow(id);
    if (row === undefined) throw runNotFound(id);
    const outputs = new Map(this.readModelOutputs(id).map((record) => [record.callIndex, record]));
    const failures = new Map<number, ModelFailureRow[]>();
    for (const failure of this.readModelFailures(id)) {
      failures.set(failure.call_index, [...(failures.get(failure.call_index) ?? []), failure]);
    }
    const calls = Math.max(-1, ...outputs.keys(), ...failures.keys()) + 1;
    const lines: string[] = [];
    const promptSha256s: (string | undefined)[] = [];
    for (let callIndex = 0; callIndex < calls; callIndex++) {
      const output = outputs.get(callIndex);
      const failed = failures.get(callIndex) ?? [];
      if (output === undefined && failed.length === 0) {
        throw new ReckonError(
          'REPLAY_INCOMPLETE',
          `Run ${id} has no recorded output for model call ${callIndex} (the call failed without an ` +
            `HTTP status, or the run stopped while it was running), so it cannot be replayed exactly. ` +
            `Run the question again with a model to record a complete run.`,
        );
      }
      for (const failure of failed) {
        const promptSha256 = failure.prompt_sha256 ?? undefined;
        promptSha256s.push(promptSha256);
        lines.push(
          formatReplayFailureLine({
            status: failure.status,
            message: failure.message,
            role: failure.role,
            ...(failure.retry_after_ms !== null ? { retryAfterMs: failure.retry_after_ms } : {}),
            ...(promptSha256 !== undefined ? { promptSha256 } : {}),
          }),
        );
      }
      if (output !== undefined) {
        promptSha256s.push(output.promptSha256);
        lines.push(
          formatReplayLine({
            output: output.output,
            role: output.role,
            ...(output.promptSha256 !== undefined ? { promptSha256: output.promptSha256 } : {}),
            ...(output.tokens ? { tokens: output.tokens } : {}),
          }),
        );
      }
    }
    const header = formatReplayHeader({ question: row.question, strategy: row.strategy, promptSha256s });
    return [header, ...lines].map((line) => `${line}\n`).join('');
  }

  /**
   * Deletes a run with its events and model outputs; returns false when there was no such run. A
   * run that is still running is refused (ReckonError 'RUN_ACTIVE'): cancel it first.
   */
  deleteRun(id: string): boolean {
    return this.db
      .transaction(() => {
        const row = this.findRow(id);
        if (row === undefined) return false;
        if (row.status === 'running') {
          throw new ReckonError('RUN_ACTIVE', `Run ${id} is still running; cancel it before deleting it.`);
        }
        this.db.prepare(`DELETE FROM run_events WHERE run_id = ?`).run(id);
        this.db.prepare(`DELETE FROM model_outputs WHERE run_id = ?`).run(id);
        this.db.prepare(`DELETE FROM model_failures WHERE run_id = ?`).run(id);
        this.db.prepare(`DELETE FROM runs WHERE id = ?`).run(id);
        return true;
      })
      .immediate();
  }

  /**
   * Marks runs left 'running' by a process that no longer exists as failed with error code
   * INTERRUPTED_ERROR_CODE ('INTERRUPTED'), their finishedAt set to their last recorded activity;
   * their traces are left exactly as recorded (no run-finished event is invented). Returns the ids
   * it marked. Called by open(), listRuns() and getRun(). A run is left alone when its owner is
   * this process, a live process on this host, or a process on another host (its liveness cannot
   * be checked from here: it is marked when that host opens the store).
   */
  markInterruptedRuns(): string[] {
    const running = this.db
      .prepare(`SELECT id, owner_host, owner_pid, owner_started_at FROM runs WHERE status = 'running'`)
      .all() as Pick<RunRow, 'id' | 'owner_host' | 'owner_pid' | 'owner_started_at'>[];
    const stale = running.filter(
      (row) => !isOwnerAlive({ host: row.owner_host, pid: row.owner_pid, startedAt: row.owner_started_at }),
    );
    if (stale.length === 0) return [];
    const error: RunError = {
      name: 'ReckonError',
      code: INTERRUPTED_ERROR_CODE,
      message:
        'The process running this question stopped before it finished (it crashed, was killed or ' +
        'the computer shut down). Ask the question again to get an answer.',
    };
    return this.db
      .transaction(() => {
        const marked: string[] = [];
        const mark = this.db.prepare(
          `UPDATE runs SET status = 'failed', error_json = @error,
             finished_at = coalesce((SELECT max(at) FROM run_events WHERE run_id = @id), created_at)
           WHERE id = @id AND status = 'running'`,
        );
        for (const row of stale) {
          if (mark.run({ id: row.id, error: JSON.stringify(error) }).changes > 0) marked.push(row.id);
        }
        return marked;
      })
      .immediate();
  }

  /** Writes one event of a run that requireRunning found running (the caller checks). */
  private insertEvent(event: TraceEvent): void {
    const { runId, seq, at, ...body } = event;
    try {
      this.statement(`INSERT INTO run_events(run_id, seq, type, at, body_json) VALUES (?, ?, ?, ?, ?)`).run(
        runId,
        seq,
        event.type,
        at,
        JSON.stringify(body),
      );
    } catch (error) {
      if (!isPrimaryKeyConflict(error)) throw error;
      throw new ReckonError(
        'DUPLICATE_TRACE_EVENT',
        `Run ${runId} already has an event with seq ${seq}; each event needs its own seq.`,
      );
    }
    if (event.type === 'final-answer') {
      this.statement(`UPDATE runs SET answer = ? WHERE id = ?`).run(event.answer, runId);
    } else if (event.type === 'metrics') {
      this.statement(`UPDATE runs SET metrics_json = ? WHERE id = ?`).run(
        JSON.stringify(event.metrics),
        runId,
      );
    } else if (event.type === 'run-finished') {
      this.statement(`UPDATE runs SET status = ?, error_json = ?, finished_at = ? WHERE id = ?`).run(
        event.status,
        event.error === null ? null : JSON.stringify(event.error),
        at,
        runId,
      );
    }
  }

  /** The prepared statement for `sql`, prepared once per store (a reader's pluck reset to off). */
  private statement(sql: string): Statement {
    return this.#statements.get(sql);
  }

  private findRow(id: string): RunRow | undefined {
    return this.statement(`SELECT * FROM runs WHERE id = ?`).get(id) as RunRow | undefined;
  }

  private requireRun(id: string): RunSummary {
    const row = this.findRow(id);
    if (row === undefined) throw runNotFound(id);
    return this.toSummary(row);
  }

  private requireRunning(id: string, action: string): void {
    const status = this.statement(`SELECT status FROM runs WHERE id = ?`).pluck().get(id) as
      | RunStatus
      | undefined;
    if (status === undefined) throw runNotFound(id);
    if (status !== 'running') {
      throw new ReckonError(
        'RUN_FINISHED',
        `Run ${id} has already finished (${status}); cannot ${action}. This is a bug: a run's work ` +
          `must stop before it reports run-finished.`,
      );
    }
  }

  private readEvents(runId: string): TraceEvent[] {
    const rows = this.db
      .prepare(`SELECT seq, at, body_json FROM run_events WHERE run_id = ? ORDER BY seq`)
      .all(runId) as EventRow[];
    return rows.map((row) => {
      const what = `Event ${row.seq} of run ${runId}`;
      let body: unknown;
      try {
        body = JSON.parse(row.body_json);
      } catch (error) {
        throw this.unreadable(what, error);
      }
      const parsed = traceEventSchema.safeParse({ runId, seq: row.seq, at: row.at, ...(body as object) });
      if (!parsed.success) throw this.unreadable(what, parsed.error);
      return parsed.data;
    });
  }

  private readModelOutputs(runId: string): ModelOutputRecord[] {
    const rows = this.db
      .prepare(
        `SELECT seq, role, output, prompt_tokens, completion_tokens, tokens_json, prompt_sha256 FROM model_outputs WHERE run_id = ? ORDER BY seq`,
      )
      .all(runId) as ModelOutputRow[];
    return rows.map((row) => ({
      callIndex: row.seq,
      role: row.role,
      output: row.output,
      promptTokens: row.prompt_tokens,
      completionTokens: row.completion_tokens,
      ...(row.tokens_json !== null ? { tokens: JSON.parse(row.tokens_json) as TokenProbability[] } : {}),
      ...(row.prompt_sha256 !== null ? { promptSha256: row.prompt_sha256 } : {}),
    }));
  }

  private readModelFailures(runId: string): ModelFailureRow[] {
    return this.db
      .prepare(
        `SELECT call_index, attempt, role, status, message, retry_after_ms, prompt_sha256
         FROM model_failures WHERE run_id = ? ORDER BY call_index, attempt`,
      )
      .all(runId) as ModelFailureRow[];
  }

  private toSummary(row: RunRow): RunSummary {
    return {
      id: row.id,
      createdAt: row.created_at,
      finishedAt: row.finished_at,
      question: row.question,
      corpus: row.corpus,
      strategy: row.strategy,
      model: row.model,
      status: row.status,
      answer: row.answer,
      error: this.readJson(row.error_json, runErrorSchema, `The error of run ${row.id}`),
      metrics: this.readJson(row.metrics_json, runMetricsSchema, `The metrics of run ${row.id}`),
      options: this.readJson(row.options_json, z.unknown(), `The options of run ${row.id}`),
      recordedCalls: this.db
        .prepare(
          `SELECT count(*) FROM (SELECT seq FROM model_outputs WHERE run_id = @id
             UNION SELECT call_index FROM model_failures WHERE run_id = @id)`,
        )
        .pluck()
        .get({ id: row.id }) as number,
      parentRunId: row.parent_run_id,
    };
  }

  private readJson<T>(json: string | null, schema: z.ZodType<T>, what: string): T | null {
    if (json === null) return null;
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (error) {
      throw this.unreadable(what, error);
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw this.unreadable(what, parsed.error);
    return parsed.data;
  }

  private unreadable(what: string, cause: unknown): ReckonError {
    const detail = cause instanceof z.ZodError ? formatZodIssues(cause) : (cause as Error).message;
    return new ReckonError(
      'RUN_UNREADABLE',
      `${what} in ${this.dbPath} cannot be read (${detail}). It may have been written by another ` +
        `version of Reckon; delete the run if it is no longer needed.`,
      { cause },
    );
  }
}

/**
 * The error for a run history that could not be opened: a full disk is DISK_FULL (and never advises
 * moving the file away: nothing is wrong with it), a damaged file — truncated, or random bytes
 * anywhere in it — is STORE_UNREADABLE with the fix, anything else keeps its own ReckonError or
 * becomes STORE_UNREADABLE with the original message.
 */
function classifyOpenError(error: unknown, dbPath: string): ReckonError {
  if (error instanceof ReckonError) return error;
  const repair =
    'move it away (Reckon then starts a new, empty history; the runs in the moved file are no longer listed)';
  return (
    toStorageError(error, {
      dbPath,
      label: 'the run history',
      action: 'the run history could not be opened',
      repair,
    }) ??
    new ReckonError(
      'STORE_UNREADABLE',
      `Could not open the run history ${dbPath}: ${(error as Error).message}. If the file is damaged, ${repair}.`,
      { cause: error },
    )
  );
}

function runNotFound(id: string): ReckonError {
  return new ReckonError(
    'RUN_NOT_FOUND',
    `There is no run with id ${id}. List the saved runs to find the right id; it may have been deleted.`,
  );
}

function parseArgument<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ReckonError('INVALID_ARGUMENT', `Invalid ${what}: ${formatZodIssues(parsed.error)}.`, {
    cause: parsed.error,
  });
}

function isOwnerAlive(owner: RunOwner): boolean {
  // Another machine's processes cannot be checked from here; assume it is alive.
  if (owner.host !== CURRENT_OWNER.host) return true;
  if (owner.pid === CURRENT_OWNER.pid) {
    return Math.abs(owner.startedAt - CURRENT_OWNER.startedAt) <= OWNER_START_TOLERANCE_MS;
  }
  return isProcessAlive(owner.pid);
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `error` is SQLite refusing a row whose primary key is taken (a duplicate seq or call). */
function isPrimaryKeyConflict(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
