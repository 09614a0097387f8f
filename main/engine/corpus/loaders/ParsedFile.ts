/**
 * What a loader makes of one file: one or more sections of clean text. A plain document is one
 * section titled after the file; a QA-dataset file is one section per distinct context paragraph.
 */
export interface ParsedSection {
  /** Shown with search hits and citations (file name, PDF title, or a dataset paragraph title). */
  title: string;
  /** Cleaned text (see cleanText). Chunk offsets are relative to this string. */
  text: string;
  /**
   * For paged formats (PDF): character offset in `text` where each page starts; page n (1-based)
   * starts at pageStarts[n - 1]. Absent for unpaged formats.
   */
  pageStarts?: number[];
  /**
   * Chunk boundaries in `text` (see chunkDocument), when the parser chunked the section itself
   * (ParsePool does, in its child process, under the parse time cap). Absent: the caller chunks.
   */
  chunkSpans?: ChunkSpan[];
}

/** Where one chunk lies in its section's text; its text is `text.slice(start, end)`. */
export interface ChunkSpan {
  start: number;
  end: number;
  /** 1-based page of the chunk's first character, for paged formats. */
  page?: number;
}

export type FileKind = 'text' | 'markdown' | 'html' | 'pdf' | 'docx' | 'code' | 'qa-dataset';

export interface ParsedFile {
  kind: FileKind;
  sections: ParsedSection[];
}

/** Limits applied to every file parse. */
export interface ParseLimits {
  /** Files larger than this are refused before reading. Default: DEFAULT_MAX_FILE_BYTES (64 MiB). */
  maxFileBytes: number;
  /** Extracted text larger than this is refused (zip bombs, huge PDFs). Default: 32 MiB of chars. */
  maxTextChars: number;
  /** A parse running longer than this is stopped. Default: DEFAULT_PARSE_TIMEOUT_MS (60 s). */
  timeoutMs: number;
}

export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_MAX_TEXT_CHARS = 32 * 1024 * 1024;
export const DEFAULT_PARSE_TIMEOUT_MS = 60_000;

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  maxFileBytes: DEFAULT_MAX_FILE_BYTES,
  maxTextChars: DEFAULT_MAX_TEXT_CHARS,
  timeoutMs: DEFAULT_PARSE_TIMEOUT_MS,
};
