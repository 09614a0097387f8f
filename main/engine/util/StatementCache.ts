/**
 * Prepared statements of one database, by SQL text, so that a hot path (a question's searches, a
 * run's trace writes) prepares each of its statements once instead of on every call.
 */
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

export class StatementCache {
  readonly #statements = new Map<string, Statement>();

  constructor(private readonly db: SqliteDatabase) {}

  /** The prepared statement for `sql`, with pluck reset to off for readers (a caller may have turned it on). */
  get(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement.reader ? statement.pluck(false) : statement;
  }
}
