/**
 * What is on disk in the models folder, whatever put it there (a catalog download or the user by
 * hand): GGUF files for the answer model, embedder folders and cross-encoder (reranker) folders. Shared by `reckon models list` and
 * the app's Models view.
 */
import fs from 'node:fs';
import path from 'node:path';
import { EMBEDDERS_SUBDIR } from './TransformersEmbedder.ts';
import { RERANKERS_SUBDIR } from './TransformersReranker.ts';

/** Subfolder of embedder folders (TransformersEmbedder loads transformers.js lazily, so this import is cheap). */
export const LOCAL_EMBEDDERS_SUBDIR = EMBEDDERS_SUBDIR;
/** How deep below the models folder .gguf files are looked for (the folder itself is depth 0). */
export const MAX_GGUF_SEARCH_DEPTH = 3;

/** One model found on disk. */
export interface LocalModelFile {
  /**
   * `llm` for a .gguf file, `embedder` for a folder under embedders/ with a config.json, `reranker`
   * for one under rerankers/.
   */
  kind: 'llm' | 'embedder' | 'reranker';
  /** Absolute path of the file (llm) or folder (embedder). */
  path: string;
  /** Size of the file, or of everything in the folder. */
  sizeBytes: number;
}

/**
 * Lists the `.gguf` files anywhere under `modelsDir` (down to MAX_GGUF_SEARCH_DEPTH, 3, folders
 * deep; the name is matched case-insensitively) and the folders directly under
 * `<modelsDir>/embedders/` and `<modelsDir>/rerankers/` that hold a `config.json`, sorted by path. A missing or unreadable
 * folder contributes nothing rather than failing: an empty list means "nothing installed yet".
 * Reads the disk synchronously; the folder is small (a few model files).
 */
export function findLocalModelFiles(modelsDir: string): LocalModelFile[] {
  const found: LocalModelFile[] = [];
  const visit = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && depth < MAX_GGUF_SEARCH_DEPTH) visit(full, depth + 1);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.gguf')) {
        const size = sizeOf(full);
        if (size !== undefined) found.push({ kind: 'llm', path: full, sizeBytes: size });
      }
    }
  };
  visit(path.resolve(modelsDir), 0);
  for (const [kind, subdir] of [
    ['embedder', LOCAL_EMBEDDERS_SUBDIR],
    ['reranker', RERANKERS_SUBDIR],
  ] as const) {
    const parent = path.resolve(modelsDir, subdir);
    let entries: fs.Dirent[] = [];
    try {
      entries = fs.readdirSync(parent, { withFileTypes: true });
    } catch {
      // No such folder: nothing of this kind installed.
    }
    for (const entry of entries) {
      const full = path.join(parent, entry.name);
      if (entry.isDirectory() && fs.existsSync(path.join(full, 'config.json'))) {
        found.push({ kind, path: full, sizeBytes: folderSize(full) });
      }
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

function sizeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).size;
  } catch {
    return undefined;
  }
}

function folderSize(dir: string): number {
  let total = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (entry.isFile()) total += sizeOf(path.join(entry.parentPath, entry.name)) ?? 0;
  }
  return total;
}
