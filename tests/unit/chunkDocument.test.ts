import { describe, expect, it } from 'vitest';
import { chunkDocument, pageOf } from '../../main/engine/corpus/chunkDocument.ts';

const sentence = (i: number): string => `Sentence number ${i} says something about topic ${i % 7}.`;

describe('chunkDocument', () => {
  it('keeps a short paragraph as one chunk with exact offsets', () => {
    const text = 'Scott Derrickson is an American director. He was born in 1966.';
    const chunks = chunkDocument(text);
    expect(chunks).toEqual([{ text, start: 0, end: text.length }]);
  });

  it('never exceeds maxChars and every chunk is the exact slice it claims', () => {
    const paragraphs = Array.from({ length: 12 }, (_, p) =>
      Array.from({ length: 5 + (p % 4) }, (_, s) => sentence(p * 10 + s)).join(' '),
    );
    const text = paragraphs.join('\n\n');
    const chunks = chunkDocument(text, { maxChars: 300, overlapChars: 80 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(300);
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
      expect(chunk.text).toBe(chunk.text.trim());
    }
    // Every sentence of the text appears in at least one chunk.
    for (let p = 0; p < 12; p++) {
      expect(chunks.some((c) => c.text.includes(sentence(p * 10)))).toBe(true);
    }
    // Starts strictly increase: progress is guaranteed even with overlap.
    for (let i = 1; i < chunks.length; i++) expect(chunks[i]!.start).toBeGreaterThan(chunks[i - 1]!.start);
  });

  it('overlaps by whole sentences when a paragraph is cut', () => {
    const text = Array.from({ length: 20 }, (_, i) => sentence(i)).join(' ');
    const chunks = chunkDocument(text, { maxChars: 200, overlapChars: 70 });
    expect(chunks.length).toBeGreaterThan(2);
    for (let i = 1; i < chunks.length; i++) {
      expect(chunks[i]!.start).toBeLessThan(chunks[i - 1]!.end);
    }
  });

  it('does not overlap across paragraph boundaries', () => {
    const a = Array.from({ length: 4 }, (_, i) => sentence(i)).join(' ');
    const b = Array.from({ length: 4 }, (_, i) => sentence(i + 50)).join(' ');
    const text = `${a}\n\n${b}`;
    const chunks = chunkDocument(text, { maxChars: a.length + 5, overlapChars: 100 });
    expect(chunks.map((c) => c.text)).toEqual([a, b]);
  });

  it('hard-cuts a sentence longer than maxChars at spaces', () => {
    const text = Array.from({ length: 400 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkDocument(text, { maxChars: 100, overlapChars: 0 });
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(100);
      expect(text.slice(chunk.start, chunk.end)).toBe(chunk.text);
    }
    expect(chunks.map((c) => c.text).join(' ')).toBe(text);
  });

  it('assigns pages from page start offsets', () => {
    const page1 = 'First page text. It has two sentences.';
    const page2 = 'Second page text is here.';
    const text = `${page1}\n\n${page2}`;
    const chunks = chunkDocument(text, { maxChars: 1000, pageStarts: [0, page1.length + 2] });
    // Room for everything in one chunk, but chunks never span pages.
    expect(chunks).toEqual([
      { text: page1, start: 0, end: page1.length, page: 1 },
      { text: page2, start: page1.length + 2, end: text.length, page: 2 },
    ]);
    expect(pageOf(0, [0, 10, 20])).toBe(1);
    expect(pageOf(10, [0, 10, 20])).toBe(2);
    expect(pageOf(25, [0, 10, 20])).toBe(3);
  });

  it('returns nothing for blank text', () => {
    expect(chunkDocument('  \n\n  ')).toEqual([]);
  });
});
