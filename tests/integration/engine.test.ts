/**
 * The engine facade with a hand-written fake embedder (hashing bag of words) and in-thread parsing:
 * hybrid search fusion, fallbacks, embedder binding and cancellation — real SQLite and usearch.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type Engine } from '../../main/engine/createEngine.ts';
import type { Embedder } from '../../main/engine/models/Embedder.ts';
import { parseFile } from '../../main/engine/corpus/loaders/parseFile.ts';
import type { IngestProgressEvent } from '../../main/engine/corpus/ingestPaths.ts';

const DIM = 64;

/** Bag of hashed words, L2-normalized: texts sharing words are close. */
function fakeEmbedder(modelId = 'fake-bow'): Embedder & { calls: number } {
  const embedder = {
    modelId,
    dimension: DIM,
    calls: 0,
    async embed(texts: readonly string[]) {
      embedder.calls++;
      return texts.map((text) => {
        const v = new Float32Array(DIM);
        for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
          let h = 2166136261;
          for (const ch of word) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
          v[(h >>> 0) % DIM]! += 1;
        }
        const norm = Math.hypot(...v) || 1;
        return v.map((x) => x / norm);
      });
    },
    async dispose() {},
  };
  return embedder;
}

let tmp: string;
let docs: string;
let engine: Engine;
let embedder: ReturnType<typeof fakeEmbedder>;

function makeEngine(options: { embedders?: string[] } = {}): Engine {
  return createEngine({
    dataDir: path.join(tmp, 'data'),
    modelsDir: path.join(tmp, 'models'),
    loadEmbedder: async () => embedder,
    findEmbedders: async () => options.embedders ?? [path.join(tmp, 'models/embedders/fake-bow')],
    createParser: async ({ limits }) => ({
      parse: (file, opts) =>
        parseFile(file, { ...(limits ? { limits } : {}), ...(opts?.signal ? { signal: opts.signal } : {}) }),
      close: async () => {},
    }),
  });
}

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-engine-'));
  docs = path.join(tmp, 'docs');
  fs.mkdirSync(docs);
  const topics: Record<string, string> = {
    'rivers.md': '# Rivers\n\nThe Danube flows through Vienna and Budapest into the Black Sea.',
    'towers.md': '# Towers\n\nThe Eiffel Tower stands in Paris and was completed in 1889.',
    'films.md': '# Films\n\nScott Derrickson directed Doctor Strange and Sinister.',
    'music.txt': 'Unknown Pleasures is the debut album by Joy Division, released in 1979.',
  };
  for (const [name, text] of Object.entries(topics)) fs.writeFileSync(path.join(docs, name), text);
  embedder = fakeEmbedder();
  engine = makeEngine();
});

