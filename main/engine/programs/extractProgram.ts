/**
 * From a code model's reply to program text: find the fenced JavaScript block (or take the whole
 * reply when it is bare code), then repair the typography chat models and copy-paste introduce —
 * curly quotes, non-breaking and other Unicode spaces, zero-width and bidi characters, CRLF — and
 * the module syntax a script cannot have (`import …`, `export {}`).
 */
import { programParses } from './programAst.ts';

/** The program found in a model's reply, and where it was found. */
export interface ExtractedProgram {
  /** The program text as the model wrote it (line endings normalised, nothing else). */
  code: string;
  /** `fenced`: from a ``` block; `raw`: the reply itself looked like code. */
  source: 'fenced' | 'raw';
}

/** Fence labels taken as JavaScript (compared case-insensitively). */
export const JAVASCRIPT_FENCE_LABELS: ReadonlySet<string> = new Set([
  'js',
  'javascript',
  'ts',
  'typescript',
  'mjs',
  'cjs',
  'jsx',
]);

/**
 * Share of non-blank lines that must look like code for an unfenced reply to be taken as a program.
 * Default 0.6.
 */
export const RAW_CODE_LINE_SHARE = 0.6;

interface FencedBlock {
  /** First word of the info string, lower-cased; '' when unlabelled. */
  label: string;
  code: string;
}

const FENCE_OPEN = /^([ \t]*)(`{3,}|~{3,})[ \t]*([^`\s]*)[^`]*$/;

/** All fenced blocks; an unterminated last fence (a truncated generation) runs to the end. */
function fencedBlocks(text: string): FencedBlock[] {
  const lines = text.split('\n');
  const blocks: FencedBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const fence = open[2]!;
    const label = open[3]!.toLowerCase();
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      const trimmed = line.trim();
      if (trimmed.length >= fence.length && trimmed === fence[0]!.repeat(trimmed.length)) break;
      // Remove up to the fence's own indentation (fences inside list items).
      let k = 0;
      while (k < indent && (line[k] === ' ' || line[k] === '\t')) k++;
      body.push(line.slice(k));
    }
    blocks.push({ label, code: body.join('\n').replace(/\s+$/, '') });
    i = j;
  }
  return blocks;
}

/** Reasoning models wrap their thoughts in <think>…</think>; code drafted in there is not the answer. */
function withoutThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>/gi, '');
}

const CODE_LINE =
  /^\s*(?:const|let|var|return|await|async|function|if|else|for|while|do|try|catch|finally|switch|case|break|continue|throw|\/\/|\/\*|\*|[{}\])])|[;{}(,[]\s*(?:\/\/.*)?$|\b(?:retrieve|answer)\s*\(/;
const STRONG_CODE = /\b(?:retrieve|answer)\s*\(|\breturn\b|\b(?:const|let|var)\s+[\w$[{]|=>|\bfunction\b/;

/** Drops leading and trailing lines that do not look like code ("Here is the program:"). */
function trimProse(text: string): string {
  const lines = text.split('\n');
  let first = 0;
  let last = lines.length - 1;
  while (first <= last && !CODE_LINE.test(lines[first]!)) first++;
  while (last >= first && !CODE_LINE.test(lines[last]!)) last--;
  return lines.slice(first, last + 1).join('\n');
}

function looksLikeCode(text: string): boolean {
  const lines = text.split('\n').filter((line) => line.trim().length > 0);
  if (lines.length === 0 || !STRONG_CODE.test(text)) return false;
  const codeLines = lines.filter((line) => CODE_LINE.test(line)).length;
  return codeLines / lines.length >= RAW_CODE_LINE_SHARE || programParses(normalizeProgramText(text));
}

/**
 * Finds the program in a code model's reply. Fenced blocks come first: the first block labelled
 * js/javascript/ts/typescript/mjs (also cjs/jsx, any case) wins, else the first unlabelled one;
 * blocks in other languages are ignored and an unterminated final fence (a generation cut off by
 * its token limit) runs to the end of the reply. `<think>…</think>` sections are skipped. Without a
 * usable fence, the whole reply is taken (`source: 'raw'`) when it looks like code — a return,
 * declaration, arrow, function or retrieve()/answer() call, and at least RAW_CODE_LINE_SHARE (0.6)
 * of its lines code-like, or it parses — after dropping leading/trailing prose lines when that makes
 * it parse. Returns undefined when there is no program. The code is returned un-normalised; pass it
 * through normalizeProgramText (prepareProgram does).
 */
export function extractProgram(modelOutput: string): ExtractedProgram | undefined {
  const text = withoutThinking(modelOutput.replace(/\r\n?/g, '\n'));
  const blocks = fencedBlocks(text).filter((block) => block.code.trim().length > 0);
  const chosen =
    blocks.find((block) => JAVASCRIPT_FENCE_LABELS.has(block.label)) ??
    blocks.find((block) => block.label === '');
  if (chosen) return { code: chosen.code, source: 'fenced' };
  if (/^[ \t]*(?:`{3,}|~{3,})/m.test(text)) return undefined;

  const whole = text.trim();
  if (!looksLikeCode(whole)) return undefined;
  if (!programParses(normalizeProgramText(whole))) {
    const trimmed = trimProse(whole);
    if (trimmed && programParses(normalizeProgramText(trimmed))) return { code: trimmed, source: 'raw' };
  }
  return { code: whole, source: 'raw' };
}

