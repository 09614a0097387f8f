/**
 * A GBNF grammar (llama.cpp's grammar format) of the program subset the plan prompts allow, so a
 * constrained model cannot write a program that fails to parse. The grammar is generated per tool
 * list: tool names are the only plain functions that can be called.
 *
 * What the grammar produces is a program in prepareProgram's format — a classic script with
 * top-level `await` that ends with a top-level `return <value>;` — optionally inside a
 * ```javascript fence (extractProgram takes the fenced block). Every statement ends with `;` (no
 * automatic semicolon insertion to trip over), binary operators are written with a space on each
 * side (`a - -b`, never `a--b`), and the language is finite: identifiers, strings, comments,
 * statement lists, argument lists and expression nesting all have upper bounds (the
 * PROGRAM_GRAMMAR_LIMITS), so even a random model reaches the end.
 *
 * The subset:
 * - statements: declarations (`var` by default, see ProgramGrammarOptions.declarations) of a name or
 *   an array pattern (`var [a, b] = await Promise.all([…]);`), assignments (`x = …;`, `x += …;`),
 *   calls (`await retrieve(q);`, `list.push(x);`), `if (…) { … } else if (…) { … } else { … }`,
 *   `return …;`, `//` comments; the program's last statement is a top-level `return <value>;`;
 * - expressions: names, numbers, `true/false/null/undefined`, '…' and "…" strings, `…${expr}…`
 *   templates, arrays, object literals (`{ key: value, shorthand }`, in value positions: not as the
 *   head of an operator chain, so an arrow body or statement never starts with `{`), member access
 *   `.name`, index access `[expr]`, method calls `.map(…)`, tool calls `tool(…)`, `Promise.all(…)`,
 *   prefix `!`, `-`, `typeof`, `await`, binary `+ - * / % === !== == != < > <= >= && ||`,
 *   the conditional `c ? a : b`, parentheses, and one-parameter arrow functions (`x => expr`,
 *   `(x) => expr`) as call arguments — their bodies cannot `await` (a plain arrow is not async;
 *   prepareProgram adds the awaits that tool calls inside `.map` callbacks need).
 *
 * What it leaves out, and why: names that are reserved words, tool names, `Promise`, `globalThis`,
 * `eval`, `arguments`, or that start with `_` (so never `__reckon…`; see prepareProgram); `??`
 * (mixing it with `||`/`&&` unparenthesised is a syntax error); `**`; regular expressions (a `/`
 * is always division); numbers as the head of a member chain (`5.x` does not parse); octal and
 * `\x` escapes (errors in templates); string, template and comment text with line terminators
 * (CR, LF, U+2028, U+2029, and U+0085, which normalizeProgramText turns into a newline) or `<`
 * (extractProgram strips `<think>…</think>` before it looks for code). Declarations are `var` by
 * default because a context-free grammar cannot see that a name is declared twice: `const x` twice
 * in one scope is a syntax error, `var x` twice is legal.
 */
import { ReckonError } from '../errors.ts';

/** How declarations are written. */
export type ProgramDeclarationStyle = 'var' | 'lexical';

/** Options of buildProgramGrammar. */
export interface ProgramGrammarOptions {
  /**
   * The host tools the program may call by name, e.g. `['retrieve', 'answer']` (the strategy's
   * tool table). Each must be a plain identifier that is not a reserved word. No default.
   */
  toolNames: readonly string[];
  /** Wrap the program in a ```javascript fence (the reply is then "```javascript\n…\n```"). Default: false. */
  fenced?: boolean;
  /**
   * `'var'`: declarations use `var`, and every string the grammar accepts parses. `'lexical'`:
   * `const`/`let` as the PyRAG prompt shows them — but a name declared twice in one scope is then a
   * syntax error the grammar cannot exclude (the program loop's syntax-error feedback must catch
   * it). Default: DEFAULT_PROGRAM_DECLARATIONS ('var').
   */
  declarations?: ProgramDeclarationStyle;
  /**
   * Tighter (or looser) bounds than PROGRAM_GRAMMAR_LIMITS, e.g. to make every program fit a token
   * budget. Each must be a non-negative integer; expressionDepth at least 2 and listItems at least
   * 1. Default: PROGRAM_GRAMMAR_LIMITS.
   */
  limits?: Partial<ProgramGrammarLimits>;
}

/** The bounds of the grammar's language; see PROGRAM_GRAMMAR_LIMITS for each one's meaning. */
export interface ProgramGrammarLimits {
  statements: number;
  blockStatements: number;
  blockDepth: number;
  elseIfs: number;
  expressionDepth: number;
  identifierTail: number;
  stringLength: number;
  commentLength: number;
  binaryOperators: number;
  memberLinks: number;
  listItems: number;
  integerDigits: number;
  fractionDigits: number;
  indent: number;
}

