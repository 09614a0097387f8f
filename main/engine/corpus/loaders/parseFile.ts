import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ParseError, throwIfAborted } from '../../errors.ts';
import { cleanText } from '../cleanText.ts';
import { decodeUtf8Text } from './decodeText.ts';
import { assertTextWithinLimit, type LoaderContext } from './LoaderContext.ts';
import { loadDocx } from './loadDocx.ts';
import { loadHtml } from './loadHtml.ts';
import { loadPdf } from './loadPdf.ts';
import { loadQaDataset } from './loadQaDataset.ts';
import { DEFAULT_PARSE_LIMITS, type FileKind, type ParsedFile, type ParseLimits } from './ParsedFile.ts';

/** Extensions of source-code files, indexed as kind 'code' with their indentation kept. */
// prettier-ignore
export const CODE_EXTENSIONS: readonly string[] = [
  '.ts', '.tsx', '.js', '.mjs', '.cjs', '.py', '.rs', '.go', '.java', '.c', '.h', '.cpp', '.hpp', '.cs',
  '.rb', '.php', '.swift', '.kt', '.scala', '.sh', '.sql', '.css', '.yaml', '.yml', '.toml',
];

type Loader = 'text' | 'markdown' | 'html' | 'pdf' | 'docx' | 'code' | 'json';

const LOADER_BY_EXTENSION: ReadonlyMap<string, Loader> = new Map<string, Loader>([
  ['.txt', 'text'],
  ['.md', 'markdown'],
  ['.markdown', 'markdown'],
  ['.html', 'html'],
  ['.htm', 'html'],
  ['.pdf', 'pdf'],
  ['.docx', 'docx'],
  ['.json', 'json'],
  ['.jsonl', 'json'],
  ...CODE_EXTENSIONS.map((extension): [string, Loader] => [extension, 'code']),
]);

/** Every file extension parseFile accepts (lower case, with the dot). */
export const SUPPORTED_EXTENSIONS: readonly string[] = [...LOADER_BY_EXTENSION.keys()];

export interface ParseFileOptions {
  /** Overrides of DEFAULT_PARSE_LIMITS (64 MiB file, 32 Mi chars of text; timeoutMs is the pool's). */
  limits?: Partial<ParseLimits>;
  /** Stops the parse between steps with CancelledError. */
  signal?: AbortSignal;
}

/**
 * True when parseFile has a loader for the file's extension (case-insensitive; see
 * SUPPORTED_EXTENSIONS). Looks at the name only, never at the file. No defaults.
 */
export function isSupportedPath(filePath: string): boolean {
  return LOADER_BY_EXTENSION.has(extname(filePath).toLowerCase());
}

/**
 * Parses one file into clean sections, choosing the loader by extension: .txt (text), .md/.markdown
 * (title = first "# " heading), .html/.htm (title = <title>), .pdf (pages with pageStarts), .docx,
 * source code (CODE_EXTENSIONS, indentation kept) and .json/.jsonl (a HotpotQA, 2WikiMultihopQA,
 * MuSiQue or FlashRAG corpus becomes kind 'qa-dataset' with one section per distinct paragraph; any
 * other JSON is plain text). Untitled documents are titled by their file name. Runs in the calling
 * thread: use ParsePool to parse off the main thread with a timeout. `options.limits` default to
 * DEFAULT_PARSE_LIMITS (maxFileBytes 64 MiB, checked before reading; maxTextChars 32 Mi);
 * `timeoutMs` is not enforced here. Every failure is a ParseError with a stable code —
 * UNSUPPORTED_TYPE, FILE_NOT_FOUND, FILE_UNREADABLE, EMPTY_FILE, FILE_TOO_LARGE, BINARY_FILE,
 * INVALID_UTF8, PDF_ENCRYPTED, PDF_CORRUPT, DOCX_CORRUPT, TEXT_TOO_LARGE, NO_TEXT — or a
 * CancelledError when `options.signal` fires.
 */