/**
 * The language of the reply's first fenced block when the reply has fenced code but none of it is
 * JavaScript or unlabelled (```python …): the model wrote another language, and the feedback should
 * say so. Undefined otherwise.
 */
export function foreignFenceLanguage(modelOutput: string): string | undefined {
  const text = withoutThinking(modelOutput.replace(/\r\n?/g, '\n'));
  const blocks = fencedBlocks(text).filter((block) => block.code.trim().length > 0);
  if (blocks.length === 0) return undefined;
  if (blocks.some((block) => block.label === '' || JAVASCRIPT_FENCE_LABELS.has(block.label)))
    return undefined;
  return blocks[0]!.label;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

const SINGLE_CURLY = new Set(['\u2018', '\u2019', '\u201A', '\u201B']);
const DOUBLE_CURLY = new Set(['\u201C', '\u201D', '\u201E', '\u201F']);
const ANY_CURLY = /[\u2018\u2019\u201A\u201B\u201C\u201D\u201E\u201F]/;

/**
 * Invisible characters removed outright: zero-width space/joiners, word joiner and invisible
 * operators, BOM, soft hyphen, Mongolian vowel separator, bidi marks/embeddings/isolates, and Unicode
 * tag characters.
 */
const INVISIBLE =
  /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E\u202A-\u202E\u2066-\u2069\u061C]|[\u{E0000}-\u{E007F}]/gu;
/** Unicode spaces (NBSP, en/em/thin/hair spaces, narrow NBSP, ideographic space, …) become ' '. */
const UNICODE_SPACES = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g;
/** Keywords after which a `/` starts a regular expression rather than a division. */
const REGEX_AFTER_WORDS = new Set([
  'return',
  'typeof',
  'case',
  'do',
  'else',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'instanceof',
  'yield',
  'await',
]);

/**
 * Replaces curly quotes that stand where JavaScript needs a quote (outside strings, templates,
 * comments and regular expressions) and leaves the ones inside strings alone, so
 * `answer(“Who wrote “Dune”?”)` is repaired but `answer("Who wrote “Dune”?")` keeps its text.
 */
