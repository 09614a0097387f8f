import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanText } from '../../main/engine/corpus/cleanText.ts';
import { ParsePool } from '../../main/engine/corpus/loaders/ParsePool.ts';
import { parseFile } from '../../main/engine/corpus/loaders/parseFile.ts';
import type { ParsedFile } from '../../main/engine/corpus/loaders/ParsedFile.ts';
import { CancelledError, ParseError } from '../../main/engine/errors.ts';
import {
  makeLargeTextFile,
  makeSampleFolder,
  makeTextFile,
  type SampleFile,
} from '../fixtures/makeSampleFiles.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HOTPOT_PATH = resolve(REPO_ROOT, '../shared/data/hotpotqa/dev_distractor_200.json');
const MUSIQUE_PATH = resolve(REPO_ROOT, '../shared/data/musique/ans_dev_200.jsonl');

/** Pool limits for the sample folder: small enough that a 16 MiB zip bomb is refused at once. */
const SAMPLE_LIMITS = { maxTextChars: 1024 * 1024 };

let dir: string;
let samples: SampleFile[];
let largeTextPath: string;
let smallTextPath: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reckon-pool-'));
  samples = await makeSampleFolder(join(dir, 'samples'), { zipBombTextBytes: 16 * 1024 * 1024 });
  largeTextPath = await makeLargeTextFile(join(dir, 'large.txt'), 8 * 1024 * 1024);
  smallTextPath = await makeTextFile(join(dir, 'small.txt'), 'A small file about the Danube.\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function outcome(promise: Promise<ParsedFile>): Promise<ParsedFile | Error> {
  return promise.then(
    (file) => file,
    (error: unknown) => error as Error,
  );
}

describe('ParsePool', () => {
  it('parses every sample file in workers with the expected outcome, as parseFile would', async () => {
    const pool = new ParsePool({ limits: SAMPLE_LIMITS, size: 2 });
    try {
      const results = await Promise.all(samples.map((sample) => outcome(pool.parse(sample.path))));
      expect(samples.length).toBeGreaterThanOrEqual(15);
      for (const [i, sample] of samples.entries()) {
        const result = results[i]!;
        const expected = sample.expect;
        if (expected.ok) {
          expect(result, sample.name).not.toBeInstanceOf(Error);
          const file = result as ParsedFile;
          expect(file.kind, sample.name).toBe(expected.kind);
          expect(file.sections[0]?.title, sample.name).toBe(expected.title);
          expect(file.sections.map((s) => s.text).join('\n'), sample.name).toContain(expected.contains);
          if (expected.sections !== undefined)
            expect(file.sections, sample.name).toHaveLength(expected.sections);
        } else {
          expect(result, sample.name).toBeInstanceOf(ParseError);
          expect((result as ParseError).code, sample.name).toBe(expected.code);
          // Codes and messages cross the thread boundary unchanged.
          const direct = await outcome(parseFile(sample.path, { limits: SAMPLE_LIMITS }));
          expect((result as ParseError).message, sample.name).toBe((direct as ParseError).message);
        }
      }
      const pdf = results[samples.findIndex((s) => s.name === 'sample.pdf')] as ParsedFile;
      expect(pdf.sections[0]?.pageStarts).toHaveLength(2);
    } finally {
      await pool.close();
    }
  });

  it('kills a parse that exceeds its timeout and goes on with the next file', async () => {
    const pool = new ParsePool({ limits: { timeoutMs: 20 } });
    try {
      // Warm up: a worker is started (and tsx loaded) outside of any timed parse.
      const warm = await outcome(pool.parse(smallTextPath, { timeoutMs: 30_000 }));
      expect(warm).not.toBeInstanceOf(Error);

      const started = Date.now();
      const timedOut = await outcome(pool.parse(largeTextPath));
      expect(timedOut).toBeInstanceOf(ParseError);
      expect((timedOut as ParseError).code).toBe('PARSE_TIMEOUT');
      expect((timedOut as ParseError).message).toContain('large.txt');
      expect(Date.now() - started).toBeLessThan(5_000);

      const next = await pool.parse(smallTextPath, { timeoutMs: 30_000 });
      expect(next.sections[0]?.text).toBe('A small file about the Danube.');
      // The same file parses when given the time.
      const large = await pool.parse(largeTextPath, { timeoutMs: 30_000 });
      expect(large.sections[0]?.text.length).toBeGreaterThan(1_000_000);
    } finally {
      await pool.close();
    }
  });

  it('reports a crashed or out-of-memory parse process as PARSE_CRASHED and goes on', async () => {
    // A stand-in child speaking the parseWorker protocol, which crashes on request.
    const source = `
      process.on('message', (m) => {
        if (m.type !== 'parse') return;
        if (m.filePath === 'throw') throw new Error('boom');
        if (m.filePath === 'exit') process.exit(3);
        if (m.filePath === 'abort') process.abort();
        if (m.filePath === 'oom') { const kept = []; for (;;) kept.push(new Array(10000).fill(1)); }
        process.send({ type: 'result', id: m.id, ok: true, file: { kind: 'text', sections: [{ title: m.filePath, text: 'ok' }] } });
      });
      process.on('disconnect', () => process.exit(0));
      process.send({ type: 'ready' });`;
    const workerPath = join(dir, 'standInParser.mjs');
    await writeFile(workerPath, source);
    const pool = new ParsePool({ workerUrl: pathToFileURL(workerPath), maxOldSpaceMb: 32 });
    try {
      for (const [name, pattern] of [
        ['throw', /crashed.*code 1/],
        ['exit', /crashed.*code 3/],
        ['abort', /crashed.*SIGABRT/],
        ['oom', /out of memory/],
      ] as const) {
        const crashed = await outcome(pool.parse(name));
        expect(crashed, name).toBeInstanceOf(ParseError);
        expect((crashed as ParseError).code, name).toBe('PARSE_CRASHED');
        expect((crashed as ParseError).message, name).toMatch(pattern);
        expect((await pool.parse(`after-${name}`)).sections[0]?.title).toBe(`after-${name}`);
      }
    } finally {
      await pool.close();
    }
  });

  it('cancels queued and running parses with CancelledError and keeps working', async () => {
    const pool = new ParsePool({ size: 1 });
    try {
      const running = new AbortController();
      const queued = new AbortController();
      const first = outcome(pool.parse(largeTextPath, { signal: running.signal }));
      const second = outcome(pool.parse(smallTextPath, { signal: queued.signal }));
      queued.abort();
      expect(await second).toBeInstanceOf(CancelledError);
      running.abort();
      expect(await first).toBeInstanceOf(CancelledError);
      const alreadyAborted = new AbortController();
      alreadyAborted.abort();
      expect(await outcome(pool.parse(smallTextPath, { signal: alreadyAborted.signal }))).toBeInstanceOf(
        CancelledError,
      );
      expect((await pool.parse(smallTextPath)).sections[0]?.text).toBe('A small file about the Danube.');
    } finally {
      await pool.close();
    }
  });

  it('rejects work after close()', async () => {
    const pool = new ParsePool();
    const pending = outcome(pool.parse(smallTextPath));
    await pool.close();
    expect(await pending).toBeInstanceOf(CancelledError);
    const late = await outcome(pool.parse(smallTextPath));
    expect((late as ParseError).code).toBe('POOL_CLOSED');
  });
});