/** Declarations are `var` unless asked otherwise: only then does every accepted program parse. */
export const DEFAULT_PROGRAM_DECLARATIONS: ProgramDeclarationStyle = 'var';

/** The bounds that keep the grammar's language finite (so a random model also reaches the end). */
export const PROGRAM_GRAMMAR_LIMITS: Readonly<ProgramGrammarLimits> = Object.freeze({
  /** Top-level statements before the final `return`. */
  statements: 16,
  /** Statements in one `if`/`else` block (a `return` may follow them). */
  blockStatements: 8,
  /** Nested `if` blocks. */
  blockDepth: 2,
  /** `else if` branches of one `if`. */
  elseIfs: 3,
  /**
   * Expression nesting: each call argument, array element, property value, template
   * interpolation, index, parenthesised or conditional branch goes one level deeper; at the last
   * level only names, numbers, keywords and plain strings remain.
   */
  expressionDepth: 5,
  /** Characters of a name after the ones that tell it apart from reserved words (about 32 in all). */
  identifierTail: 24,
  /** Characters of a string literal, or parts (characters and interpolations) of a template: room for
   * "Given: <facts>. Answer the question: <the question, word for word>". */
  stringLength: 500,
  /** Characters of a `//` comment. */
  commentLength: 100,
  /** Operators in one chain of binary operations (`a + b + c` is 2). */
  binaryOperators: 4,
  /** `.name`, `[i]` and `.method(…)` links after one primary expression. */
  memberLinks: 4,
  /** Arguments of one call, elements of one array, properties of one object, names in an array pattern. */
  listItems: 8,
  /** Digits before the decimal point (after the first), and after it. */
  integerDigits: 9,
  fractionDigits: 6,
  /** Spaces or tabs of indentation at the start of a line. */
  indent: 12,
});

/** Words that can never be names (reserved, strict-mode reserved, contextual ones we avoid, literals). */
const RESERVED_WORDS: readonly string[] = [
  'await',
  'break',
  'case',
  'catch',
  'class',
  'const',
  'continue',
  'debugger',
  'default',
  'delete',
  'do',
  'else',
  'enum',
  'export',
  'extends',
  'false',
  'finally',
  'for',
  'function',
  'if',
  'import',
  'in',
  'instanceof',
  'new',
  'null',
  'return',
  'super',
  'switch',
  'this',
  'throw',
  'true',
  'try',
  'typeof',
  'var',
  'void',
  'while',
  'with',
  'yield',
  'let',
  'static',
  'implements',
  'interface',
  'package',
  'private',
  'protected',
  'public',
  'async',
  'of',
  'undefined',
  'eval',
  'arguments',
  // Used by the instrumentation (prepareProgram), reachable only through Promise.all(…).
  'Promise',
  'globalThis',
];

const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_$]*$/;
const NAME_START = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ$';
const NAME_PART = `${NAME_START}0123456789_`;

/** Characters never allowed in string, template or comment text (see the module comment). */
const TEXT_EXCLUDED = '\\x00-\\x1F\\x7F\\x85\\u2028\\u2029<';

/**
 * Builds the GBNF grammar (root rule `root`) of programs that call `options.toolNames`. Defaults:
 * fenced false, declarations DEFAULT_PROGRAM_DECLARATIONS ('var'), limits PROGRAM_GRAMMAR_LIMITS. Every string it accepts passes prepareProgram (with `hostFunctions` =
 * the tool names), and, when fenced, extractProgram first; with `declarations: 'lexical'` except
 * for names declared twice in one scope. Throws ReckonError 'INVALID_TOOL_NAME' for a tool name
 * that is not a plain identifier or is a reserved word, 'INVALID_GRAMMAR_LIMIT' for a limit out of
 * range. Pure and deterministic: the same options
 * give the same text (backends cache the compiled grammar per text).
 */
