/**
 * The `reckon` command end to end, as a user runs it: real processes, real SQLite/FTS5, real
 * usearch, the real worker-thread parser and the real transformers.js path on a tiny generated
 * encoder.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';
import { makeSampleFolder } from '../fixtures/makeSampleFiles.ts';
import { type CliRun, HOTPOT_DEV, RECKON_BIN, REPO_ROOT, runReckon } from '../fixtures/runReckon.ts';

let tmp: string;
let modelsDir: string;
let env: NodeJS.ProcessEnv;

function reckon(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return runReckon(args, { ...env, ...extraEnv });
}

function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

/** Counts that must always agree in a consistent corpus. */
function consistency(dataDir: string, corpus: string) {
  const db = new Database(path.join(dataDir, 'corpora', corpus, 'corpus.db'), { readonly: true });
  try {
    const one = (sql: string) => db.prepare(sql).pluck().get() as number;
    db.prepare(`INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)`);
    return {
      documents: one(`SELECT count(*) FROM documents WHERE status = 'ok'`),
      chunks: one(`SELECT count(*) FROM chunks`),
      ftsRows: one(`SELECT count(*) FROM chunks_fts_docsize`),
      vectors: one(`SELECT count(*) FROM chunk_vectors`),
      orphanVectors: one(
        `SELECT count(*) FROM chunk_vectors v LEFT JOIN chunks c ON c.id = v.chunk_id WHERE c.id IS NULL`,
      ),
      chunkCountMismatches: one(
        `SELECT count(*) FROM documents d WHERE d.chunk_count != (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)`,
      ),
    };
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-cli-'));
  modelsDir = path.join(tmp, 'models');
  await makeTinyEncoder({ dir: path.join(modelsDir, 'embedders', 'tiny-encoder') });
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: modelsDir };
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon ingest + search on HotpotQA', () => {
  it('finds the Scott Derrickson paragraph, and ingesting again adds nothing', async () => {
    const first = await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const result = json<{ added: number; chunksWritten: number; chunksEmbedded: number; embedderId: string }>(
      first,
    );
    expect(result.added).toBe(1);
    expect(result.chunksWritten).toBeGreaterThan(1000);
    expect(result.chunksEmbedded).toBe(result.chunksWritten);
    expect(result.embedderId).toBe('tiny-encoder');

    for (const mode of ['bm25', 'hybrid']) {
      const search = await reckon([
        'search',
        'Scott Derrickson nationality',
        '--corpus',
        'hotpot',
        '-k',
        '5',
        '--mode',
        mode,
        '--json',
      ]);
      expect(search.code, search.stderr).toBe(0);
      const hits = json<{ mode: string; hits: { title: string; text: string }[] }>(search);
      expect(hits.mode).toBe(mode);
      expect(hits.hits).toHaveLength(5);
      expect(hits.hits.map((h) => h.title)).toContain('Scott Derrickson');
    }

    // A BM25 bound below what the question's words occur in: the commonest words are left out, and
    // the warning says which; 0 scores every word.
    const bm25Search = (maxPostings: string) =>
      reckon([
        'search',
        'Scott Derrickson nationality director',
        '--corpus',
        'hotpot',
        '--mode',
        'bm25',
        '--bm25-max-postings',
        maxPostings,
        '--json',
      ]);
    const bounded = json<{ warnings: string[]; hits: { title: string }[] }>(await bm25Search('20'));
    expect(bounded.warnings).toEqual([
      expect.stringMatching(
        /^BM25 left out the common words .*"director" \(more than 20 passages\).* it searched for "derrickson"\./,
      ),
    ]);
    expect(bounded.hits.map((h) => h.title)).toContain('Scott Derrickson');
    const unbounded = await bm25Search('0');
    expect(json<{ warnings: string[] }>(unbounded).warnings).toEqual([]);
    const refused = await reckon(['search', 'x', '--corpus', 'hotpot', '--bm25-max-postings', '-1']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('expected a whole number, 0 or more');

    const dense = json<{ mode: string; hits: unknown[] }>(
      await reckon(['search', 'Scott Derrickson', '--corpus', 'hotpot', '--mode', 'dense', '--json']),
    );
    expect(dense.mode).toBe('dense');
    expect(dense.hits).toHaveLength(5);

    const before = consistency(env.RECKON_HOME!, 'hotpot');
    const again = json<{
      added: number;
      updated: number;
      unchanged: number;
      chunksWritten: number;
      chunksEmbedded: number;
    }>(await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--json']));
    expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 1, chunksWritten: 0, chunksEmbedded: 0 });
    expect(consistency(env.RECKON_HOME!, 'hotpot')).toEqual(before);

    const corpora = json<{ corpora: { name: string; chunks: number; vectors: number; sections: number }[] }>(
      await reckon(['corpora', '--json']),
    );
    expect(corpora.corpora).toEqual([
      expect.objectContaining({ name: 'hotpot', chunks: before.chunks, vectors: before.vectors }),
    ]);
    // Paragraphs are deduplicated across questions: fewer sections than 200 questions × 10 paragraphs.
    expect(corpora.corpora[0]!.sections).toBeLessThan(2000);
  });

  it('survives a truncated vector index: search rebuilds it and says so', async () => {
    const indexFile = path.join(env.RECKON_HOME!, 'corpora', 'hotpot', 'vectors.usearch');
    fs.truncateSync(indexFile, Math.floor(fs.statSync(indexFile).size / 3));
    const search = await reckon([
      'search',
      'Scott Derrickson',
      '--corpus',
      'hotpot',
      '--mode',
      'hybrid',
      '--json',
    ]);
    expect(search.code, search.stderr).toBe(0);
    expect(search.stderr).toMatch(/rebuilt .*damaged/);
    expect(json<{ hits: { title: string }[] }>(search).hits.map((h) => h.title)).toContain(
      'Scott Derrickson',
    );
    const next = await reckon([
      'search',
      'Scott Derrickson',
      '--corpus',
      'hotpot',
      '--mode',
      'dense',
      '--json',
    ]);
    expect(next.stderr).not.toMatch(/rebuilt/);
  });
});

