/**
 * The catalog of recommended models shipped in models/catalog.json: small GGUF code/instruct models,
 * ONNX embedders and ONNX cross-encoder rerankers, with where each file comes from and where it is installed under the models
 * folder. sizeBytes and sha256 are optional and only present when known for certain; the
 * downloader verifies whatever is there.
 */
import path from 'node:path';
import { z } from 'zod';
import catalogJson from '../../../models/catalog.json' with { type: 'json' };
import { ReckonError } from '../errors.ts';

/** A relative path that stays inside its folder: no absolute paths, no "..", forward slashes. */
const relativePathSchema = z
  .string()
  .min(1)
  .refine(
    (p) => !p.startsWith('/') && !/^[A-Za-z]:/.test(p) && !p.includes('\\'),
    'must be a relative path with "/"',
  )
  .refine(
    (p) => p.split('/').every((part) => part !== '..' && part !== '.'),
    'must not contain "." or ".." segments',
  );

/**
 * What a catalog model is for: `llm` answers (GGUF), `embedder` embeds for dense search and
 * similarity (ONNX), `reranker` is a cross-encoder that reranks passages against a question (ONNX).
 */
export const MODEL_KINDS = ['llm', 'embedder', 'reranker'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

export const modelCatalogFileSchema = z.object({
  /** Install path relative to the entry's installDir, e.g. "onnx/model_quantized.onnx". */
  path: relativePathSchema,
  /** Where to fetch it: https://huggingface.co/<repo>/resolve/main/<file>. */
  url: z.url({ protocol: /^https$/ }),
  /** Exact size when known; downloads of another size fail. */
  sizeBytes: z.number().int().positive().optional(),
  /** Lower-case hex SHA-256 when known; downloads with another hash fail. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const modelCatalogEntrySchema = z.object({
  /** Stable id used by the UI and CLI, e.g. "qwen2.5-coder-1.5b-instruct". */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/),
  kind: z.enum(MODEL_KINDS),
  title: z.string().min(1),
  description: z.string().min(1),
  /** SPDX id or the model's own license name ("qwen-research", "llama3.2"). */
  license: z.string().min(1),
  /** The model's page, for the user to read its card and license. */
  homepage: z.url({ protocol: /^https$/ }).optional(),
  /** Folder under the models folder, ending in "/": "llm/", "embedders/<id>/" or "rerankers/<id>/". */
  installDir: relativePathSchema.refine((p) => p.endsWith('/'), 'must end with "/"'),
  files: z.array(modelCatalogFileSchema).min(1),
  /**
   * Facts of this entry that could not be checked against the model's page when it was added
   * (e.g. "files", "license"): shown with the entry, so nobody takes them as verified.
   */
  unverified: z.array(z.string().min(1)).optional(),
});

export const modelCatalogSchema = z
  .object({
    version: z.literal(1),
    models: z.array(modelCatalogEntrySchema),
  })
  .superRefine((catalog, ctx) => {
    const seen = new Set<string>();
    catalog.models.forEach((entry, index) => {
      if (seen.has(entry.id)) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate id "${entry.id}"`,
          path: ['models', index, 'id'],
        });
      }
      seen.add(entry.id);
    });
  });

export type ModelCatalogFile = z.infer<typeof modelCatalogFileSchema>;
export type ModelCatalogEntry = z.infer<typeof modelCatalogEntrySchema>;

/**
 * Validates a catalog document ({version: 1, models: [...]}) and returns its entries. Throws
 * ReckonError 'BAD_MODEL_CATALOG' listing the problems (bad URL, path escaping its folder,
 * duplicate id, …).
 */
export function parseModelCatalog(value: unknown): ModelCatalogEntry[] {
  const parsed = modelCatalogSchema.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new ReckonError('BAD_MODEL_CATALOG', `The model catalog is invalid: ${problems}.`, {
      cause: parsed.error,
    });
  }
  return parsed.data.models;
}

let shipped: ModelCatalogEntry[] | undefined;

/**
 * The shipped catalog (models/catalog.json), validated once and cached. Entries keep the file's
 * order; the first entry of each kind is the default recommendation.
 */
export function loadCatalog(): ModelCatalogEntry[] {
  shipped ??= parseModelCatalog(catalogJson);
  return shipped;
}

/** The shipped catalog entry with this id, or undefined. */
export function findCatalogEntry(id: string): ModelCatalogEntry | undefined {
  return loadCatalog().find((entry) => entry.id === id);
}

/** The shipped catalog entry `id`, or ReckonError 'UNKNOWN_MODEL' listing the known ids. */
export function requireCatalogEntry(id: string): ModelCatalogEntry {
  const entry = findCatalogEntry(id);
  if (!entry) {
    throw new ReckonError(
      'UNKNOWN_MODEL',
      `There is no model "${id}" in the catalog. Known models: ${loadCatalog()
        .map((e) => e.id)
        .join(', ')}.`,
    );
  }
  return entry;
}

/** Absolute install path of one catalog file: `<modelsDir>/<installDir>/<file.path>`. */
export function resolveCatalogFilePath(
  modelsDir: string,
  entry: ModelCatalogEntry,
  file: ModelCatalogFile,
): string {
  return path.resolve(modelsDir, entry.installDir, file.path);
}
