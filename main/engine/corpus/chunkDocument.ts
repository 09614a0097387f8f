/**
 * Splits a section of clean text into bounded chunks that keep exact character offsets, so a
 * citation can point back into the document. Paragraph and sentence aware: chunks end at sentence
 * boundaries where they can, break early at paragraph boundaries once reasonably full, and overlap by
 * whole sentences when a paragraph has to be cut.
 */

export interface ChunkOptions {
  /** Upper bound on a chunk's length in characters. Default: DEFAULT_MAX_CHUNK_CHARS (1200). */
  maxChars?: number;
  /** Characters of trailing context repeated at the start of the next chunk when a paragraph is cut. Default: DEFAULT_CHUNK_OVERLAP_CHARS (150). */
  overlapChars?: number;
}

export interface TextChunk {
  text: string;
  /** Offset of the chunk's first character in the section text. */
  start: number;
  /** Offset one past the chunk's last character; text === section.slice(start, end). */
  end: number;
  /** 1-based page of the chunk's first character, for paged formats. */
  page?: number;
}

export const DEFAULT_MAX_CHUNK_CHARS = 1200;
export const DEFAULT_CHUNK_OVERLAP_CHARS = 150;
/**
 * Longest stretch of text handed to Intl.Segmenter at once. V8's sentence segmenter costs time
 * proportional to the input's length for every sentence it yields, so one paragraph of many short
 * lines (2 MB, no blank line) took minutes; segmenting bounded windows, cut at line breaks (which end
 * a sentence anyway) where possible, keeps chunking linear in the input.
 */
export const SEGMENTER_WINDOW_CHARS = 4096;

