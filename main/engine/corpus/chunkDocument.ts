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

/** Chunks `text`; `pageStarts` (offsets where each page begins) assigns pages. */
export function chunkDocument(text: string, options: ChunkOptions & { pageStarts?: number[] } = {}): TextChunk[] {
  const maxChars = Math.max(50, options.maxChars ?? DEFAULT_MAX_CHUNK_CHARS);
  const overlapChars = Math.min(Math.max(0, options.overlapChars ?? DEFAULT_CHUNK_OVERLAP_CHARS), maxChars / 2);
  const segments = splitSegments(text, maxChars);
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
    chunks.push(makeChunk(text, startOffset, end, options.pageStarts));
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

function makeChunk(text: string, start: number, end: number, pageStarts: number[] | undefined): TextChunk {
  const chunk: TextChunk = { text: text.slice(start, end), start, end };
  if (pageStarts && pageStarts.length > 0) chunk.page = pageOf(start, pageStarts);
  return chunk;
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
function splitSegments(text: string, maxChars: number): Segment[] {
  const segments: Segment[] = [];
  const paragraph = /[^\n]+(?:\n(?!\s*\n)[^\n]*)*/g;
  for (const match of text.matchAll(paragraph)) {
    const pStart = match.index;
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

function cutLong(text: string, start: number, end: number, maxChars: number): { start: number; end: number }[] {
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
