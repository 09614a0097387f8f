/**
 * Corpora kept open for reading between search sessions. A question opens a retriever over its
 * corpus, and opening one means a SQLite connection, its schema check, and (for dense search) the
 * usearch index loaded from disk: paid once here instead of once per question.
 *
 * A kept corpus is reused only while it is still what is on disk: the same database file (device
 * and inode, so a corpus removed and ingested again under the same name is opened anew) at the same
 * generation (CorpusStore bumps it with every change to chunks or vectors, whichever process made
 * it). Otherwise it is dropped, and closed as soon as the sessions still using it end.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Corpus, Library } from './Library.ts';

interface Entry {
  corpus: Corpus;
  /** `dev:ino` of corpus.db when it was opened. */
  identity: string;
  generation: number;
  users: number;
  /** Dropped from the cache: closed when its last user releases it. */
  dropped: boolean;
}

/** One use of a kept corpus; release() exactly once (more calls do nothing). */
export interface CorpusLease {
  readonly corpus: Corpus;
  release(): void;
}

export class OpenCorpora {
  readonly #entries = new Map<string, Entry>();

  constructor(private readonly library: Library) {}

  /** The corpus `name` opened for reading, shared with other sessions while it is unchanged on disk. */
  acquire(name: string): CorpusLease {
    let entry = this.#entries.get(name);
    if (entry !== undefined && !this.#isCurrent(name, entry)) {
      this.drop(name);
      entry = undefined;
    }
    if (entry === undefined) {
      const corpus = this.library.open(name);
      try {
        entry = {
          corpus,
          identity: fileIdentity(this.#dbPath(name)) ?? '',
          generation: corpus.store.generation(),
          users: 0,
          dropped: false,
        };
      } catch (error) {
        corpus.close();
        throw error;
      }
      this.#entries.set(name, entry);
    }
    const used = entry;
    used.users += 1;
    let released = false;
    return {
      corpus: used.corpus,
      release: () => {
        if (released) return;
        released = true;
        used.users -= 1;
        if (used.dropped && used.users === 0) used.corpus.close();
      },
    };
  }

  /** Stops keeping `name` (before it is removed or rewritten); closed now if no session uses it. */
  drop(name: string): void {
    const entry = this.#entries.get(name);
    if (entry === undefined) return;
    this.#entries.delete(name);
    entry.dropped = true;
    if (entry.users === 0) entry.corpus.close();
  }

  /** Drops every kept corpus (the engine is closing). */
  dropAll(): void {
    for (const name of [...this.#entries.keys()]) this.drop(name);
  }

  /** How many corpora are kept open (for tests). */
  get size(): number {
    return this.#entries.size;
  }

  #dbPath(name: string): string {
    return path.join(this.library.corpusDir(name), 'corpus.db');
  }

  #isCurrent(name: string, entry: Entry): boolean {
    if (fileIdentity(this.#dbPath(name)) !== entry.identity) return false;
    try {
      return entry.corpus.store.generation() === entry.generation;
    } catch {
      return false;
    }
  }
}

function fileIdentity(file: string): string | undefined {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat === undefined ? undefined : `${stat.dev}:${stat.ino}`;
}
