import fs from 'node:fs';
import path from 'node:path';
import type { Library } from './Library.ts';
import { ReckonError } from '../errors.ts';

/**
 * Refuses an ingestion request naming a path that does not exist, before a corpus is created or
 * touched: a mistyped path must not leave an empty corpus behind or end in a "finished" message.
 * A path that is gone but still has documents in the corpus is accepted: ingesting it is how those
 * documents get removed (re-indexing a corpus whose files were deleted). Throws a ReckonError with
 * code PATH_NOT_FOUND listing every such path.
 */
export function checkIngestPaths(library: Library, corpusName: string, paths: readonly string[]): void {
  // A bad corpus name is reported as such, before any path.
  library.corpusDir(corpusName);
  const absent = paths.filter((p) => !fs.existsSync(path.resolve(p)));
  if (absent.length === 0) return;
  let unknown = absent;
  if (library.exists(corpusName)) {
    const corpus = library.open(corpusName);
    try {
      const documents = corpus.store.listDocuments().map((doc) => doc.path);
      unknown = absent.filter((p) => {
        const absolute = path.resolve(p);
        return !documents.some((doc) => doc === absolute || doc.startsWith(absolute + path.sep));
      });
    } finally {
      corpus.close();
    }
  }
  if (unknown.length === 0) return;
  const list = unknown.map((p) => `"${p}"`).join(', ');
  throw new ReckonError(
    'PATH_NOT_FOUND',
    `${unknown.length === 1 ? 'There is no file or folder at' : 'There are no files or folders at'} ${list}. Nothing was ingested; check the ${unknown.length === 1 ? 'path' : 'paths'} and try again.`,
  );
}
