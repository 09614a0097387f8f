/**
 * A data directory holding several named corpora, each in its own folder:
 * `<dataDir>/corpora/<name>/{corpus.db, vectors.usearch, writer.lock}`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CorpusNotFoundError, ReckonError, WriterLockedError, toReckonError } from '../errors.ts';
import { CorpusStore, type CorpusStats } from './CorpusStore.ts';
import { WriterLock } from './WriterLock.ts';
import { VectorIndex } from './search/VectorIndex.ts';

const CORPUS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface CorpusSummary {
  name: string;
  dir: string;
  /** Its counts; null when the corpus cannot be read (see `error`). */
  stats: CorpusStats | null;
  /**
   * Why the corpus cannot be read (a damaged corpus.db: STORE_UNREADABLE, with the fix in the
   * message; STORE_TOO_NEW; STORE_IO_ERROR…); null for a healthy corpus.
   */
  error: { code: string; message: string } | null;
}

/** A corpus opened for reading, or for writing when it holds the writer lock. */
export class Corpus {
  private cachedIndex: VectorIndex | undefined | null = null;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly store: CorpusStore,
    private readonly lock: WriterLock | undefined,
  ) {}

  get writable(): boolean {
    return this.lock !== undefined;
  }

  get vectorIndexPath(): string {
    return path.join(this.dir, 'vectors.usearch');
  }

  /**
   * The dense index, loaded or rebuilt from the store (saved only when this process is the
   * writer). Undefined when the corpus has no vectors.
   */
  vectorIndex(): VectorIndex | undefined {
    if (this.cachedIndex === null) {
      this.cachedIndex = VectorIndex.open(this.store, this.vectorIndexPath, { persist: this.writable });
    }
    return this.cachedIndex;
  }

  /** Rebuilds and saves the dense index now (after ingestion). Writers only. */
  refreshVectorIndex(): VectorIndex | undefined {
    this.cachedIndex = VectorIndex.open(this.store, this.vectorIndexPath, { persist: this.writable });
    return this.cachedIndex;
  }

  close(): void {
    this.store.close();
    this.lock?.release();
  }
}

export class Library {
  readonly corporaDir: string;

  constructor(readonly dataDir: string) {
    this.corporaDir = path.join(dataDir, 'corpora');
  }

  /** Throws a ReckonError explaining the naming rule when `name` cannot be a corpus name. */
  static validateName(name: string): void {
    if (!CORPUS_NAME.test(name)) {
      throw new ReckonError(
        'BAD_CORPUS_NAME',
        `"${name}" is not a valid corpus name: use 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit.`,
      );
    }
  }

  corpusDir(name: string): string {
    Library.validateName(name);
    return path.join(this.corporaDir, name);
  }

  exists(name: string): boolean {
    return fs.existsSync(path.join(this.corpusDir(name), 'corpus.db'));
  }

  /**
   * Opens a corpus. `write` takes the corpus's writer lock (a second writer gets WriterLockedError)
   * and creates the corpus if needed; without it the corpus must exist.
   */
  open(name: string, options: { write?: boolean } = {}): Corpus {
    const dir = this.corpusDir(name);
    if (!options.write) {
      if (!this.exists(name)) throw new CorpusNotFoundError(name);
      return new Corpus(name, dir, CorpusStore.open(dir), undefined);
    }
    fs.mkdirSync(dir, { recursive: true });
    const lock = WriterLock.acquire(path.join(dir, 'writer.lock'), `Corpus "${name}"`);
    try {
      return new Corpus(name, dir, CorpusStore.open(dir), lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /**
   * Opens an existing corpus for reading, holding the writer lock when it is free so that derived
   * files (a rebuilt vector index) can be saved; with another writer active it simply reads.
   */
  openForReading(name: string): Corpus {
    if (!this.exists(name)) throw new CorpusNotFoundError(name);
    try {
      return this.open(name, { write: true });
    } catch (error) {
      if (error instanceof WriterLockedError) return this.open(name);
      throw error;
    }
  }

  /**
   * Every corpus in the data directory, sorted by name. A corpus that cannot be read is listed too,
   * with `stats: null` and its error (code and a message with the fix), so one damaged corpus never
   * hides the others.
   */
  list(): CorpusSummary[] {
    if (!fs.existsSync(this.corporaDir)) return [];
    const summaries: CorpusSummary[] = [];
    for (const entry of fs.readdirSync(this.corporaDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !CORPUS_NAME.test(entry.name) || !this.exists(entry.name)) continue;
      const dir = this.corpusDir(entry.name);
      try {
        const corpus = this.open(entry.name);
        try {
          summaries.push({ name: entry.name, dir, stats: corpus.store.stats(), error: null });
        } finally {
          corpus.close();
        }
      } catch (error) {
        const { code, message } = toReckonError(error, 'STORE_UNREADABLE');
        summaries.push({ name: entry.name, dir, stats: null, error: { code, message } });
      }
    }
    return summaries.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a corpus and everything derived from it (takes the writer lock first). */
  remove(name: string): void {
    if (!this.exists(name)) throw new CorpusNotFoundError(name);
    const corpus = this.open(name, { write: true });
    corpus.close();
    fs.rmSync(this.corpusDir(name), { recursive: true, force: true });
  }
}