function straightenCodeQuotes(code: string): string {
  let out = '';
  let i = 0;
  const n = code.length;
  // Open template interpolations: brace depth inside each `${ … }`.
  const interpolations: number[] = [];
  let inTemplate = false;
  let regexAllowed = true;

  const endOfLine = (from: number): number => {
    const nl = code.indexOf('\n', from);
    return nl < 0 ? n : nl;
  };
  // The closing quote's index, or the newline/end where an unterminated string stops.
  const endOfString = (from: number, isCloser: (ch: string) => boolean): { end: number; closed: boolean } => {
    let k = from;
    while (k < n && code[k] !== '\n') {
      if (code[k] === '\\') k += 2;
      else if (isCloser(code[k]!)) return { end: k, closed: true };
      else k++;
    }
    return { end: Math.min(k, n), closed: false };
  };

  while (i < n) {
    const ch = code[i]!;
    if (inTemplate) {
      if (ch === '\\') {
        out += code.slice(i, i + 2);
        i += 2;
      } else if (ch === '`') {
        out += ch;
        i++;
        inTemplate = false;
        regexAllowed = false;
      } else if (ch === '$' && code[i + 1] === '{') {
        out += '${';
        i += 2;
        interpolations.push(0);
        inTemplate = false;
        regexAllowed = true;
      } else {
        out += ch;
        i++;
      }
      continue;
    }
    const next = code[i + 1];
    if (ch === '/' && next === '/') {
      const end = endOfLine(i);
      out += code.slice(i, end);
      i = end;
    } else if (ch === '/' && next === '*') {
      const close = code.indexOf('*/', i + 2);
      const end = close < 0 ? n : close + 2;
      out += code.slice(i, end);
      i = end;
    } else if (ch === '/' && regexAllowed) {
      let k = i + 1;
      let inClass = false;
      while (k < n && code[k] !== '\n') {
        const c = code[k]!;
        if (c === '\\') k++;
        else if (c === '[') inClass = true;
        else if (c === ']') inClass = false;
        else if (c === '/' && !inClass) break;
        k++;
      }
      if (code[k] === '/') {
        k++;
        while (k < n && /[a-z]/i.test(code[k]!)) k++;
      }
      out += code.slice(i, k);
      i = k;
      regexAllowed = false;
    } else if (ch === "'" || ch === '"') {
      const { end, closed } = endOfString(i + 1, (c) => c === ch);
      const stop = closed ? end + 1 : end;
      out += code.slice(i, stop);
      i = stop;
      regexAllowed = false;
    } else if (SINGLE_CURLY.has(ch) || DOUBLE_CURLY.has(ch)) {
      const single = SINGLE_CURLY.has(ch);
      const quote = single ? "'" : '"';
      const isCloser = (c: string): boolean =>
        c === quote || (single ? SINGLE_CURLY.has(c) : DOUBLE_CURLY.has(c));
      const { end, closed } = endOfString(i + 1, isCloser);
      out += quote + code.slice(i + 1, end) + (closed ? quote : '');
      i = closed ? end + 1 : end;
      regexAllowed = false;
    } else if (ch === '`') {
      out += ch;
      i++;
      inTemplate = true;
    } else if (ch === '{' || ch === '}') {
      out += ch;
      i++;
      const depth = interpolations.length - 1;
      if (depth >= 0) {
        if (ch === '{') interpolations[depth]!++;
        else if (interpolations[depth] === 0) {
          interpolations.pop();
          inTemplate = true;
        } else interpolations[depth]!--;
      }
      regexAllowed = ch === '{';
    } else if (/[\w$]/.test(ch) || ch.charCodeAt(0) > 0x7f) {
      let k = i + 1;
      while (
        k < n &&
        (/[\w$]/.test(code[k]!) ||
          (code.charCodeAt(k) > 0x7f && !ANY_CURLY.test(code[k]!) && !/\s/.test(code[k]!)))
      )
        k++;
      const word = code.slice(i, k);
      out += word;
      i = k;
      regexAllowed = REGEX_AFTER_WORDS.has(word);
    } else {
      out += ch;
      i++;
      if (!/\s/.test(ch)) regexAllowed = !(ch === ')' || ch === ']');
    }
  }
  return out;
}

/** Module syntax a classic script cannot have, blanked line by line (line numbers stay put). */
function withoutModuleSyntax(code: string): string {
  return code
    .split('\n')
    .map((line, index) => {
      if (index === 0 && line.startsWith('#!')) return '';
      if (/^\s*import\s*(?:[\w$*{][^;]*?\bfrom\s*)?['"][^'"]+['"]\s*;?\s*$/.test(line)) return '';
      if (/^\s*export\s*\{[^}]*\}\s*;?\s*$/.test(line)) return '';
      return line.replace(
        /^(\s*)export\s+(?:default\s+)?(?=(?:async\s+)?function\b|const\b|let\b|var\b|class\b)/,
        '$1',
      );
    })
    .join('\n');
}

/**
 * Repairs program text without changing what it means: CRLF/CR and U+2028/U+2029/U+0085 become
 * `\n`; zero-width characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), bidi controls, soft hyphens and
 * tag characters are removed; NBSP and the other Unicode spaces become ' '; curly quotes ‘’‚‛ → '
 * and “”„‟ → " where code needs a quote (those inside proper string literals are kept — all are
 * replaced when only that makes the program parse); a hashbang line, `import … from '…'` lines and
 * `export {…}` lines are blanked and an `export`/`export default` before a declaration is dropped;
 * trailing whitespace is trimmed. No line is added or removed, so line N stays line N. Idempotent.
 */
export function normalizeProgramText(code: string): string {
  let text = code
    .replace(/\r\n?|[\u2028\u2029\u0085]/g, '\n')
    .replace(INVISIBLE, '')
    .replace(UNICODE_SPACES, ' ');
  text = withoutModuleSyntax(text).replace(/\s+$/, '');
  if (!ANY_CURLY.test(text)) return text;
  const smart = straightenCodeQuotes(text);
  if (programParses(smart)) return smart;
  const blind = text.replace(/[\u2018\u2019\u201A\u201B]/g, "'").replace(/[\u201C\u201D\u201E\u201F]/g, '"');
  return programParses(blind) ? blind : smart;
}
