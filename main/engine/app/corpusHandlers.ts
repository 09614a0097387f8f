/**
 * The app service's corpus commands: list, documents, ingest (a job streaming progress), re-index,
 * remove, search, a cited chunk with its neighbours, uploads from the page (the browser host's
 * drag-and-drop) and the engine's half of the desktop app's picker and "open file".
 */
import path from 'node:path';
import type { ErrorPayload, EventPayload } from '../../../preload/contract.ts';
import { checkIngestPaths } from '../corpus/checkIngestPaths.ts';
import { initialIngestProgress, type IngestProgressEvent } from '../corpus/ingestPaths.ts';
import type { EngineIngestResult } from '../createEngine.ts';
import { ReckonError } from '../errors.ts';
import type { Handlers, ServiceContext } from './ServiceContext.ts';
import { toErrorPayload } from './toErrorPayload.ts';
import { UploadStore } from './UploadStore.ts';

/** Neighbouring chunks getChunk returns on each side of the cited one (same document and section). */
export const DEFAULT_CHUNK_CONTEXT = 2;

type CorpusCommands =
  | 'listCorpora'
  | 'listDocuments'
  | 'ingestPaths'
  | 'reindexCorpus'
  | 'removeCorpus'
  | 'search'
  | 'getChunk'
  | 'showOpenDialog'
  | 'openDocument'
  | 'startUpload'
  | 'writeUploadChunk'
  | 'finishUpload'
  | 'cancelUpload';

/**
 * Document kinds openDocument lets the desktop app open in their default application; anything else
 * (source code, which the system might run as a program) is shown in its folder instead.
 */
export const OPENABLE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.txt',
  '.md',
  '.markdown',
  '.pdf',
  '.docx',
  '.html',
  '.htm',
  '.json',
  '.jsonl',
]);