interface Segment {
  start: number;
  end: number;
  /** True when this segment begins a paragraph. */
  paragraphStart: boolean;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Chunks `text`. With `pageStarts` (offsets where each page begins) chunks never span a page
 * boundary, so a citation names one page.
 */
export function chunkDocument(
  text: string,
  options: ChunkOptions & { pageStarts?: number[] } = {},
): TextChunk[] {
  const pageStarts = options.pageStarts;
  if (pageStarts && pageStarts.length > 1) {
    return pageStarts.flatMap((start, i) => {
      const end = pageStarts[i + 1] ?? text.length;
      return chunkRange(text, start, end, options).map((chunk) => ({ ...chunk, page: i + 1 }));
    });
  }
  return chunkRange(text, 0, text.length, options).map((chunk) =>
    pageStarts && pageStarts.length === 1 ? { ...chunk, page: 1 } : chunk,
  );
}

function chunkRange(text: string, rangeStart: number, rangeEnd: number, options: ChunkOptions): TextChunk[] {
  const maxChars = Math.max(50, options.maxChars ?? DEFAULT_MAX_CHUNK_CHARS);
  const overlapChars = Math.min(
    Math.max(0, options.overlapChars ?? DEFAULT_CHUNK_OVERLAP_CHARS),
    maxChars / 2,
  );
  const segments = splitSegments(text, rangeStart, rangeEnd, maxChars);
  const chunks: TextChunk[] = [];
  let first = 0;
  while (first < segments.length) {
    let last = first;
    const startOffset = segments[first]!.start;
    while (last + 1 < segments.length) {
      const next = segments[last + 1]!;
      if (next.end - startOffset > maxChars) break;
      const current = segments[last]!.end - startOffset;
      if (next.paragraphStart && current >= maxChars / 2) break;
      last++;
    }
    const end = segments[last]!.end;
    chunks.push({ text: text.slice(startOffset, end), start: startOffset, end });
    if (last + 1 >= segments.length) break;
    // Overlap only when the cut falls inside a paragraph; never step backwards past `first`.
    let nextFirst = last + 1;
    if (!segments[last + 1]!.paragraphStart) {
      while (nextFirst - 1 > first && end - segments[nextFirst - 1]!.start <= overlapChars) nextFirst--;
    }
    first = nextFirst;
  }
  return chunks;
}

/** 1-based page containing `offset`. */
export function pageOf(offset: number, pageStarts: readonly number[]): number {
  let lo = 0;
  let hi = pageStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (pageStarts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}

/** Sentence spans (trimmed) grouped by paragraph, with sentences longer than maxChars cut at spaces. */
function splitSegments(text: string, rangeStart: number, rangeEnd: number, maxChars: number): Segment[] {
  const segments: Segment[] = [];
  const paragraph = /[^\n]+(?:\n(?!\s*\n)[^\n]*)*/g;
  for (const match of text.slice(rangeStart, rangeEnd).matchAll(paragraph)) {
    const pStart = rangeStart + match.index;
    const pText = match[0];
    let paragraphStart = true;
    for (const [wStart, wEnd] of segmenterWindows(pText)) {
      const windowText = wStart === 0 && wEnd === pText.length ? pText : pText.slice(wStart, wEnd);
      for (const sentence of sentenceSegmenter.segment(windowText)) {
        let s = pStart + wStart + sentence.index;
        let e = s + sentence.segment.length;
        while (s < e && isSpace(text.charCodeAt(s))) s++;
        while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
        if (s >= e) continue;
        for (const piece of cutLong(text, s, e, maxChars)) {
          segments.push({ ...piece, paragraphStart });
          paragraphStart = false;
        }
      }
    }
  }
  return segments;
}

/**
 * Cuts a paragraph into windows of at most SEGMENTER_WINDOW_CHARS: at the last line break inside the
 * window, else after the last sentence-ending punctuation followed by a space, else at the last space,
 * else (one enormous word) at the window's end, never inside a surrogate pair.
 */
function* segmenterWindows(paragraph: string): Generator<[number, number]> {
  let pos = 0;
  while (paragraph.length - pos > SEGMENTER_WINDOW_CHARS) {
    const limit = pos + SEGMENTER_WINDOW_CHARS;
    let cut = lastIndexWithin(paragraph, '\n', pos, limit);
    if (cut <= pos) cut = lastSentenceEndWithin(paragraph, pos, limit);
    if (cut <= pos) cut = lastIndexWithin(paragraph, ' ', pos, limit);
    if (cut <= pos) {
      cut = limit;
      const code = paragraph.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--;
    }
    yield [pos, cut];
    pos = cut;
  }
  if (pos < paragraph.length) yield [pos, paragraph.length];
}

/** Last index of `char` in text[from+1, to], or -1; never scans before `from` (lastIndexOf would). */
function lastIndexWithin(text: string, char: string, from: number, to: number): number {
  const code = char.charCodeAt(0);
  for (let i = Math.min(to, text.length - 1); i > from; i--) if (text.charCodeAt(i) === code) return i;
  return -1;
}

/** Offset just after the last ". ", "! " or "? " in text[from+1, to], or -1. */
function lastSentenceEndWithin(text: string, from: number, to: number): number {
  for (let i = Math.min(to, text.length - 1); i > from + 1; i--) {
    if (!isSpace(text.charCodeAt(i))) continue;
    const before = text.charCodeAt(i - 1);
    if (before === 0x2e || before === 0x21 || before === 0x3f) return i;
  }
  return -1;
}

function isSpace(code: number): boolean {
  // The same set as /\s/ for the characters cleanText leaves in place.
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function cutLong(
  text: string,
  start: number,
  end: number,
  maxChars: number,
): { start: number; end: number }[] {
  const pieces: { start: number; end: number }[] = [];
  let s = start;
  while (end - s > maxChars) {
    // Bounded search: lastIndexOf would scan back to the start of a text without spaces (quadratic).
    let cut = lastIndexWithin(text, ' ', s, s + maxChars);
    if (cut <= s) cut = s + maxChars;
    let e = cut;
    while (e > s && isSpace(text.charCodeAt(e - 1))) e--;
    pieces.push({ start: s, end: e });
    s = cut;
    while (s < end && isSpace(text.charCodeAt(s))) s++;
  }
  if (s < end) pieces.push({ start: s, end });
  return pieces;
}
