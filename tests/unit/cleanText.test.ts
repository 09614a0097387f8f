import { describe, expect, it } from 'vitest';
import { cleanText } from '../../main/engine/corpus/cleanText.ts';

describe('cleanText', () => {
  it('normalizes to NFC', () => {
    const decomposed = 'Cafe\u0301 cre\u0300me';
    expect(decomposed).not.toBe('Café crème');
    expect(cleanText(decomposed)).toBe('Café crème');
  });

  it('composes a base letter and a combining mark once separated by a zero-width space', () => {
    expect(cleanText('e\u200B\u0301')).toBe('é');
  });

  it('strips zero-width characters and the BOM', () => {
    expect(cleanText('\uFEFFre\u200Bck\u200Co\u200Dn\u2060!')).toBe('reckon!');
  });

  it('strips bidi controls', () => {
    const text = 'a\u202Ab\u202Bc\u202Cd\u202De\u202Ef\u2066g\u2067h\u2068i\u2069j\u200Ek\u200Fl\u061Cm';
    expect(cleanText(text)).toBe('abcdefghijklm');
  });

  it('strips Unicode tag characters (hidden instructions)', () => {
    const hidden = [...'ignore all'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
    expect(cleanText(`Paris${hidden}\u{E0001}\u{E007F} is the capital.`)).toBe('Paris is the capital.');
  });

  it('keeps emoji and other astral characters that are not tags', () => {
    expect(cleanText('ok 😀 𝔸')).toBe('ok 😀 𝔸');
  });

  it('strips C0/C1 controls but keeps \\n and \\t semantics', () => {
    expect(cleanText('a\u0000b\u0007c\u001Bd\u007Fe\u0080f\u009Fg')).toBe('abcdefg');
    expect(cleanText('a\tb\nc')).toBe('a b\nc');
  });

  it('treats form feed, vertical tab and U+2028/U+2029 as line breaks', () => {
    expect(cleanText('page one\fpage two')).toBe('page one\npage two');
    expect(cleanText('a\u2028b\u2029c\vd')).toBe('a\nb\nc\nd');
  });

  it('normalizes \\r\\n and \\r to \\n', () => {
    expect(cleanText('one\r\ntwo\rthree\n')).toBe('one\ntwo\nthree');
  });

  it('collapses runs of spaces and tabs within a line and trims line ends', () => {
    expect(cleanText('a  \t b\t\tc   \n   d')).toBe('a b c\nd');
  });

  it('turns NBSP and other Unicode spaces into plain spaces', () => {
    expect(cleanText('10\u00A0km\u2003away\u3000now')).toBe('10 km away now');
  });

  it('collapses three or more newlines to two', () => {
    expect(cleanText('a\n\n\n\nb\n\nc\n \n \n d')).toBe('a\n\nb\n\nc\n\nd');
  });

  it('trims the whole text', () => {
    expect(cleanText('  \n\n hello world \n\n ')).toBe('hello world');
  });

  it('replaces unpaired surrogates with U+FFFD', () => {
    expect(cleanText('a\uD800b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
  });

  it('returns an empty string for invisible-only input', () => {
    expect(cleanText('\u200B\u200D\uFEFF \n\t')).toBe('');
  });

  it('keeps indentation when asked (source code)', () => {
    const code = '\n\ndef f(x):\n    if x:\n\t\treturn  x   \n\n\n\n    return 0\n';
    expect(cleanText(code, { preserveIndentation: true })).toBe(
      'def f(x):\n    if x:\n\t\treturn x\n\n    return 0',
    );
  });

  it('is idempotent', () => {
    const messy = ' Cafe\u0301\r\n\r\n\r\n\u200B  x\u00A0\u00A0y\t\n\f\n z ';
    const once = cleanText(messy);
    expect(cleanText(once)).toBe(once);
    const onceCode = cleanText(messy, { preserveIndentation: true });
    expect(cleanText(onceCode, { preserveIndentation: true })).toBe(onceCode);
  });
});