export async function parseFile(filePath: string, options: ParseFileOptions = {}): Promise<ParsedFile> {
  const limits = resolveLimits(options.limits);
  const fileName = basename(filePath);
  const context: LoaderContext = { fileName, limits, signal: options.signal };
  throwIfAborted(options.signal);

  const extension = extname(filePath).toLowerCase();
  const loader = LOADER_BY_EXTENSION.get(extension);
  if (loader === undefined) {
    throw new ParseError(
      'UNSUPPORTED_TYPE',
      `"${fileName}" is not a supported file type${extension === '' ? '' : ` (${extension})`}. Reckon reads ` +
        'text, Markdown, HTML, PDF, Word .docx, source code and QA-dataset JSON/JSONL files.',
    );
  }

  const size = await fileSize(filePath, fileName);
  if (size === 0) {
    throw new ParseError('EMPTY_FILE', `"${fileName}" is empty (0 bytes); there is nothing to index.`);
  }
  if (size > limits.maxFileBytes) {
    throw new ParseError(
      'FILE_TOO_LARGE',
      `"${fileName}" is ${formatBytes(size)}, over the ${formatBytes(limits.maxFileBytes)} limit for one ` +
        'file. Split it into smaller files, or raise the file-size limit in the settings.',
    );
  }
  const bytes = await readBytes(filePath, fileName);
  throwIfAborted(options.signal);

  let parsed: ParsedFile;
  switch (loader) {
    case 'pdf':
      parsed = await loadPdf(bytes, context);
      break;
    case 'docx':
      parsed = await loadDocx(bytes, context);
      break;
    default: {
      const text = decodeUtf8Text(bytes, fileName);
      assertTextWithinLimit(text.length, context);
      parsed = loadText(loader, text, context);
    }
  }
  throwIfAborted(options.signal);
  if (parsed.sections.every((section) => section.text === '')) {
    throw new ParseError(
      'NO_TEXT',
      `"${fileName}" contains no text once invisible characters and whitespace are removed. Nothing was indexed from it.`,
    );
  }
  return parsed;
}

function loadText(loader: Exclude<Loader, 'pdf' | 'docx'>, text: string, context: LoaderContext): ParsedFile {
  switch (loader) {
    case 'html':
      return loadHtml(text, context);
    case 'markdown': {
      const cleaned = cleanText(text, { preserveIndentation: true });
      return single('markdown', markdownTitle(cleaned) ?? context.fileName, cleaned);
    }
    case 'code':
      return single('code', context.fileName, cleanText(text, { preserveIndentation: true }));
    case 'json':
      return loadQaDataset(text, context) ?? single('text', context.fileName, cleanText(text));
    case 'text':
      return single('text', context.fileName, cleanText(text));
  }
}

function single(kind: FileKind, title: string, text: string): ParsedFile {
  return { kind, sections: [{ title, text }] };
}

/** The first level-1 ATX heading ("# Title") outside fenced code blocks. */
function markdownTitle(markdown: string): string | undefined {
  let fence: string | undefined;
  for (const line of markdown.split('\n')) {
    const fenceMatch = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (fenceMatch?.[1] !== undefined) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      continue;
    }
    if (fence !== undefined) continue;
    const heading = /^ {0,3}# +(.*?)(?: +#+)? *$/.exec(line);
    if (heading?.[1] !== undefined && heading[1] !== '') return heading[1];
  }
  return undefined;
}

function resolveLimits(overrides: Partial<ParseLimits> | undefined): ParseLimits {
  return {
    maxFileBytes: overrides?.maxFileBytes ?? DEFAULT_PARSE_LIMITS.maxFileBytes,
    maxTextChars: overrides?.maxTextChars ?? DEFAULT_PARSE_LIMITS.maxTextChars,
    timeoutMs: overrides?.timeoutMs ?? DEFAULT_PARSE_LIMITS.timeoutMs,
  };
}

async function fileSize(filePath: string, fileName: string): Promise<number> {
  try {
    const info = await stat(filePath);
    if (!info.isFile()) {
      throw new ParseError(
        'FILE_UNREADABLE',
        `"${fileName}" is not a regular file (it is a folder or a device).`,
      );
    }
    return info.size;
  } catch (error) {
    throw fileSystemError(error, fileName);
  }
}

async function readBytes(filePath: string, fileName: string): Promise<Buffer> {
  try {
    return await readFile(filePath);
  } catch (error) {
    throw fileSystemError(error, fileName);
  }
}

function fileSystemError(error: unknown, fileName: string): ParseError {
  if (error instanceof ParseError) return error;
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') {
    return new ParseError('FILE_NOT_FOUND', `"${fileName}" no longer exists; it was moved or deleted.`, {
      cause: error,
    });
  }
  return new ParseError(
    'FILE_UNREADABLE',
    `"${fileName}" could not be read (${typeof code === 'string' ? code : 'I/O error'}). Check that you ` +
      'have permission to read it and that the disk is available.',
    { cause: error },
  );
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Number((bytes / (1024 * 1024)).toFixed(1))} MiB`;
  if (bytes >= 1024) return `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${bytes} bytes`;
}
