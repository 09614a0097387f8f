/**
 * What a paused download leaves on disk: downloadModel writes each catalog file into
 * `<file>.part` (PARTIAL_SUFFIX) and resumes from it, so the Models view can show how much is
 * already there, offer to resume it, or delete it.
 */
import fs from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolveCatalogFilePath, type ModelCatalogEntry } from '../models/catalog.ts';
import { PARTIAL_SUFFIX } from '../models/downloadModel.ts';

/** The `.part` path of every file of `entry`, in catalog order (whether or not they exist). */
export function partialDownloadPaths(entry: ModelCatalogEntry, modelsDir: string): string[] {
  return entry.files.map((file) => resolveCatalogFilePath(modelsDir, entry, file) + PARTIAL_SUFFIX);
}

/** Bytes in the `.part` files of `entry` that exist now; 0 when there are none. */
export function measurePartialDownload(entry: ModelCatalogEntry, modelsDir: string): number {
  let total = 0;
  for (const part of partialDownloadPaths(entry, modelsDir)) {
    try {
      const info = fs.statSync(part);
      if (info.isFile()) total += info.size;
    } catch {
      // Not there: nothing downloaded for that file yet, or it is complete.
    }
  }
  return total;
}

/**
 * Deletes the `.part` files of `entry` (missing ones are fine). The caller makes sure no download
 * of the entry is writing them.
 */
export async function discardPartialDownload(entry: ModelCatalogEntry, modelsDir: string): Promise<void> {
  await Promise.all(partialDownloadPaths(entry, modelsDir).map((part) => rm(part, { force: true })));
}

/** The entry's total size when the catalog gives every file's size, else null (unknown). */
export function catalogEntrySizeBytes(entry: ModelCatalogEntry): number | null {
  let total = 0;
  for (const file of entry.files) {
    if (file.sizeBytes === undefined) return null;
    total += file.sizeBytes;
  }
  return total;
}
