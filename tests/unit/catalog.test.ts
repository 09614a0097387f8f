import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findCatalogEntry,
  loadCatalog,
  parseModelCatalog,
  resolveCatalogFilePath,
} from '../../main/engine/models/catalog.ts';

const entry = {
  id: 'tiny',
  kind: 'llm',
  title: 'Tiny',
  description: 'A test model.',
  license: 'mit',
  installDir: 'llm/',
  files: [{ path: 'tiny.gguf', url: 'https://huggingface.co/org/tiny/resolve/main/tiny.gguf' }],
};

describe('shipped model catalog', () => {
  it('parses, has unique ids, and offers both an LLM and an embedder', () => {
    const entries = loadCatalog();
    const ids = entries.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(entries.some((e) => e.kind === 'llm')).toBe(true);
    expect(entries.some((e) => e.kind === 'embedder')).toBe(true);
  });

  it('points every file at a Hugging Face resolve URL and installs embedders in their own folder', () => {
    for (const e of loadCatalog()) {
      for (const file of e.files) {
        expect(file.url).toMatch(/^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/main\//);
        expect(file.url.endsWith(`/${file.path}`)).toBe(true);
      }
      if (e.kind === 'embedder' || e.kind === 'reranker') {
        expect(e.installDir).toBe(`${e.kind}s/${e.id}/`);
        expect(e.files.map((f) => f.path)).toEqual(
          expect.arrayContaining(['config.json', 'tokenizer.json', 'onnx/model_quantized.onnx']),
        );
      } else {
        expect(e.installDir).toBe('llm/');
        expect(e.files.every((f) => f.path.endsWith('.gguf'))).toBe(true);
      }
    }
  });

  it('finds entries by id', () => {
    expect(findCatalogEntry('all-MiniLM-L6-v2')?.kind).toBe('embedder');
    expect(findCatalogEntry('qwen2.5-coder-1.5b-instruct')?.kind).toBe('llm');
    expect(findCatalogEntry('ms-marco-MiniLM-L-6-v2')).toMatchObject({
      kind: 'reranker',
      unverified: ['files', 'license'],
    });
    expect(findCatalogEntry('nope')).toBeUndefined();
  });

  it('resolves install paths under the models folder', () => {
    const minilm = findCatalogEntry('all-MiniLM-L6-v2');
    const onnx = minilm?.files.find((f) => f.path.endsWith('.onnx'));
    if (!minilm || !onnx) throw new Error('MiniLM missing from the catalog');
    expect(resolveCatalogFilePath('/m', minilm, onnx)).toBe(
      path.resolve('/m', 'embedders', 'all-MiniLM-L6-v2', 'onnx', 'model_quantized.onnx'),
    );
  });
});

describe('parseModelCatalog', () => {
  it('accepts a minimal valid catalog', () => {
    expect(parseModelCatalog({ version: 1, models: [entry] })).toHaveLength(1);
  });

  it.each([
    ['duplicate ids', { version: 1, models: [entry, entry] }, 'duplicate id "tiny"'],
    [
      'plain http',
      { version: 1, models: [{ ...entry, files: [{ path: 'a.gguf', url: 'http://x.org/a.gguf' }] }] },
      'url',
    ],
    [
      'a path escaping its folder',
      { version: 1, models: [{ ...entry, files: [{ path: '../a.gguf', url: 'https://x.org/a.gguf' }] }] },
      '..',
    ],
    ['an absolute install folder', { version: 1, models: [{ ...entry, installDir: '/etc/' }] }, 'relative'],
    ['an unknown kind', { version: 1, models: [{ ...entry, kind: 'vision' }] }, 'kind'],
    [
      'an invented size',
      { version: 1, models: [{ ...entry, files: [{ ...entry.files[0], sizeBytes: -1 }] }] },
      'sizeBytes',
    ],
    [
      'a bad sha256',
      { version: 1, models: [{ ...entry, files: [{ ...entry.files[0], sha256: 'abc' }] }] },
      'sha256',
    ],
  ])('rejects %s', (_name, catalog, detail) => {
    expect(() => parseModelCatalog(catalog)).toThrow(detail);
  });
});
