/**
 * A small JavaScript highlighter for model-written programs: a single-pass tokenizer (comments,
 * strings, template literals with nested `${…}`, numbers, regex literals, keywords, the host tools)
 * and a splitter into lines so the program view can number them. Not a parser: it only has to
 * colour the code it is given, including code that does not parse.
 */

export type TokenKind =
  | 'plain'
  | 'comment'
  | 'string'
  | 'number'
  | 'regex'
  | 'keyword'
  | 'literal'
  | 'tool'
  | 'builtin'
  | 'function'
  | 'property'
  | 'punct';

export interface Token {
  kind: TokenKind;
  text: string;
}

const KEYWORDS = new Set(
  (
    'await async break case catch class const continue debugger default delete do else export extends finally for ' +
    'function if import in instanceof let new of return static super switch this throw try typeof var void while with yield'
  ).split(' '),
);
const LITERALS = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);
/** The host tools a program calls. */
const TOOLS = new Set(['retrieve', 'answer']);
const BUILTINS = new Set([
  'console',
  'JSON',
  'Math',
  'Object',
  'Array',
  'String',
  'Number',
  'Boolean',
  'Promise',
  'Set',
  'Map',
  'Date',
  'RegExp',
  'Error',
  'TypeError',
]);

const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
const NUMBER =
  /(?:0[xX][\da-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)/y;
const WHITESPACE = /\s+/y;

function matchAt(pattern: RegExp, source: string, index: number): string | null {
  pattern.lastIndex = index;
  const match = pattern.exec(source);
  return match ? match[0] : null;
}

/** Tokens of `source`, covering it exactly (concatenating their text gives the source back). */
export function tokenizeJs(source: string): Token[] {
  const tokens: Token[] = [];
  /** Brace depth at which each open `${` began, innermost last. */
  const templates: number[] = [];
  let depth = 0;
  let i = 0;
  /** Whether a `/` here would start a regex (no value just before it). */
  let regexAllowed = true;

  const push = (kind: TokenKind, text: string): void => {
    if (text === '') return;
    const last = tokens.at(-1);
    if (last && last.kind === kind && (kind === 'plain' || kind === 'punct' || kind === 'string'))
      last.text += text;
    else tokens.push({ kind, text });
  };

  /** Reads template text from i up to the closing backtick or the next `${`. */
  const readTemplate = (): void => {
    let j = i;
    while (j < source.length) {
      const ch = source[j];
      if (ch === '\\') {
        j += 2;
        continue;
      }
      if (ch === '`') {
        push('string', source.slice(i, j + 1));
        i = j + 1;
        regexAllowed = false;
        return;
      }
      if (ch === '$' && source[j + 1] === '{') {
        push('string', source.slice(i, j));
        push('punct', '${');
        templates.push(depth);
        i = j + 2;
        regexAllowed = true;
        return;
      }
      j++;
    }
    push('string', source.slice(i));
    i = source.length;
  };

  while (i < source.length) {
    const ch = source[i] ?? '';
    const next = source[i + 1] ?? '';
    const space = matchAt(WHITESPACE, source, i);
    if (space) {
      push('plain', space);
      i += space.length;
      continue;
    }
    if (ch === '/' && next === '/') {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      push('comment', source.slice(i, stop));
      i = stop;
      continue;
    }
    if (ch === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      push('comment', source.slice(i, stop));
      i = stop;
      continue;
    }
    if (ch === '"' || ch === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== ch && source[j] !== '\n') j += source[j] === '\\' ? 2 : 1;
      const stop = Math.min(source.length, source[j] === ch ? j + 1 : j);
      push('string', source.slice(i, stop));
      i = stop;
      regexAllowed = false;
      continue;
    }
    if (ch === '`') {
      push('string', '`');
      i++;
      readTemplate();
      continue;
    }
    if (ch === '}' && templates.length > 0 && templates.at(-1) === depth) {
      templates.pop();
      push('punct', '}');
      i++;
      readTemplate();
      continue;
    }
    if (ch === '/' && regexAllowed) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== '\n') {
        const c = source[j];
        if (c === '\\') j++;
        else if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) break;
        j++;
      }
      if (source[j] === '/') {
        j++;
        while (j < source.length && /[a-z]/i.test(source[j] ?? '')) j++;
        push('regex', source.slice(i, j));
        i = j;
        regexAllowed = false;
        continue;
      }
    }
    const number = /[\d.]/.test(ch) ? matchAt(NUMBER, source, i) : null;
    if (number && number !== '.') {
      push('number', number);
      i += number.length;
      regexAllowed = false;
      continue;
    }
    const word = matchAt(IDENTIFIER, source, i);
    if (word) {
      const previous = tokens.at(-1);
      const afterDot = previous?.kind === 'punct' && previous.text.endsWith('.');
      const rest = source.slice(i + word.length);
      const called = /^\s*\(/.test(rest);
      let kind: TokenKind = 'plain';
      if (afterDot) kind = called ? 'function' : 'property';
      else if (KEYWORDS.has(word)) kind = 'keyword';
      else if (LITERALS.has(word)) kind = 'literal';
      else if (TOOLS.has(word)) kind = 'tool';
      else if (BUILTINS.has(word)) kind = 'builtin';
      else if (called) kind = 'function';
      push(kind, word);
      i += word.length;
      regexAllowed = kind === 'keyword' && word !== 'this' && word !== 'super';
      continue;
    }
    if (ch === '{') depth++;
    if (ch === '}') depth = Math.max(0, depth - 1);
    push('punct', ch);
    i++;
    regexAllowed = !(ch === ')' || ch === ']' || ch === '}');
  }
  return tokens;
}

/** Splits tokens into lines (a token spanning lines, like a block comment, is split too). */
export function tokensToLines(tokens: readonly Token[]): Token[][] {
  const lines: Token[][] = [[]];
  for (const token of tokens) {
    const parts = token.text.split('\n');
    parts.forEach((part, index) => {
      if (index > 0) lines.push([]);
      if (part !== '') lines.at(-1)?.push({ kind: token.kind, text: part });
    });
  }
  return lines;
}

/** The program as highlighted lines (line n is index n - 1). */
export function highlightJs(source: string): Token[][] {
  return tokensToLines(tokenizeJs(source.replace(/\r\n?/g, '\n')));
}
