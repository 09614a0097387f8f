/**
 * Removes an installed model from the models folder: a catalog entry's files (an embedder's or a
 * reranker's whole folder), or one model file or embedder folder named by path. Nothing outside the models folder is
 * ever removed, whatever the path says.
 */
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ModelNotFoundError, ReckonError } from '../errors.ts';
import { findCatalogEntry, resolveCatalogFilePath } from './catalog.ts';
import { PARTIAL_SUFFIX } from './downloadModel.ts';
import { GGUF_SEARCH_SUBDIRS } from './createLlmBackend.ts';

export interface RemoveModelOptions {
  /** The models folder; only paths inside it are removed. */
  modelsDir: string;
  /** Resolves relative paths. Default: process.cwd(). */
  cwd?: string;
}

export interface RemoveModelResult {
  /** Absolute paths removed (files, or embedder folders). */
  removed: string[];
  /** Bytes freed. */
  freedBytes: number;
}

/**
 * Removes `target`: a catalog id (its installed files and any `.part` files a paused download left;
 * for an embedder or a reranker, its folder), else a path — absolute, relative to `cwd`, or a bare file name in
 * the models folder or its llm/ subfolder — of a file or folder inside `modelsDir`. A path outside
 * the models folder is ReckonError 'OUTSIDE_MODELS_DIR'; nothing found is ModelNotFoundError.
 */
export async function removeModel(target: string, options: RemoveModelOptions): Promise<RemoveModelResult> {
  const modelsDir = realOrResolved(options.modelsDir);
  const entry = findCatalogEntry(target);
  const candidates: string[] = [];
  if (entry) {
    if (entry.kind !== 'llm') candidates.push(path.resolve(options.modelsDir, entry.installDir));
    else {
      for (const file of entry.files) {
        const full = resolveCatalogFilePath(options.modelsDir, entry, file);
        candidates.push(full, full + PARTIAL_SUFFIX);
      }
    }
  } else {
    const cwd = options.cwd ?? process.cwd();
    const isBareName = !path.isAbsolute(target) && !/[\\/]/.test(target);
    const tried = [path.resolve(cwd, target)];
    if (isBareName)
      for (const sub of GGUF_SEARCH_SUBDIRS) tried.push(path.resolve(options.modelsDir, sub, target));
    const found = tried.find((candidate) => fs.existsSync(candidate));
    if (found === undefined) {
      throw new ModelNotFoundError(
        `There is no model "${target}": it is neither a catalog id nor a file in ${options.modelsDir}.`,
      );
    }
    candidates.push(found);
  }

  const removed: string[] = [];
  let freedBytes = 0;
  for (const candidate of candidates) {
    if (!fs.existsSync(candidate)) continue;
    const real = fs.realpathSync(candidate);
    const relative = path.relative(modelsDir, real);
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
      throw new ReckonError(
        'OUTSIDE_MODELS_DIR',
        `${candidate} is not inside the models folder ${options.modelsDir}; Reckon only removes models it keeps there.`,
      );
    }
    freedBytes += sizeOf(real);
    await rm(real, { recursive: true, force: true });
    removed.push(candidate);
  }
  if (removed.length === 0) {
    throw new ModelNotFoundError(
      `"${target}" is not installed in ${options.modelsDir}; there is nothing to remove.`,
    );
  }
  return { removed, freedBytes };
}

function realOrResolved(dir: string): string {
  try {
    return fs.realpathSync(dir);
  } catch {
    return path.resolve(dir);
  }
}

function sizeOf(target: string): number {
  const info = fs.statSync(target);
  if (!info.isDirectory()) return info.size;
  let total = 0;
  for (const entry of fs.readdirSync(target, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += fs.statSync(path.join(entry.parentPath, entry.name)).size;
  }
  return total;
}