afterEach(async () => {
  await engine.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('engine', () => {
  it('ingests, embeds and answers bm25, dense and hybrid queries', async () => {
    const events: IngestProgressEvent[] = [];
    const result = await engine.ingest('notes', [docs], { onProgress: (e) => events.push(e) });
    expect(result).toMatchObject({
      added: 4,
      failed: [],
      chunksWritten: 4,
      chunksEmbedded: 4,
      embedderId: 'fake-bow',
    });
    expect(events.map((e) => e.phase)).toEqual(
      expect.arrayContaining(['scan', 'parse', 'embed', 'index', 'done']),
    );
    expect(events.at(-1)).toMatchObject({ phase: 'done', filesDone: 4, filesTotal: 4 });

    for (const mode of ['bm25', 'dense', 'hybrid'] as const) {
      const found = await engine.search('notes', 'Eiffel Tower Paris', { mode, k: 2 });
      expect(found.mode).toBe(mode);
      expect(found.warnings).toEqual([]);
      expect(found.hits[0]?.title).toBe('Towers');
    }
    const hybrid = await engine.search('notes', 'Eiffel Tower Paris', { mode: 'hybrid', k: 4 });
    expect(hybrid.hits[0]!.ranks).toEqual({ bm25: 1, dense: 1 });
  });

  it('falls back to BM25 with a warning in hybrid mode when the corpus has no vectors; dense is an error', async () => {
    const result = await engine.ingest('plain', [docs], { embedder: 'none' });
    expect(result.embeddingSkipped).toMatch(/--embedder none/);
    const found = await engine.search('plain', 'Danube', { mode: 'hybrid' });
    expect(found.mode).toBe('bm25');
    expect(found.warnings.join(' ')).toMatch(/no embeddings/);
    expect(found.hits[0]?.title).toBe('Rivers');
    // Dense asked for by name never quietly becomes BM25.
    const dense = await engine.search('plain', 'Danube', { mode: 'dense' }).catch((error: unknown) => error);
    expect(dense).toMatchObject({ code: 'DENSE_UNAVAILABLE' });
    expect((dense as Error).message).toMatch(/no embeddings.*hybrid or bm25 mode/);
    const retriever = engine.openRetriever('plain');
    try {
      expect(await retriever.denseUnavailable!()).toMatch(/no embeddings/);
    } finally {
      retriever.close();
    }
  });

  it("embeds texts for strategies with the corpus's embedder, or resolves null without one", async () => {
    await engine.ingest('notes', [docs]);
    await engine.ingest('plain', [docs], { embedder: 'none' });
    const notes = engine.openRetriever('notes');
    const plain = engine.openRetriever('plain');
    try {
      const [tower, paris] = (await notes.embed!(['Eiffel Tower Paris', 'Eiffel Tower Paris']))!;
      expect(tower).toHaveLength(DIM);
      expect(Array.from(tower!)).toEqual(Array.from(paris!));
      expect(await plain.embed!(['Eiffel Tower'])).toBeNull();
    } finally {
      notes.close();
      plain.close();
    }
    await engine.close();
    engine = makeEngine({ embedders: [] });
    const orphan = engine.openRetriever('notes');
    expect(await orphan.embed!(['Danube'])).toBeNull();
    orphan.close();
  });

  it('falls back to BM25 when the corpus embedder is no longer installed', async () => {
    await engine.ingest('notes', [docs]);
    await engine.close();
    engine = makeEngine({ embedders: [] });
    const found = await engine.search('notes', 'Danube', { mode: 'hybrid' });
    expect(found.mode).toBe('bm25');
    expect(found.warnings.join(' ')).toMatch(/embedded with fake-bow, which is not in/);
  });

  it('embeds chunks left without vectors by an earlier BM25-only run', async () => {
    await engine.ingest('notes', [docs], { embedder: 'none' });
    const second = await engine.ingest('notes', [docs]);
    expect(second).toMatchObject({ unchanged: 4, chunksWritten: 0, chunksEmbedded: 4 });
    expect((await engine.search('notes', 'Joy Division', { mode: 'dense' })).mode).toBe('dense');
  });

  it('refuses to mix embedders in one corpus', async () => {
    await engine.ingest('notes', [docs]);
    embedder = fakeEmbedder('other-model');
    fs.writeFileSync(path.join(docs, 'new.txt'), 'A new document about the Seine.');
    const result = await engine.ingest('notes', [docs], {
      embedder: { dir: path.join(tmp, 'models/embedders/other-model') },
    });
    expect(result.added).toBe(1);
    expect(result.embeddingSkipped).toMatch(/embedded with fake-bow, not other-model/);
  });

  it('stops between files when cancelled and finishes on the next run', async () => {
    const controller = new AbortController();
    const first = await engine.ingest('notes', [docs], {
      signal: controller.signal,
      onProgress: (e) => {
        if (e.phase === 'parse' && e.filesDone === 1) controller.abort();
      },
    });
    expect(first.cancelled).toBe(true);
    expect(first.added).toBe(1);
    const second = await engine.ingest('notes', [docs]);
    expect(second).toMatchObject({ cancelled: false, added: 3, unchanged: 1 });
    expect(engine.listCorpora()[0]?.stats).toMatchObject({ documents: 4, chunks: 4, vectors: 4 });
  });

  it('removes what was ingested from a deleted file when its path is given again', async () => {
    const music = path.join(docs, 'music.txt');
    await engine.ingest('notes', [music]);
    fs.rmSync(music);
    const result = await engine.ingest('notes', [music]);
    expect(result).toMatchObject({ removed: 1, missing: [] });
    expect(engine.listCorpora()[0]?.stats).toMatchObject({ documents: 0 });
  });

  it('refuses a path that never existed before creating or changing a corpus', async () => {
    const typo = path.join(tmp, 'never-existed');
    await expect(engine.ingest('fresh', [typo])).rejects.toMatchObject({
      code: 'PATH_NOT_FOUND',
      message: expect.stringContaining(typo),
    });
    expect(engine.listCorpora()).toEqual([]);
    expect(fs.existsSync(path.join(tmp, 'data', 'corpora', 'fresh'))).toBe(false);

    await engine.ingest('notes', [path.join(docs, 'music.txt')]);
    // Together with a good path, nothing is ingested either: the request is refused as a whole.
    await expect(engine.ingest('notes', [docs, typo])).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
    expect(engine.listCorpora()[0]?.stats).toMatchObject({ documents: 1 });
  });
});
