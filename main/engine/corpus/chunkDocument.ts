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
    let paragraphStart = true;
    for (const sentence of sentenceSegmenter.segment(match[0])) {
      let s = pStart + sentence.index;
      let e = s + sentence.segment.length;
      while (s < e && /\s/.test(text[s]!)) s++;
      while (e > s && /\s/.test(text[e - 1]!)) e--;
      if (s >= e) continue;
      for (const piece of cutLong(text, s, e, maxChars)) {
        segments.push({ ...piece, paragraphStart });
        paragraphStart = false;
      }
    }
  }
  return segments;
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
    let cut = text.lastIndexOf(' ', s + maxChars);
    if (cut <= s) cut = s + maxChars;
    let e = cut;
    while (e > s && /\s/.test(text[e - 1]!)) e--;
    pieces.push({ start: s, end: e });
    s = cut;
    while (s < end && /\s/.test(text[s]!)) s++;
  }
  if (s < end) pieces.push({ start: s, end });
  return pieces;
}
