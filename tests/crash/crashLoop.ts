/**
 * Crash-test loop (issue 14): kills `reckon ingest` with SIGKILL at random points, N times, checks
 * after every kill that the corpus is consistent and still writable, then lets one run finish and
 * compares the corpus with a clean ingest of the same files. Not part of `npm test` (it takes
 * minutes); run it as
 *
 *   npm run test:crash                       # 10 kills
 *   npm run test:crash -- --iterations 50    # N kills
 *   npm run test:crash -- --seed 7           # another sequence of kill points
 *
 * Each iteration also edits one file first, so kills land in replacements as well as first
 * ingestion. Exits 1 on the first inconsistency or on any difference from the clean ingest.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeSampleFolder } from '../fixtures/makeSampleFiles.ts';
import { mulberry32 } from '../fixtures/mulberry32.ts';
import { RECKON_BIN } from '../fixtures/runReckon.ts';
import { ExitCode } from '../../main/cli/CliContext.ts';

/** Kills per run by default. */
export const DEFAULT_CRASH_ITERATIONS = 10;
/** Seed of the kill points by default. */
export const DEFAULT_CRASH_SEED = 14;

interface CorpusSnapshot {
  documents: { path: string; status: string; errorCode: string | null; hash: string; chunks: number }[];
  chunks: number;
  ftsRows: number;
}

function parseArgs(argv: readonly string[]): { iterations: number; seed: number } {
  const value = (name: string, fallback: number): number => {
    const index = argv.indexOf(`--${name}`);
    if (index === -1) return fallback;
    const parsed = Number(argv[index + 1]);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`--${name} needs a positive integer.`);
    return parsed;
  };
  return {
    iterations: value('iterations', DEFAULT_CRASH_ITERATIONS),
    seed: value('seed', DEFAULT_CRASH_SEED),
  };
}

/** Runs `reckon ingest`; with `killAfterMs`, SIGKILLs it then. Resolves with how it ended and its duration. */
function ingest(
  docs: string,
  corpus: string,
  env: NodeJS.ProcessEnv,
  killAfterMs?: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; stderr: string }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [RECKON_BIN, 'ingest', docs, '--corpus', corpus, '--embedder', 'none', '--quiet', '--json'],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ms: Date.now() - started, stderr });
    });
  });
}

/** A run that finished: the sample folder holds bad files on purpose, so PARTIAL counts. */
function finished(code: number | null): boolean {
  return code === ExitCode.OK || code === ExitCode.PARTIAL;
}

/** Reads a corpus and checks the invariants every state must keep; throws on a broken one. */
function snapshot(dataDir: string, corpus: string): CorpusSnapshot {
  const db = new Database(path.join(dataDir, 'corpora', corpus, 'corpus.db'), { readonly: true });
  try {
    db.prepare(`INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`);
    const one = (sql: string): number => db.prepare(sql).pluck().get() as number;
    const integrity = db.pragma('quick_check', { simple: true });
    if (integrity !== 'ok') throw new Error(`SQLite quick_check: ${String(integrity)}`);
    const mismatched = one(
      `SELECT count(*) FROM documents d WHERE d.chunk_count != (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)`,
    );
    if (mismatched > 0) throw new Error(`${mismatched} documents disagree with their chunk rows`);
    const chunks = one(`SELECT count(*) FROM chunks`);
    const ftsRows = one(`SELECT count(*) FROM chunks_fts_docsize`);
    if (chunks !== ftsRows) throw new Error(`${chunks} chunks but ${ftsRows} full-text rows`);
    const documents = (
      db
        .prepare(
          `SELECT path, status, error_code AS errorCode, content_hash AS hash, chunk_count AS chunks FROM documents ORDER BY path`,
        )
        .all() as CorpusSnapshot['documents']
    ).map((doc) => ({ ...doc }));
    return { documents, chunks, ftsRows };
  } finally {
    db.close();
  }
}

async function main(): Promise<number> {
  const { iterations, seed } = parseArgs(process.argv.slice(2));
  const random = mulberry32(seed);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-crash-'));
  const dataDir = path.join(tmp, 'data');
  const docs = path.join(tmp, 'docs');
  const env = { ...process.env, RECKON_HOME: dataDir, RECKON_MODELS_DIR: path.join(tmp, 'models') };
  try {
    await makeSampleFolder(docs, { zipBombTextBytes: 4 * 1024 * 1024 });
    // Enough text that a run spends a while writing, so kills land in every phase.
    for (let f = 0; f < 6; f++) {
      const lines = Array.from({ length: 20_000 }, (_, i) => `File ${f} line ${i} about topic ${i % 97}.`);
      fs.writeFileSync(path.join(docs, `bulk-${f}.txt`), lines.join('\n'));
    }

    const timing = await ingest(docs, 'timing', env);
    if (!finished(timing.code))
      throw new Error(`a clean ingest failed (exit ${timing.code}, ${timing.signal}):\n${timing.stderr}`);
    console.log(
      `A full ingest takes ${timing.ms} ms; killing ${iterations} runs at random points (seed ${seed}).`,
    );

    for (let i = 1; i <= iterations; i++) {
      const edited = path.join(docs, `bulk-${i % 6}.txt`);
      fs.appendFileSync(edited, `\nEdit ${i} before run ${i}.`);
      const killAfterMs = Math.floor(random() * timing.ms * 1.1);
      const run = await ingest(docs, 'crash', env, killAfterMs);
      const state = fs.existsSync(path.join(dataDir, 'corpora', 'crash', 'corpus.db'))
        ? snapshot(dataDir, 'crash')
        : undefined;
      console.log(
        `#${i}: killed after ${killAfterMs} ms (${run.signal ?? `exit ${run.code}`}); ` +
          (state
            ? `consistent, ${state.documents.length} documents, ${state.chunks} chunks`
            : 'no corpus yet'),
      );
    }

    const finish = await ingest(docs, 'crash', env);
    if (!finished(finish.code)) throw new Error(`the finishing run failed:\n${finish.stderr}`);
    const clean = await ingest(docs, 'clean', env);
    if (!finished(clean.code)) throw new Error(`the clean run failed:\n${clean.stderr}`);
    const crashed = snapshot(dataDir, 'crash');
    const expected = snapshot(dataDir, 'clean');
    const condemned = crashed.documents.filter((doc) => doc.errorCode === 'PARSE_CRASHED');
    if (condemned.length > 0) {
      throw new Error(`kills condemned good files: ${condemned.map((doc) => doc.path).join(', ')}`);
    }
    if (JSON.stringify(crashed) !== JSON.stringify(expected)) {
      const differ = crashed.documents.filter(
        (doc, i) => JSON.stringify(doc) !== JSON.stringify(expected.documents[i]),
      );
      throw new Error(
        `after ${iterations} kills the corpus differs from a clean ingest: ${crashed.chunks} vs ${expected.chunks} chunks, ` +
          `${crashed.documents.length} vs ${expected.documents.length} documents; first differences: ${JSON.stringify(differ.slice(0, 3))}`,
      );
    }
    console.log(
      `OK: after ${iterations} kills the corpus matches a clean ingest (${expected.documents.length} documents, ${expected.chunks} chunks).`,
    );
    return 0;
  } catch (error) {
    console.error(`FAILED: ${(error as Error).message}`);
    return 1;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

process.exitCode = await main();
