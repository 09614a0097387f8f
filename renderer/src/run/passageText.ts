/** The text of a passage opened in its document (pure, for the passage view). */
import type { ChunkWithContext } from '../state/types.ts';

/** Longest overlap the chunker may leave between neighbours that is looked for. Default 2000 chars. */
const MAX_OVERLAP = 2000;

/**
 * The context chunks as one text: neighbouring chunks overlap (the chunker keeps some text on both
 * sides), so the overlap is shown once — cut from the neighbour, never from the cited chunk.
 */
export function contextSegments(data: ChunkWithContext): { chunkId: number; text: string; cited: boolean }[] {
  const citedId = data.chunk.chunkId;
  const source = data.context.length > 0 ? data.context : [{ chunkId: citedId, text: data.chunk.text }];
  const segments = source.map((c) => ({ chunkId: c.chunkId, text: c.text, cited: c.chunkId === citedId }));
  for (let i = 1; i < segments.length; i++) {
    const previous = segments[i - 1]!;
    const current = segments[i]!;
    const overlap = overlapLength(previous.text, current.text);
    if (overlap === 0) {
      current.text = ` ${current.text}`;
      continue;
    }
    if (current.cited) previous.text = previous.text.slice(0, previous.text.length - overlap);
    else current.text = current.text.slice(overlap);
  }
  return segments;
}

function overlapLength(a: string, b: string): number {
  const max = Math.min(a.length, b.length, MAX_OVERLAP);
  for (let k = max; k > 0; k--) if (a.endsWith(b.slice(0, k))) return k;
  return 0;
}