describe('reckon ingest on bad input', () => {
  it('ingests the good files of a folder and reports each bad one with its reason', async () => {
    const folder = path.join(tmp, 'mixed');
    const samples = await makeSampleFolder(folder, { zipBombTextBytes: 48 * 1024 * 1024 });
    const run = await reckon(['ingest', folder, '--corpus', 'mixed', '--json']);
    expect(run.code, run.stderr).toBe(3);
    const result = json<{
      added: number;
      failed: { path: string; code: string; message: string }[];
      skippedUnsupported: number;
    }>(run);
    const good = samples.filter((s) => s.expect.ok);
    const bad = samples.filter((s) => !s.expect.ok && s.expect.code !== 'UNSUPPORTED_TYPE');
    expect(result.added).toBe(good.length);
    expect(result.skippedUnsupported).toBe(1);
    expect(result.failed.map((f) => [path.basename(f.path), f.code]).sort()).toEqual(
      bad.map((s) => [s.name, (s.expect as { code: string }).code]).sort(),
    );
    for (const failure of result.failed) expect(failure.message.length).toBeGreaterThan(20);
    const search = json<{ hits: { path: string; page: number | null }[] }>(
      await reckon(['search', 'completed in 1889', '--corpus', 'mixed', '--mode', 'bm25', '--json']),
    );
    expect(search.hits[0]).toMatchObject({ path: path.join(folder, 'sample.pdf'), page: 2 });

    // Deleting a file from the folder removes it on the next run; fixing a bad one ingests it.
    fs.rmSync(path.join(folder, 'page.html'));
    fs.writeFileSync(path.join(folder, 'latin1.txt'), 'Now valid UTF-8: café.\n');
    const rerun = json<{ removed: number; added: number; updated: number }>(
      await reckon(['ingest', folder, '--corpus', 'mixed', '--json']),
    );
    expect(rerun).toMatchObject({ removed: 1, updated: 1, added: 0 });
  });

  it('exits 2 with a clear message for a missing corpus, as for any bad command line', async () => {
    const missing = await reckon(['search', 'x', '--corpus', 'nope', '--json']);
    expect(missing.code).toBe(2);
    expect(json<{ error: { code: string; message: string } }>(missing).error).toMatchObject({
      code: 'CORPUS_NOT_FOUND',
    });
    expect((await reckon(['search', 'x'])).code).toBe(2);
    expect((await reckon(['search', 'x', '--corpus', 'hotpot', '--mode', 'fuzzy'])).code).toBe(2);
  });
});

