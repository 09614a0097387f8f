import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { CorpusStore, toFtsQuery } from '../../main/engine/corpus/CorpusStore.ts';
import { VectorIndex } from '../../main/engine/corpus/search/VectorIndex.ts';
import { WriterLock } from '../../main/engine/corpus/WriterLock.ts';
import { Library } from '../../main/engine/corpus/Library.ts';
import { WriterLockedError } from '../../main/engine/errors.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-store-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, hash = 'h1') => ({
  path: `/docs/${name}`,
  contentHash: hash,
  size: 10,
  mtimeMs: 1,
});
const chunk = (text: string, title = 'T', section = 0) => ({
  section,
  title,
  text,
  start: 0,
  end: text.length,
});

function unit(values: number[]): Float32Array {
  const v = Float32Array.from(values);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

describe('CorpusStore', () => {
  it('writes documents, chunks and full-text rows together and replaces them atomically', () => {
    const store = CorpusStore.open(dir);
    store.replaceDocument({
      ...file('a.txt'),
      kind: 'text',
      title: 'A',
      chunks: [chunk('alpha beta'), chunk('gamma delta')],
    });
    store.replaceDocument({
      ...file('b.txt'),
      kind: 'text',
      title: 'B',
      chunks: [chunk('beta epsilon', 'Bee')],
    });
    expect(store.stats()).toMatchObject({ documents: 2, chunks: 3, ftsRows: 3 });
    expect(
      store.bm25Search('epsilon', 5).map((h) => store.getChunks([h.chunkId]).get(h.chunkId)?.path),
    ).toEqual(['/docs/b.txt']);

    store.replaceDocument({ ...file('a.txt', 'h2'), kind: 'text', title: 'A', chunks: [chunk('zeta only')] });
    expect(store.stats()).toMatchObject({ documents: 2, chunks: 2, ftsRows: 2 });
    expect(store.bm25Search('alpha', 5)).toEqual([]);
    store.checkFullTextIntegrity();

    store.markFailed({ ...file('a.txt', 'h3'), errorCode: 'PDF_CORRUPT', error: 'broken' });
    expect(store.getDocument('/docs/a.txt')).toMatchObject({
      status: 'failed',
      errorCode: 'PDF_CORRUPT',
      chunkCount: 0,
    });
    expect(store.stats()).toMatchObject({ documents: 1, failedDocuments: 1, chunks: 1, ftsRows: 1 });

    expect(store.removeDocument('/docs/b.txt')).toBe(true);
    expect(store.removeDocument('/docs/b.txt')).toBe(false);
    expect(store.stats()).toMatchObject({ chunks: 0, ftsRows: 0 });
    store.checkFullTextIntegrity();
    store.close();
  });

  it('ranks title matches and tolerates FTS syntax in queries', () => {
    const store = CorpusStore.open(dir);
    store.replaceDocument({
      ...file('a'),
      kind: 'text',
      title: 'x',
      chunks: [chunk('Ed Wood was a director.', 'Ed Wood')],
    });
    store.replaceDocument({
      ...file('b'),
      kind: 'text',
      title: 'y',
      chunks: [chunk('Wood is a material.', 'Timber')],
    });
    const hits = store.bm25Search('Ed Wood"); DROP TABLE chunks; -- NEAR(', 5);
    expect(hits.length).toBe(2);
    expect(store.getChunks([hits[0]!.chunkId]).get(hits[0]!.chunkId)?.title).toBe('Ed Wood');
    expect(toFtsQuery('a "b" OR c*')).toBe('"b" OR "c"');
    // Function words are dropped, unless nothing else is left.
    expect(toFtsQuery('What is the nationality of Ed Wood?')).toBe('"nationality" OR "ed" OR "wood"');
    expect(toFtsQuery('The Who')).toBe('"the" OR "who"');
    expect(store.bm25Search('!!! ???', 5)).toEqual([]);
    store.close();
  });

  it('bounds a BM25 query by leaving out its commonest words, rarest kept, and says which', async () => {
    const store = CorpusStore.open(dir);
    // "common" is in all 20 passages, "middling" in 5, "scarce" in 1.
    const texts = Array.from(
      { length: 20 },
      (_, i) => `common words here${i < 5 ? ' middling' : ''}${i === 0 ? ' scarce' : ''} number${i}`,
    );
    texts.forEach((text, i) =>
      store.replaceDocument({ ...file(`p${i}.txt`), kind: 'text', title: `P${i}`, chunks: [chunk(text)] }),
    );
    const query = 'common middling scarce';
    // Within the bound (20 + 5 + 1 = 26 postings), or with no bound: every word, exactly.
    for (const bound of [26, 0]) {
      const plan = store.planBm25(query, bound);
      expect(plan).toMatchObject({
        words: ['common', 'middling', 'scarce'],
        omitted: [],
        maxPostings: bound,
      });
    }
    // Past it: the commonest word goes first; counting it stopped at bound + 1.
    expect(store.planBm25(query, 10)).toMatchObject({
      match: '"middling" OR "scarce"',
      words: ['middling', 'scarce'],
      omitted: [{ word: 'common', passages: 11, atLeast: true }],
    });
    expect(store.planBm25(query, 25).omitted).toEqual([{ word: 'common', passages: 20, atLeast: false }]);
    // The rarest word is kept even when it alone is over the bound.
    expect(store.planBm25(query, 3)).toMatchObject({
      words: ['scarce'],
      omitted: [
        { word: 'common', passages: 4, atLeast: true },
        { word: 'middling', passages: 4, atLeast: true },
      ],
    });
    expect(store.planBm25('common', 1).words).toEqual(['common']);
    // The bounded search ranks with the kept words only; unbounded, all 20 passages match.
    expect(store.bm25Search(store.planBm25(query, 10), 50)).toHaveLength(5);
    expect(store.bm25Search(store.planBm25(query, 0), 50)).toHaveLength(20);
    const top = store.bm25Search(store.planBm25(query, 10), 1)[0]!;
    expect(store.getChunks([top.chunkId]).get(top.chunkId)?.text).toContain('scarce');
    // Through searchCorpus, the leaving out is a warning that names the words and the way back.
    const { searchCorpus } = await import('../../main/engine/corpus/search/searchCorpus.ts');
    const source = { store, dense: async () => ({ unavailable: 'none' }) };
    const bounded = await searchCorpus(source, query, { mode: 'bm25', k: 50, bm25MaxPostings: 10 });
    expect(bounded.hits).toHaveLength(5);
    expect(bounded.warnings).toEqual([
      'BM25 left out the common words "common" (more than 10 passages) to score at most 10 passages; it searched for "middling", "scarce". Set bm25MaxPostings to 0 (reckon search --bm25-max-postings 0) to score every word.',
    ]);
    const exact = await searchCorpus(source, query, { mode: 'bm25', k: 50 });
    expect(exact).toMatchObject({ warnings: [] });
    expect(exact.hits).toHaveLength(20);
    store.close();
  });

  it('drops vectors with their chunks and refuses vectors from another model', () => {
    const store = CorpusStore.open(dir);
    const { documentId } = store.replaceDocument({
      ...file('a'),
      kind: 'text',
      title: 'A',
      chunks: [chunk('one'), chunk('two')],
    });
    expect(documentId).toBeGreaterThan(0);
    const missing = store.chunksWithoutVectors(10);
    expect(missing.length).toBe(2);
    store.putVectors(
      missing.map((c, i) => ({ chunkId: c.id, vector: unit([1, i, 0]) })),
      { modelId: 'm1', dimension: 3 },
    );
    expect(store.stats()).toMatchObject({ vectors: 2, embedderId: 'm1', dimension: 3 });
    expect(() =>
      store.putVectors([{ chunkId: missing[0]!.id, vector: unit([1, 0, 0, 0]) }], {
        modelId: 'm2',
        dimension: 4,
      }),
    ).toThrow(/embedded with m1/);
    store.replaceDocument({ ...file('a', 'h2'), kind: 'text', title: 'A', chunks: [chunk('three')] });
    expect(store.stats()).toMatchObject({ chunks: 1, vectors: 0 });
    store.close();
  });
});

describe('VectorIndex', () => {
  function storeWithVectors(): CorpusStore {
    const store = CorpusStore.open(dir);
    store.replaceDocument({
      ...file('a'),
      kind: 'text',
      title: 'A',
      chunks: [chunk('x'), chunk('y'), chunk('z')],
    });
    const rows = store.chunksWithoutVectors(10);
    const basis = [unit([1, 0, 0]), unit([0, 1, 0]), unit([0, 0, 1])];
    store.putVectors(
      rows.map((c, i) => ({ chunkId: c.id, vector: basis[i]! })),
      { modelId: 'm', dimension: 3 },
    );
    return store;
  }

  it('builds, saves, reloads and searches by cosine similarity', () => {
    const store = storeWithVectors();
    const file = path.join(dir, 'vectors.usearch');
    const built = VectorIndex.open(store, file)!;
    expect(built.status).toMatchObject({ kind: 'rebuilt', saved: true });
    const ids = store.chunksWithoutVectors(10);
    expect(ids).toEqual([]);
    const reloaded = VectorIndex.open(store, file)!;
    expect(reloaded.status).toEqual({ kind: 'loaded' });
    const hits = reloaded.search(unit([0.1, 0.9, 0.1]), 2);
    expect(hits.length).toBe(2);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    const y = [...store.getChunks([hits[0]!.chunkId]).values()][0];
    expect(y?.text).toBe('y');
    store.close();
  });

  it('rebuilds instead of loading a truncated, stale or missing file', () => {
    const store = storeWithVectors();
    const indexFile = path.join(dir, 'vectors.usearch');
    VectorIndex.open(store, indexFile);
    fs.truncateSync(indexFile, Math.floor(fs.statSync(indexFile).size / 2));
    const afterTruncate = VectorIndex.open(store, indexFile)!;
    expect(afterTruncate.status).toMatchObject({ kind: 'rebuilt', reason: expect.stringMatching(/damaged/) });
    expect(afterTruncate.search(unit([1, 0, 0]), 1).length).toBe(1);

    fs.writeFileSync(indexFile, 'garbage');
    expect(VectorIndex.open(store, indexFile, { persist: false })!.status).toMatchObject({
      kind: 'rebuilt',
      saved: false,
    });

    // Stale and damaged: never updated in place, rebuilt.
    store.replaceDocument({ ...file('b'), kind: 'text', title: 'B', chunks: [chunk('w')] });
    expect(VectorIndex.open(store, indexFile)!.status).toMatchObject({
      kind: 'rebuilt',
      reason: expect.stringMatching(/damaged/),
    });

    fs.rmSync(indexFile);
    store.replaceDocument({ ...file('c'), kind: 'text', title: 'C', chunks: [chunk('v')] });
    VectorIndex.open(store, indexFile);
    fs.rmSync(indexFile);
    expect(VectorIndex.open(store, indexFile)!.status).toMatchObject({
      reason: expect.stringMatching(/missing/),
    });
    store.close();
  });
});

describe('VectorIndex updates', () => {
  it('brings a saved index up to date with what changed instead of rebuilding it', () => {
    const store = CorpusStore.open(dir);
    const indexFile = path.join(dir, 'vectors.usearch');
    const embed = (seed: number) => unit([Math.cos(seed), Math.sin(seed), seed % 3]);
    const addDoc = (name: string, hash: string, texts: string[]) => {
      store.replaceDocument({
        ...file(name, hash),
        kind: 'text',
        title: name,
        chunks: texts.map((t) => chunk(t)),
      });
      const rows = store.chunksWithoutVectors(100);
      store.putVectors(
        rows.map((c) => ({ chunkId: c.id, vector: embed(c.id) })),
        { modelId: 'm', dimension: 3 },
      );
    };
    addDoc('a', 'h1', ['a1', 'a2', 'a3']);
    addDoc('b', 'h1', ['b1', 'b2']);
    expect(VectorIndex.open(store, indexFile)!.status).toMatchObject({ kind: 'rebuilt', saved: true });

    // Replace a (3 vectors out, 2 in) and delete b (2 out).
    addDoc('a', 'h2', ['a4', 'a5']);
    store.removeDocument('/docs/b');
    const updated = VectorIndex.open(store, indexFile)!;
    expect(updated.status).toEqual({ kind: 'updated', added: 2, removed: 5, saved: true });
    expect(updated.size).toBe(2);
    const ids = store.vectorChunkIds();
    for (const id of ids) expect(updated.search(embed(id), 1)[0]!.chunkId).toBe(id);

    // Saved: the next open loads it as is, and tombstones the index reflects are gone.
    expect(VectorIndex.open(store, indexFile)!.status).toEqual({ kind: 'loaded' });
    expect(store.vectorTombstonesSince(0)).toEqual([]);
    store.close();
  });
});

describe('WriterLock', () => {
  it('refuses a second writer in the same process and frees on release', () => {
    const lockPath = path.join(dir, 'writer.lock');
    const lock = WriterLock.acquire(lockPath, 'Corpus "t"');
    expect(() => WriterLock.acquire(lockPath, 'Corpus "t"')).toThrow(WriterLockedError);
    lock.release();
    WriterLock.acquire(lockPath, 'Corpus "t"').release();
  });

  it('refuses while another live process holds it and takes over once that process is killed', async () => {
    const lockPath = path.join(dir, 'writer.lock');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await new Promise((resolve) => child.once('spawn', resolve));
    fs.writeFileSync(
      lockPath,
      JSON.stringify({ pid: child.pid, host: os.hostname(), startedAt: Date.now() }),
    );
    expect(() => WriterLock.acquire(lockPath, 'Corpus "t"')).toThrow(/another Reckon process \(pid \d+/);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = WriterLock.acquire(lockPath, 'Corpus "t"');
    lock.release();
    expect(fs.existsSync(lockPath)).toBe(false);
  });

  it('gives the library a clear error for a second writer of a corpus', () => {
    const library = new Library(dir);
    const writer = library.open('notes', { write: true });
    expect(() => library.open('notes', { write: true })).toThrow(WriterLockedError);
    const reader = library.openForReading('notes');
    expect(reader.writable).toBe(false);
    reader.close();
    writer.close();
    expect(() => Library.validateName('../etc')).toThrow(/not a valid corpus name/);
  });
});
