/**
 * Opens a better-sqlite3 database with the native build that matches the runtime: Node's own
 * (node_modules/better-sqlite3) for the CLI and tests, or the Electron build that
 * scripts/postinstall.mjs makes in .electron-native/ when running inside Electron.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase, Options } from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { APP_ROOT } from '../config.ts';

/** Where scripts/postinstall.mjs puts better-sqlite3 built for Electron. */
export const ELECTRON_SQLITE_BINDING = path.join(
  APP_ROOT,
  '.electron-native',
  'better-sqlite3',
  'build',
  'Release',
  'better_sqlite3.node',
);

export function openSqlite(file: string, options: Options = {}): SqliteDatabase {
  if (process.versions.electron && fs.existsSync(ELECTRON_SQLITE_BINDING)) {
    return new Database(file, { ...options, nativeBinding: ELECTRON_SQLITE_BINDING });
  }
  return new Database(file, options);
}
