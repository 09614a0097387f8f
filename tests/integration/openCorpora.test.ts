/**
 * Corpora kept open between retrievers (OpenCorpora, through Engine.openRetriever): one connection
 * per unchanged corpus, a fresh one after an ingest (by this engine or another process), a removal,
 * or a corpus removed and made again under the same name — real SQLite, BM25 only.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import { Library } from '../../main/engine/corpus/Library.ts';
import { OpenCorpora } from '../../main/engine/corpus/OpenCorpora.ts';
import { CorpusNotFoundError } from '../../main/engine/errors.ts';

let tmp: string;
let engine: Engine;

function writeDoc(name: string, text: string): string {
  const file = path.join(tmp, 'docs', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function makeEngine(): Engine {
  return createEngine({ dataDir: path.join(tmp, 'data'), modelsDir: path.join(tmp, 'models') });
}

async function titles(corpus: string, query: string): Promise<string[]> {
  const retriever = engine.openRetriever(corpus, { embedder: 'none' });
  try {
    const result = await retriever.search(query, { k: 5, mode: 'bm25' });
    return result.hits.map((hit) => path.basename(hit.path));
  } finally {
    retriever.close();
  }
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-open-corpora-'));
  engine = makeEngine();
});

afterEach(async () => {
  await engine.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('OpenCorpora', () => {
  it('shares one open corpus between sessions while it is unchanged, and closes it when dropped', async () => {
    await engine.ingest('notes', [writeDoc('a.md', 'Zebras graze on the savanna.')], { embedder: 'none' });
    const open = new OpenCorpora(new Library(path.join(tmp, 'data')));
    const first = open.acquire('notes');
    const second = open.acquire('notes');
    expect(second.corpus).toBe(first.corpus);
    expect(open.size).toBe(1);
    first.release();
    first.release(); // a second release does nothing
    open.drop('notes');
    // Still in use by `second`: dropped from the cache but not closed yet.
    expect(open.size).toBe(0);
    expect(second.corpus.store.stats().chunks).toBe(1);
    second.release();
    expect(() => second.corpus.store.stats()).toThrow();
    const third = open.acquire('notes');
    expect(third.corpus).not.toBe(first.corpus);
    third.release();
    open.dropAll();
    expect(() => third.corpus.store.stats()).toThrow();
  });

  it('reopens a corpus that another process changed (its generation moved)', async () => {
    await engine.ingest('notes', [writeDoc('a.md', 'Zebras graze on the savanna.')], { embedder: 'none' });
    const open = new OpenCorpora(new Library(path.join(tmp, 'data')));
    const first = open.acquire('notes');
    first.release();
    // Another engine stands for another process writing the same corpus.
    const other = makeEngine();
    await other.ingest('notes', [writeDoc('b.md', 'Zebras have stripes.')], { embedder: 'none' });
    await other.close();
    const second = open.acquire('notes');
    expect(second.corpus).not.toBe(first.corpus);
    expect(second.corpus.store.stats().chunks).toBe(2);
    expect(() => first.corpus.store.stats()).toThrow(); // the stale one was closed
    second.release();
    open.dropAll();
  });

  it('finds what this engine ingested after an earlier retriever, and nothing after a removal', async () => {
    await engine.ingest('notes', [writeDoc('a.md', 'Zebras graze on the savanna.')], { embedder: 'none' });
    expect(await titles('notes', 'zebras')).toEqual(['a.md']);
    await engine.ingest('notes', [writeDoc('b.md', 'Zebras zebras have stripes.')], { embedder: 'none' });
    expect((await titles('notes', 'zebras')).sort()).toEqual(['a.md', 'b.md']);
    engine.removeCorpus('notes');
    expect(() => engine.openRetriever('notes')).toThrow(CorpusNotFoundError);
    // The same name made again is a new database file: its own content, not the old connection's.
    await engine.ingest('notes', [writeDoc('c.md', 'Okapis live in forests.')], { embedder: 'none' });
    expect(await titles('notes', 'zebras')).toEqual([]);
    expect(await titles('notes', 'okapis')).toEqual(['c.md']);
  });

  it('notices a corpus replaced on disk by another process under the same name', async () => {
    await engine.ingest('notes', [writeDoc('a.md', 'Zebras graze on the savanna.')], { embedder: 'none' });
    expect(await titles('notes', 'zebras')).toEqual(['a.md']);
    const other = makeEngine();
    other.removeCorpus('notes');
    await other.ingest('notes', [writeDoc('c.md', 'Okapis live in forests.')], { embedder: 'none' });
    await other.close();
    expect(await titles('notes', 'okapis')).toEqual(['c.md']);
  });
});