describe('ParsePool on real QA datasets', () => {
  // The shared data sits beside every checkout (and CI's clone): a missing file is a failure, not a skip.
  it('reads HotpotQA dev: one section per distinct paragraph', async () => {
    const pool = new ParsePool();
    try {
      const file = await pool.parse(HOTPOT_PATH);
      expect(file.kind).toBe('qa-dataset');
      const derrickson = file.sections.filter((s) => s.title === 'Scott Derrickson');
      expect(derrickson).toHaveLength(1);
      expect(derrickson[0]!.text).toMatch(
        /^Scott Derrickson \(born July 16, 1966\) is an American director, screenwriter and producer\. He lives in Los Angeles, California\. He is best known/,
      );
      const keys = new Set(file.sections.map((s) => `${s.title}\u0000${s.text}`));
      expect(keys.size).toBe(file.sections.length);

      // Independently: the distinct paragraphs of the raw file, across all questions.
      const records = JSON.parse(await readFile(HOTPOT_PATH, 'utf8')) as { context: [string, string[]][] }[];
      const raw = records.flatMap((r) =>
        r.context.map(([title, sentences]) => `${cleanText(title)}\u0000${cleanText(sentences.join(''))}`),
      );
      expect(raw.length).toBeGreaterThan(file.sections.length); // questions share paragraphs
      expect(file.sections.length).toBe(new Set(raw).size);
    } finally {
      await pool.close();
    }
  });

  it('reads MuSiQue JSONL: one section per distinct paragraph', async () => {
    const pool = new ParsePool();
    try {
      const file = await pool.parse(MUSIQUE_PATH);
      expect(file.kind).toBe('qa-dataset');
      const lines = (await readFile(MUSIQUE_PATH, 'utf8')).split('\n').filter((line) => line.trim() !== '');
      const raw = lines.flatMap((line) =>
        (JSON.parse(line) as { paragraphs: { title: string; paragraph_text: string }[] }).paragraphs.map(
          (p) => `${cleanText(p.title)}\u0000${cleanText(p.paragraph_text)}`,
        ),
      );
      expect(file.sections.length).toBe(new Set(raw).size);
      expect(new Set(file.sections.map((s) => `${s.title}\u0000${s.text}`)).size).toBe(file.sections.length);
      expect(file.sections.some((s) => s.title === 'Port Blair' && s.text.startsWith('Port Blair'))).toBe(
        true,
      );
    } finally {
      await pool.close();
    }
  });
});