describe('reckon on a first contact', () => {
  it('prints its version', async () => {
    const packageJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await reckon(['--version']);
    expect(run).toMatchObject({ code: 0, stdout: `${packageJson.version}\n` });
  });

  it('exits 2, before doing anything, for every bad value on the command line', async () => {
    const dataDir = path.join(tmp, 'first-contact');
    const replay = path.join(tmp, 'first-contact.jsonl');
    fs.writeFileSync(replay, '{"role":"decompose","output":"[]"}\n');
    const cases: [string, string[], RegExp][] = [
      ['unknown corpus', ['search', 'x', '--corpus', 'nope'], /no corpus named "nope"/],
      ['bad -k', ['search', 'x', '--corpus', 'nope', '-k', '0'], /positive whole number/],
      ['k not a number', ['search', 'x', '--corpus', 'nope', '-k', 'five'], /positive whole number/],
      ['bad corpus name', ['corpora', 'remove', '../x'], /not a valid corpus name/],
      [
        'empty question',
        ['ask', '  ', '--corpus', 'nope', '--model', `replay:${replay}`],
        /question is empty/,
      ],
      [
        'bad model spec',
        ['ask', 'Who?', '--corpus', 'nope', '--model', 'gpt-4'],
        /not a model Reckon understands/,
      ],
      [
        'missing GGUF',
        ['ask', 'Who?', '--corpus', 'nope', '--model', path.join(tmp, 'no.gguf')],
        /No GGUF model/,
      ],
      [
        'missing replay',
        ['ask', 'Who?', '--model', `replay:${path.join(tmp, 'no.jsonl')}`, '--corpus', 'x'],
        /No replay file/,
      ],
      ['unknown run', ['runs', 'show', 'run-nope'], /no run "run-nope"/],
      ['unknown catalog model', ['models', 'pull', 'no-such-model'], /no model "no-such-model"/],
      ['missing program file', ['analyze', path.join(tmp, 'no.js')], /Cannot read/],
    ];
    for (const [what, args, message] of cases) {
      const run = await reckon(['--data-dir', dataDir, ...args]);
      expect(run.code, `${what}: ${run.stderr}`).toBe(2);
      expect(run.stderr, what).toMatch(message);
    }
    // Nothing was recorded or created by any of them.
    expect(fs.existsSync(path.join(dataDir, 'corpora'))).toBe(false);
    const runs = await reckon(['--data-dir', dataDir, 'runs', '--json']);
    expect(JSON.parse(runs.stdout)).toEqual({ runs: [] });
  });

  it('refuses a path that does not exist before creating a corpus, and prints no raw control characters', async () => {
    const dataDir = path.join(tmp, 'no-such-path');
    const hostile = path.join(tmp, 'no\u001b]0;pwned\u0007\u001b[2Jsuch');
    const run = await reckon(['--data-dir', dataDir, 'ingest', hostile, '--corpus', 'typo']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('no\\x1b]0;pwned\\x07\\x1b[2Jsuch');
    // eslint-disable-next-line no-control-regex
    expect(run.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(fs.existsSync(path.join(dataDir, 'corpora', 'typo'))).toBe(false);
  });

  it('counts in words that agree with the number', async () => {
    const dataDir = path.join(tmp, 'plurals');
    const folder = path.join(tmp, 'one-file');
    fs.mkdirSync(folder);
    fs.writeFileSync(path.join(folder, 'only.md'), '# Only\n\nThe one and only document.\n');
    fs.writeFileSync(path.join(folder, 'skip.xyz'), 'not a known type');
    const ingest = await reckon([
      '--data-dir',
      dataDir,
      'ingest',
      folder,
      '--corpus',
      'one',
      '--embedder',
      'none',
    ]);
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toContain('1 chunk written');
    expect(ingest.stdout).toContain('Skipped 1 file of unsupported types.');
    expect(ingest.stderr).toMatch(/1\/1 file, .*1 chunk written/);
    const list = await reckon(['--data-dir', dataDir, 'corpora']);
    expect(list.stdout).toBe('one: 1 document (1 section), 1 chunk, 0 vectors (BM25 only)\n');
  });
});

describe('reckon ingest killed with SIGKILL', () => {
  it('leaves a consistent corpus that the next run completes', async () => {
    const folder = path.join(tmp, 'many');
    fs.mkdirSync(folder);
    const paragraphs = JSON.parse(fs.readFileSync(HOTPOT_DEV, 'utf8')) as { context: [string, string[]][] }[];
    let n = 0;
    for (const record of paragraphs.slice(0, 60)) {
      for (const [title, sentences] of record.context) {
        fs.writeFileSync(
          path.join(folder, `${String(n++).padStart(4, '0')}.md`),
          `# ${title}\n\n${sentences.join('')}\n`,
        );
      }
    }
    const dataDir = env.RECKON_HOME!;
    const dbPath = path.join(dataDir, 'corpora', 'killed', 'corpus.db');
    const child = spawn(process.execPath, [RECKON_BIN, 'ingest', folder, '--corpus', 'killed', '--quiet'], {
      env,
      stdio: 'ignore',
    });
    // Kill it once some, but not all, documents are in.
    const deadline = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 15));
      if (!fs.existsSync(dbPath)) continue;
      try {
        const db = new Database(dbPath, { readonly: true, fileMustExist: true });
        seen = db.prepare(`SELECT count(*) FROM documents`).pluck().get() as number;
        db.close();
      } catch {
        continue;
      }
      if (seen >= 20) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(seen).toBeGreaterThanOrEqual(20);

    const afterKill = consistency(dataDir, 'killed');
    expect(afterKill.documents).toBeLessThan(n);
    expect(afterKill.chunks).toBe(afterKill.ftsRows);
    expect(afterKill.orphanVectors).toBe(0);
    expect(afterKill.chunkCountMismatches).toBe(0);

    const resumed = await reckon(['ingest', folder, '--corpus', 'killed', '--json']);
    expect(resumed.code, resumed.stderr).toBe(0);
    const done = consistency(dataDir, 'killed');
    expect(done.documents).toBe(n);
    expect(done.chunks).toBe(done.ftsRows);
    expect(done.vectors).toBe(done.chunks);
    expect(done.chunkCountMismatches).toBe(0);

    // Same result as a clean, uninterrupted ingestion of the same folder.
    const clean = await reckon(['ingest', folder, '--corpus', 'clean', '--json']);
    expect(clean.code).toBe(0);
    const cleanCounts = consistency(dataDir, 'clean');
    expect({ ...done }).toEqual({ ...cleanCounts });
  });
});