export function createCorpusHandlers(ctx: ServiceContext): Pick<Handlers, CorpusCommands> {
  const { engine, jobs, emit, now, progressIntervalMs } = ctx;
  const desktop = ctx.options.host === 'electron';
  const uploads = new UploadStore({ dataDir: ctx.options.dataDir });

  /** Refuses a path that is not absolute, naming the controls of the interface in use. */
  function checkAbsolute(paths: readonly string[]): void {
    for (const p of paths) {
      if (!path.isAbsolute(p)) {
        throw new ReckonError(
          'BAD_PATH',
          desktop
            ? `"${p}" is not a full path. Choose files or folders with "Choose files…" or "Choose folder…", or type a path that starts at the root of the disk.`
            : `"${p}" is not a full path. Type a path on the server's disk that starts at its root, or drop the files onto "Add documents" to upload them.`,
        );
      }
    }
  }

  function ingestJob(corpus: string, paths: string[], embedder: 'auto' | 'none'): string {
    return jobs.start('ingest', corpus, async (job) => {
      let progress = toIngestProgress(initialIngestProgress());
      let lastSent = -Infinity;
      let lastPhase: string | undefined;
      const send = (extra: {
        result: EventPayload<'onDidChangeIngestProgress'>['result'];
        error: ErrorPayload | null;
      }) => emit('onDidChangeIngestProgress', { jobId: job.id, corpus, progress, ...extra });
      try {
        const result = await engine.ingest(corpus, paths, {
          embedder,
          signal: job.controller.signal,
          onProgress: (event) => {
            progress = toIngestProgress(event);
            const at = now();
            if (event.phase === lastPhase && at - lastSent < progressIntervalMs) return;
            lastPhase = event.phase;
            lastSent = at;
            send({ result: null, error: null });
          },
        });
        send({ result: toIngestSummary(result), error: null });
      } catch (error) {
        send({ result: null, error: toErrorPayload(error) });
      }
    });
  }

  return {
    listCorpora() {
      return {
        // A damaged corpus (stats null) is still listed with its error and fix, so it does not hide
        // the others.
        corpora: engine.listCorpora().map(({ name, stats, error }) => ({
          name,
          documents: stats?.documents ?? 0,
          sections: stats?.sections ?? 0,
          failedDocuments: stats?.failedDocuments ?? 0,
          chunks: stats?.chunks ?? 0,
          vectors: stats?.vectors ?? 0,
          embedderId: stats?.embedderId ?? null,
          error,
        })),
      };
    },

    listDocuments({ corpus }) {
      const opened = engine.library.open(corpus);
      try {
        return {
          documents: opened.store.listDocuments().map((doc) => ({
            path: doc.path,
            title: doc.title,
            kind: doc.kind,
            status: doc.status,
            errorCode: doc.errorCode,
            error: doc.error,
            chunkCount: doc.chunkCount,
            size: doc.size,
          })),
        };
      } finally {
        opened.close();
      }
    },

    ingestPaths({ corpus, paths, embedder }) {
      checkAbsolute(paths);
      // Refused now rather than as a failed job: nothing is created for a path that is not there.
      checkIngestPaths(engine.library, corpus, paths);
      return { jobId: ingestJob(corpus, paths, embedder ?? 'auto') };
    },

    reindexCorpus({ corpus }) {
      const opened = engine.library.open(corpus);
      let paths: string[];
      try {
        paths = opened.store.listDocuments().map((doc) => doc.path);
      } finally {
        opened.close();
      }
      if (paths.length === 0) {
        throw new ReckonError(
          'EMPTY_CORPUS',
          `Corpus "${corpus}" has no documents to re-index. Add files to it first.`,
        );
      }
      // Paths that are gone are removed from the corpus by ingestion itself.
      return { jobId: ingestJob(corpus, paths, 'auto') };
    },

    removeCorpus({ corpus }) {
      engine.removeCorpus(corpus);
      return { ok: true as const };
    },

    async search({ corpus, query, k, mode }) {
      const result = await engine.search(corpus, query, {
        ...(k !== undefined ? { k } : {}),
        ...(mode ? { mode } : {}),
      });
      return {
        mode: result.mode,
        hits: result.hits.map((hit) => ({
          chunkId: hit.chunkId,
          path: hit.path,
          title: hit.title,
          text: hit.text,
          start: hit.start,
          end: hit.end,
          page: hit.page,
          score: hit.score,
        })),
        warnings: result.warnings,
      };
    },

    showOpenDialog() {
      // The desktop app answers this in its main process; only a browser page gets here.
      throw new ReckonError(
        'DESKTOP_ONLY',
        'The file picker is part of the desktop app. In the browser, drop files or folders onto "Add documents" to upload them, or type paths on the server\'s disk.',
      );
    },

    openDocument({ corpus, path: documentPath }) {
      if (!desktop) {
        throw new ReckonError(
          'DESKTOP_ONLY',
          'Opening a document in its application is part of the desktop app; the browser cannot open files on the server.',
        );
      }
      const opened = engine.library.open(corpus);
      try {
        const document = opened.store.getDocument(documentPath);
        if (!document) {
          throw new ReckonError(
            'DOCUMENT_NOT_FOUND',
            `"${documentPath}" is not a document of corpus "${corpus}", so it is not opened. Open documents from the corpus's own search results or citations.`,
          );
        }
        const action = OPENABLE_EXTENSIONS.has(path.extname(document.path).toLowerCase()) ? 'open' : 'reveal';
        return { path: document.path, action };
      } finally {
        opened.close();
      }
    },

    startUpload: ({ files }) => uploads.start(files),

    writeUploadChunk: ({ uploadId, file, offset, data }) => uploads.write(uploadId, file, offset, data),

    async finishUpload({ uploadId, corpus, paths, embedder }) {
      const others = paths ?? [];
      checkAbsolute(others);
      // The corpus name and the other paths are checked before the upload is completed, so a
      // mistake can be fixed and the same upload finished again.
      checkIngestPaths(engine.library, corpus, others);
      const dir = await uploads.finish(uploadId);
      return { jobId: ingestJob(corpus, [dir, ...others], embedder ?? 'auto'), dir };
    },

    async cancelUpload({ uploadId }) {
      await uploads.cancel(uploadId);
      return { ok: true as const };
    },

    getChunk({ corpus, chunkId }) {
      const opened = engine.library.open(corpus);
      try {
        // A document's chunks are written in one transaction, in order, so their ids are consecutive:
        // the neighbours of a chunk are among the ids around it. The filter below keeps only the same
        // document and section, whatever the ids turn out to be.
        const ids: number[] = [];
        for (let id = chunkId - DEFAULT_CHUNK_CONTEXT; id <= chunkId + DEFAULT_CHUNK_CONTEXT; id++)
          ids.push(id);
        const rows = opened.store.getChunks(ids);
        const chunk = rows.get(chunkId);
        if (!chunk) {
          throw new ReckonError(
            'CHUNK_NOT_FOUND',
            `Passage ${chunkId} is no longer in corpus "${corpus}"; the document was changed or removed since. Search again to find it.`,
          );
        }
        const context = [...rows.values()]
          .filter(
            (row) =>
              row.documentId === chunk.documentId &&
              row.section === chunk.section &&
              Math.abs(row.ord - chunk.ord) <= DEFAULT_CHUNK_CONTEXT,
          )
          .sort((a, b) => a.ord - b.ord)
          .map((row) => ({ chunkId: row.id, text: row.text }));
        return {
          chunk: {
            chunkId: chunk.id,
            path: chunk.path,
            title: chunk.title,
            text: chunk.text,
            start: chunk.start,
            end: chunk.end,
            page: chunk.page,
            score: 0,
          },
          context,
        };
      } finally {
        opened.close();
      }
    },
  };
}

function toIngestProgress(event: IngestProgressEvent): EventPayload<'onDidChangeIngestProgress'>['progress'] {
  return {
    phase: event.phase,
    filesDone: event.filesDone,
    filesTotal: event.filesTotal,
    bytesDone: event.bytesDone,
    bytesTotal: event.bytesTotal,
    chunksWritten: event.chunksWritten,
    chunksEmbedded: event.chunksEmbedded,
    chunksToEmbed: event.chunksToEmbed,
    failed: event.failed,
    etaSeconds: event.etaSeconds ?? null,
    currentFile: event.currentFile ?? null,
  };
}

function toIngestSummary(
  result: EngineIngestResult,
): NonNullable<EventPayload<'onDidChangeIngestProgress'>['result']> {
  return {
    added: result.added,
    updated: result.updated,
    unchanged: result.unchanged,
    removed: result.removed,
    failed: result.failed.map((failure) => ({
      path: failure.path,
      code: failure.code,
      message: failure.message,
    })),
    missing: result.missing,
    skipped: result.skipped.map(({ path: skippedPath, code, reason }) => ({
      path: skippedPath,
      code,
      reason,
    })),
    skippedUnsupported: result.skippedUnsupported,
    chunksWritten: result.chunksWritten,
    chunksEmbedded: result.chunksEmbedded,
    embeddingSkipped: result.embeddingSkipped ?? null,
    cancelled: result.cancelled,
    durationMs: result.durationMs,
  };
}
