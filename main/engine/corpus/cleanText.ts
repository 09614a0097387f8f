/**
 * Text cleaning applied to everything a loader extracts, before chunking and indexing.
 *
 * Why: invisible characters (zero-width, bidi overrides, Unicode tags) are both noise for BM25 and a
 * known prompt-injection carrier ("ASCII smuggling" with tag characters), and the same word typed
 * in decomposed and composed form must match. Offsets of chunks are taken on the cleaned text, so
 * cleaning happens once, here.
 */

export interface CleanTextOptions {
  /**
   * Keep the leading spaces/tabs of every line (indentation of source code, nested Markdown lists)
   * instead of removing them. Runs of spaces inside a line are still collapsed. Default: false.
   */
  preserveIndentation?: boolean;
}

/** Zero-width characters, bidi controls and the BOM: removed outright. */
const INVISIBLE_CHARACTERS = /[\u200B-\u200F\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u061C]/g;
/** Unicode tag characters (U+E0000–U+E007F), used to hide text from humans but not from models. */
const TAG_CHARACTERS = /[\u{E0000}-\u{E007F}]/gu;
/** Form feed, vertical tab and the Unicode line/paragraph separators act as line breaks. */
const LINE_BREAK_LIKE = /[\f\v\u0085\u2028\u2029]/g;
/** C0 and C1 control characters other than \n and \t (\r has been normalized before). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g;
/** Unicode spaces other than the ASCII space (NBSP, en/em spaces, ideographic space, …). */
const UNICODE_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
/** Unpaired UTF-16 surrogates (possible in JSON input); they cannot be stored as UTF-8. */
const LONE_SURROGATES = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Runs of spaces/tabs that need rewriting. A lone space is left alone: replacing every space with
 * itself made this pass 5× slower on large files.
 */
const SPACE_RUNS = /\t[ \t]*| [ \t]+/g;
const SPACES_AROUND_NEWLINE = / \n ?|\n /g;

/**
 * Returns `text` normalized for indexing: line endings \r\n and \r become \n; form feed, vertical
 * tab and U+2028/U+2029 become line breaks; zero-width characters (U+200B–U+200D, U+2060, U+FEFF),
 * bidi controls (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069, U+061C), Unicode tag characters
 * (U+E0000–U+E007F) and the remaining C0/C1 control characters (all but \n and \t) are removed;
 * Unicode spaces such as NBSP become an ASCII space; unpaired surrogates become U+FFFD; the result
 * is NFC-normalized; runs of spaces/tabs within a line collapse to one space and spaces at line ends
 * are dropped (at line starts too, unless `options.preserveIndentation`, default false); three or
 * more consecutive newlines collapse to two; and the whole is trimmed (leading blank lines only,
 * when indentation is preserved). The function is idempotent.
 */
export function cleanText(text: string, options: CleanTextOptions = {}): string {
  const preserveIndentation = options.preserveIndentation ?? false;
  let out = text
    .replace(/\r\n?/g, '\n')
    .replace(LINE_BREAK_LIKE, '\n')
    .replace(INVISIBLE_CHARACTERS, '')
    .replace(TAG_CHARACTERS, '')
    .replace(CONTROL_CHARACTERS, '')
    .replace(UNICODE_SPACES, ' ')
    .replace(LONE_SURROGATES, '\uFFFD')
    // After stripping, so that a base letter and a combining mark once separated by a zero-width
    // character compose.
    .normalize('NFC');

  if (preserveIndentation) {
    out = out
      .split('\n')
      .map((line) => {
        const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
        const rest = line.slice(indent.length).replace(SPACE_RUNS, ' ').trimEnd();
        return rest === '' ? '' : indent + rest;
      })
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^\n+/, '')
      .trimEnd();
  } else {
    out = out
      .replace(SPACE_RUNS, ' ')
      .replace(SPACES_AROUND_NEWLINE, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }
  return out;
}
