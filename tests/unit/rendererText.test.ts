import { describe, expect, it } from 'vitest';
import { highlightJs, tokenizeJs } from '../../renderer/src/run/highlightJs.ts';
import { contextSegments } from '../../renderer/src/run/passageText.ts';

describe('highlightJs', () => {
  const source = [
    'const docs = await retrieve("Ed Wood");',
    '/* two',
    'lines */ const q = `Given: ${docs.map((d) => `${d.title}`).join(", ")}.`;',
    'if (docs.length > 1.5e3) console.log(/a+b/g, 0x1f, docs.length / 2);',
    'return await answer(q);',
  ].join('\n');

  it('covers the source exactly, so no character of a program is lost or added', () => {
    expect(
      tokenizeJs(source)
        .map((t) => t.text)
        .join(''),
    ).toBe(source);
  });

  it('splits into numbered lines, block comments included', () => {
    const lines = highlightJs(source);
    expect(lines).toHaveLength(5);
    expect(lines.map((line) => line.map((t) => t.text).join(''))).toEqual(source.split('\n'));
    expect(lines[1]).toEqual([{ kind: 'comment', text: '/* two' }]);
  });

  it('tells the tools, keywords, strings, template interpolations, numbers and regexes apart', () => {
    const kinds = (text: string) =>
      tokenizeJs(source)
        .filter((t) => t.text === text)
        .map((t) => t.kind);
    expect(kinds('retrieve')).toEqual(['tool']);
    expect(kinds('answer')).toEqual(['tool']);
    expect(kinds('await')).toEqual(['keyword', 'keyword']);
    expect(kinds('"Ed Wood"')).toEqual(['string']);
    expect(kinds('1.5e3')).toEqual(['number']);
    expect(kinds('/a+b/g')).toEqual(['regex']);
    expect(kinds('title')).toEqual(['property']);
    // Inside ${…} the code is code again, not string.
    expect(tokenizeJs('`a ${x + 1} b`').map((t) => [t.kind, t.text])).toEqual([
      ['string', '`a '],
      ['punct', '${'],
      ['plain', 'x '],
      ['punct', '+'],
      ['plain', ' '],
      ['number', '1'],
      ['punct', '}'],
      ['string', ' b`'],
    ]);
    // Division is not a regex.
    expect(tokenizeJs('a / 2 / b').some((t) => t.kind === 'regex')).toBe(false);
  });

  it('keeps going on code that does not parse', () => {
    const broken = 'const x = await retrieve("a;\n`unterminated ${';
    expect(
      tokenizeJs(broken)
        .map((t) => t.text)
        .join(''),
    ).toBe(broken);
  });
});

describe('contextSegments', () => {
  const hit = {
    chunkId: 2,
    path: '/d.txt',
    title: 'D',
    text: 'cited text here',
    start: 10,
    end: 25,
    page: null,
    score: 1,
  };

  it('shows the overlap between neighbouring chunks once, never cutting the cited chunk', () => {
    const segments = contextSegments({
      chunk: hit,
      context: [
        { chunkId: 1, text: 'before and cited' },
        { chunkId: 2, text: 'cited text here' },
        { chunkId: 3, text: 'text here and after' },
      ],
    });
    expect(segments).toEqual([
      { chunkId: 1, text: 'before and ', cited: false },
      { chunkId: 2, text: 'cited text here', cited: true },
      { chunkId: 3, text: ' and after', cited: false },
    ]);
  });

  it('falls back to the chunk itself without context', () => {
    expect(contextSegments({ chunk: hit, context: [] })).toEqual([
      { chunkId: 2, text: 'cited text here', cited: true },
    ]);
  });
});
