import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogEntrySizeBytes, partialDownloadPaths } from '../../main/engine/app/partialDownloads.ts';
import type { ModelCatalogEntry } from '../../main/engine/models/catalog.ts';
import { PARTIAL_SUFFIX } from '../../main/engine/models/downloadModel.ts';

const entry = (files: ModelCatalogEntry['files']): ModelCatalogEntry => ({
  id: 'tiny-embedder',
  kind: 'embedder',
  title: 'Tiny embedder',
  description: 'A test model.',
  license: 'mit',
  installDir: 'embedders/tiny-embedder/',
  files,
});
const url = (name: string) => `https://huggingface.co/org/tiny/resolve/main/${name}`;

describe('catalogEntrySizeBytes', () => {
  it('sums the sizes when the catalog knows every one', () => {
    expect(
      catalogEntrySizeBytes(
        entry([
          { path: 'config.json', url: url('config.json'), sizeBytes: 120 },
          { path: 'onnx/model.onnx', url: url('onnx/model.onnx'), sizeBytes: 4_000 },
        ]),
      ),
    ).toBe(4_120);
  });

  it('is null when one size is unknown, rather than a total that is too small', () => {
    expect(
      catalogEntrySizeBytes(
        entry([
          { path: 'config.json', url: url('config.json'), sizeBytes: 120 },
          { path: 'onnx/model.onnx', url: url('onnx/model.onnx') },
        ]),
      ),
    ).toBeNull();
  });
});

describe('partialDownloadPaths', () => {
  it('puts each file’s .part beside its install path, in catalog order', () => {
    const modelsDir = path.resolve('/models');
    expect(
      partialDownloadPaths(
        entry([
          { path: 'config.json', url: url('config.json') },
          { path: 'onnx/model.onnx', url: url('onnx/model.onnx') },
        ]),
        modelsDir,
      ),
    ).toEqual([
      path.join(modelsDir, 'embedders', 'tiny-embedder', `config.json${PARTIAL_SUFFIX}`),
      path.join(modelsDir, 'embedders', 'tiny-embedder', 'onnx', `model.onnx${PARTIAL_SUFFIX}`),
    ]);
  });
});
