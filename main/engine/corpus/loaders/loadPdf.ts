import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as PdfJsModule from 'pdfjs-dist/legacy/build/pdf.mjs';
import { CancelledError, ParseError, throwIfAborted } from '../../errors.ts';
import { cleanText } from '../cleanText.ts';
import { assertTextWithinLimit, type LoaderContext } from './LoaderContext.ts';
import type { ParsedFile } from './ParsedFile.ts';

/** pdfjs verbosity: errors only (its warnings about odd-but-readable PDFs are noise in a batch). */
const PDFJS_VERBOSITY_ERRORS = 0;

const PDFJS_WORKER_SPECIFIER = 'pdfjs-dist/legacy/build/pdf.worker.mjs';

type PdfJs = typeof PdfJsModule;

let pdfjsPromise: Promise<PdfJs> | undefined;

/**
 * Loads pdfjs once per thread. Its "fake worker" (pdfjs parses in the calling thread under Node) is
 * provided by importing pdf.worker.mjs ourselves and exposing it as `globalThis.pdfjsWorker`, which
 * pdfjs checks before trying a relative `import('./pdf.worker.mjs')` that a bundler would break.
 */
function loadPdfJs(): Promise<PdfJs> {
  pdfjsPromise ??= (async () => {
    // pdf.worker.mjs ships without type declarations; a non-literal specifier keeps tsc quiet.
    const workerSpecifier: string = PDFJS_WORKER_SPECIFIER;
    const worker: unknown = await import(workerSpecifier);
    (globalThis as { pdfjsWorker?: unknown }).pdfjsWorker ??= worker;
    return import('pdfjs-dist/legacy/build/pdf.mjs');
  })();
  return pdfjsPromise;
}

/** Folders with pdfjs's CMaps (CJK text) and standard-font metrics, as paths ending in "/". */
function pdfjsDataPaths(): { cMapUrl?: string; standardFontDataUrl?: string } {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    return { cMapUrl: join(root, 'cmaps') + '/', standardFontDataUrl: join(root, 'standard_fonts') + '/' };
  } catch {
    return {};
  }
}

/**
 * Extracts the text of a PDF page by page with pdfjs-dist (legacy build, no eval, no font faces, no
 * system fonts): one section titled by the document's Title (info dictionary, then XMP dc:title,
 * then `context.fileName`), with `pageStarts` giving where each page begins in the cleaned text
 * (pages are separated by a blank line). Throws ParseError `PDF_ENCRYPTED` (password needed),
 * `PDF_CORRUPT` (not a readable PDF), `NO_TEXT` (no text layer: scanned), `TEXT_TOO_LARGE`, and
 * CancelledError when `context.signal` fires between pages. No defaults beyond the limits.
 */
export async function loadPdf(bytes: Uint8Array, context: LoaderContext): Promise<ParsedFile> {
  const pdfjs = await loadPdfJs();
  throwIfAborted(context.signal);
  const loadingTask = pdfjs.getDocument({
    // pdfjs takes ownership of (detaches) the buffer it is given.
    data: new Uint8Array(bytes),
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    useWorkerFetch: false,
    cMapPacked: true,
    verbosity: PDFJS_VERBOSITY_ERRORS,
    ...pdfjsDataPaths(),
  });
  // No onPassword callback: pdfjs then rejects with a PasswordException, which we report.
  const onAbort = (): void => void loadingTask.destroy();
  context.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    let document;
    try {
      document = await loadingTask.promise;
    } catch (error) {
      throwIfAborted(context.signal);
      throw toPdfError(error, context);
    }
    let title = context.fileName;
    try {
      const { info, metadata } = await document.getMetadata();
      const infoTitle = (info as { Title?: unknown } | undefined)?.Title;
      const candidate =
        typeof infoTitle === 'string' && infoTitle.trim() !== '' ? infoTitle : metadata?.get('dc:title');
      if (typeof candidate === 'string' && cleanText(candidate) !== '') title = cleanText(candidate);
    } catch {
      // A broken info dictionary is no reason to lose the text.
    }

    let text = '';
    const pageStarts: number[] = [];
    for (let pageNumber = 1; pageNumber <= document.numPages; pageNumber += 1) {
      throwIfAborted(context.signal);
      let pageText: string;
      try {
        const page = await document.getPage(pageNumber);
        const content = await page.getTextContent();
        pageText = cleanText(
          content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''),
        );
        page.cleanup();
      } catch (error) {
        throwIfAborted(context.signal);
        throw toPdfError(error, context);
      }
      if (pageText !== '' && text !== '') text += '\n\n';
      pageStarts.push(text.length);
      text += pageText;
      assertTextWithinLimit(text.length, context);
    }
    if (text === '') {
      throw new ParseError(
        'NO_TEXT',
        `"${context.fileName}" has no extractable text. It is probably a scanned document (pages ` +
          'are images); run it through OCR (e.g. ocrmypdf) to add a text layer, then add it again.',
      );
    }
    return { kind: 'pdf', sections: [{ title, text, pageStarts }] };
  } finally {
    context.signal?.removeEventListener('abort', onAbort);
    await loadingTask.destroy();
  }
}

function toPdfError(error: unknown, context: LoaderContext): Error {
  if (error instanceof ParseError || error instanceof CancelledError) return error;
  const name = error instanceof Error ? error.name : '';
  const detail = error instanceof Error ? error.message : 'unknown error';
  if (name === 'PasswordException') {
    return new ParseError(
      'PDF_ENCRYPTED',
      `"${context.fileName}" is password-protected. Open it in a PDF viewer, save a copy without ` +
        'the password (or print it to PDF), and add that copy.',
      { cause: error },
    );
  }
  return new ParseError(
    'PDF_CORRUPT',
    `"${context.fileName}" could not be read as a PDF (${detail}). It may be damaged or incomplete; ` +
      'open it in a PDF viewer and save or export it again, then add the new file.',
    { cause: error },
  );
}