export function buildProgramGrammar(options: ProgramGrammarOptions): string {
  const toolNames = [...new Set(options.toolNames)];
  for (const name of toolNames) {
    if (!TOOL_NAME.test(name) || RESERVED_WORDS.includes(name)) {
      throw new ReckonError(
        'INVALID_TOOL_NAME',
        `"${name}" cannot be a tool name in a program grammar: use a plain JavaScript name (letters, digits, _ or $, starting with a letter) that is not a reserved word.`,
      );
    }
  }
  const declarations = options.declarations ?? DEFAULT_PROGRAM_DECLARATIONS;
  const L = resolveLimits(options.limits);
  const rules = new Map<string, string>();
  const rule = (name: string, body: string): string => {
    rules.set(name, body);
    return name;
  };
  const upTo = (item: string, max: number): string => `${/\s/.test(item) ? `( ${item} )` : item}{0,${max}}`;
  const list = (item: string): string =>
    `( lopen ${item} ${upTo(`lsep ${item}`, L.listItems - 1)} ","? lopen )?`;

  // Layout. Statements end a line; a line may carry a trailing comment and be followed by a blank one.
  rule('indent', `[ \\t]{0,${L.indent}}`);
  rule('comment', `"//" ${upTo(`[^${TEXT_EXCLUDED}]`, L.commentLength)}`);
  rule('nl', `( " " " "? comment )? "\\n" "\\n"? indent`);
  // Inside brackets: nothing, a space, or a line break (arrays and calls spread over lines).
  rule('lopen', `( " " | "\\n" indent )?`);
  rule('lsep', `"," ( " " | "\\n" indent )`);

  // Names.
  rule('ident', identifierRules(new Set([...RESERVED_WORDS, ...toolNames]), rules, L.identifierTail));
  rule('prop', `[a-zA-Z$] [a-zA-Z0-9_$]{0,${L.identifierTail + 8}}`);

  // Literals.
  rule('number', `( "0" | [1-9] [0-9]{0,${L.integerDigits}} ) ( "." [0-9]{1,${L.fractionDigits}} )?`);
  rule('keyword', `"true" | "false" | "null" | "undefined"`);
  rule('escape', `"\\\\" ( [nrt'"\\\\\`$] | "u" [0-9a-fA-F]{4} )`);
  rule(
    'string',
    `"\\"" ${upTo(`( [^"\\\\${TEXT_EXCLUDED}] | escape )`, L.stringLength)} "\\"" | ` +
      `"'" ${upTo(`( [^'\\\\${TEXT_EXCLUDED}] | escape )`, L.stringLength)} "'"`,
  );
  // `$` only as `${` or escaped: a lone `$` before `{` would open an interpolation.
  rule('tchar', `[^\`\\\\$${TEXT_EXCLUDED}] | escape`);
  rule(
    'binop',
    `" " ( "+" | "-" | "*" | "/" | "%" | "===" | "!==" | "==" | "!=" | "<=" | ">=" | "<" | ">" | "&&" | "||" ) " "`,
  );

  const toolCall = toolNames.length > 0 ? `( ${toolNames.map(quote).join(' | ')} )` : undefined;

  // Expressions, by nesting level d (0…D) and by whether `await` is allowed (a: async context,
  // the top level and its blocks; n: inside an arrow function).
  const D = L.expressionDepth - 1;
  for (const mode of ['a', 'n'] as const) {
    // Arrow bodies start one level down, so mode n needs no level 0.
    for (let d = mode === 'a' ? 0 : 1; d <= D; d++) {
      const at = (kind: string, level = d, m: string = mode): string => `${kind}-${m}${level}`;
      if (d === D) {
        rule(at('template'), `"\`" ${upTo('tchar', L.stringLength)} "\`"`);
        rule(at('expr'), `ident | number | keyword | string | ${at('template')}`);
        rule(at('value'), at('expr'));
        continue;
      }
      const inner = (kind: string): string => at(kind, d + 1);
      rule(at('template'), `"\`" ${upTo(`( tchar | "\${" ${inner('expr')} "}" )`, L.stringLength)} "\`"`);
      rule(at('args'), list(`( ${inner('value')} | ${at('arrow', d + 1, 'n')} )`));
      const heads = [
        'ident',
        'string',
        at('template'),
        `"[" ${list(inner('value'))} "]"`,
        `"(" ${inner('value')} ")"`,
        `"Promise.all(" ${inner('value')} ")"`,
      ];
      if (toolCall) heads.push(`${toolCall} "(" ${at('args')} ")"`);
      rule(at('head'), heads.join(' | '));
      rule(at('link'), `"." prop ( "(" ${at('args')} ")" )? | "[" ${inner('expr')} "]"`);
      rule(at('postfix'), `number | keyword | ${at('head')} ${upTo(at('link'), L.memberLinks)}`);
      rule(at('unary'), `( "!" | "-" | "typeof " ${mode === 'a' ? '| "await " ' : ''})? ${at('postfix')}`);
      rule(at('binary'), `${at('unary')} ${upTo(`binop ${at('unary')}`, L.binaryOperators)}`);
      rule(at('expr'), `${at('binary')} ( " ? " ${inner('value')} " : " ${inner('value')} )?`);
      rule(at('object'), `"{" ${list(`( prop ": " ${inner('value')} | ident )`)} "}"`);
      rule(at('value'), `${at('object')} | ${at('expr')}`);
    }
  }
  // Arrow functions: one parameter, an expression body that never starts with `{` and never awaits.
  for (let d = 1; d <= D; d++) rule(`arrow-n${d}`, `( ident | "(" ident ")" ) " => " expr-n${d}`);

  // Statements, by block depth b.
  const keyword = declarations === 'var' ? '"var "' : '( "const " | "let " )';
  rule('pattern', `ident | "[" ident ${upTo('", " ident', L.listItems - 1)} "]"`);
  rule('declaration', `${keyword} pattern " = " value-a0 ";"`);
  rule('assignment', `ident ( " = " | " += " ) value-a0 ";"`);
  const callStatements = [`ident ( "." prop ){0,2} "." prop "(" args-a0 ")" ";"`];
  if (toolCall) callStatements.unshift(`"await "? ${toolCall} "(" args-a0 ")" ";"`);
  rule('call', callStatements.join(' | '));
  rule('return', `"return " value-a0 ";"`);
  for (let b = 0; b <= L.blockDepth; b++) {
    const statements = ['declaration', 'assignment', 'call', 'comment'];
    if (b < L.blockDepth) statements.push(`if${b}`);
    rule(`stmt${b}`, statements.join(' | '));
    if (b === 0) continue;
    rule(`block${b}`, `"{" nl ${upTo(`stmt${b} nl`, L.blockStatements)} ( return nl )? "}"`);
  }
  for (let b = 0; b < L.blockDepth; b++) {
    const block = `block${b + 1}`;
    rule(
      `if${b}`,
      `"if (" expr-a0 ") " ${block} ${upTo(`" else if (" expr-a0 ") " ${block}`, L.elseIfs)} ( " else " ${block} )?`,
    );
  }
  rule('program', `${upTo('stmt0 nl', L.statements)} return`);
  rule('root', options.fenced ? '"```javascript\\n" program "\\n```"' : 'program');

  const order = ['root', ...[...rules.keys()].filter((name) => name !== 'root')];
  return `${order.map((name) => `${name} ::= ${rules.get(name)!}`).join('\n')}\n`;
}

function resolveLimits(overrides: Partial<ProgramGrammarLimits> | undefined): ProgramGrammarLimits {
  const limits = { ...PROGRAM_GRAMMAR_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    const minimum = name === 'expressionDepth' ? 2 : name === 'listItems' ? 1 : 0;
    if (!Number.isInteger(value) || value < minimum) {
      throw new ReckonError(
        'INVALID_GRAMMAR_LIMIT',
        `The program grammar limit ${name} must be an integer of at least ${minimum}; got ${value}.`,
      );
    }
  }
  return limits;
}

/**
 * Rules for names that are not in `excluded`: a trie of the excluded words where each node may end
 * (unless it spells an excluded word), continue along the trie, or leave it with any other
 * character and finish with up to `tail` free characters. Unambiguous, so llama.cpp's sampler keeps
 * one stack per name. Returns the body of the `ident` rule; adds the node rules to `rules`.
 */
function identifierRules(excluded: ReadonlySet<string>, rules: Map<string, string>, tail: number): string {
  interface Node {
    children: Map<string, Node>;
    word: boolean;
    id: number;
  }
  let nextId = 0;
  const newNode = (): Node => ({ children: new Map(), word: false, id: nextId++ });
  const root = newNode();
  for (const word of excluded) {
    let node = root;
    for (const ch of word) {
      let child = node.children.get(ch);
      if (!child) {
        child = newNode();
        node.children.set(ch, child);
      }
      node = child;
    }
    node.word = true;
  }
  rules.set('ident-tail', `${charClass([...NAME_PART])}{0,${tail}}`);
  const alternatives = (node: Node, alphabet: string): string[] => {
    const out: string[] = [];
    const others = [...alphabet].filter((ch) => !node.children.has(ch));
    if (others.length > 0) out.push(`${charClass(others)} ident-tail`);
    for (const [ch, child] of [...node.children].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out.push(`${quote(ch)} ${visit(child)}`);
    }
    return out;
  };
  const visit = (node: Node): string => {
    const name = `ident-${node.id}`;
    const body = alternatives(node, NAME_PART).join(' | ');
    rules.set(name, node.word ? `( ${body} )` : `( ${body} )?`);
    return name;
  };
  return alternatives(root, NAME_START).join(' | ');
}

/** A GBNF character class of exactly these (ASCII name) characters, with runs written as ranges. */
function charClass(chars: readonly string[]): string {
  const codes = [...new Set(chars.map((ch) => ch.charCodeAt(0)))].sort((a, b) => a - b);
  let out = '';
  for (let i = 0; i < codes.length; ) {
    let j = i;
    while (j + 1 < codes.length && codes[j + 1] === codes[j]! + 1) j++;
    const first = String.fromCharCode(codes[i]!);
    const last = String.fromCharCode(codes[j]!);
    out +=
      j - i >= 2
        ? `${first}-${last}`
        : codes
            .slice(i, j + 1)
            .map((c) => String.fromCharCode(c))
            .join('');
    i = j + 1;
  }
  return `[${out}]`;
}

/** A GBNF string literal (the names and keywords quoted here are plain ASCII). */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
