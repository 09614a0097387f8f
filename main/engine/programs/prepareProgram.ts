/**
 * Turns model-written program text into the script the sandbox runs, by splicing text into the
 * user's code at AST positions (no code generator, so line N of the script is line N of the
 * program and stack traces point at the user's lines).
 *
 * The script contract (the sandbox implements the other side):
 *
 * - The script is a classic script whose completion value is the Promise of an async IIFE:
 *   PROGRAM_SCRIPT_PREFIX + user code + PROGRAM_SCRIPT_SUFFIX (`\n})()`). The prefix, all on line 1
 *   before the user's first character, opens the IIFE and runs PROGRAM_SCRIPT_PRELUDE: it sets
 *   `globalThis.__reckonLine = 0` and `globalThis.__reckonMaxDepth = 0` and declares the local depth
 *   counter and three helpers. The user's top-level `return x` is the program's result.
 * - The sandbox provides `retrieve`, `answer` (or the configured host functions) and
 *   `__reckonBind(name, value, line)` as globals, reads `globalThis.__reckonLine` when a host tool
 *   is called, and `globalThis.__reckonMaxDepth` when the program ends.
 * - `__reckonLine = <line>;` runs before every statement of a statement list (program, block,
 *   switch case); a host call sets it to the call's own line just before the call
 *   (`retrieve(q, ...__reckonAt(3))`, which adds no argument), and it is restored after each `await`.
 * - After every top-level `const`/`let`/`var` declaration and top-level assignment (`=`, `+=`, `++`,
 *   destructuring), `__reckonBind("<name>", <name>, <line of the statement>)` runs for each name.
 * - Every function (generators excepted) counts call depth: on entry
 *   `__reckonDepth++; if (__reckonDepth > globalThis.__reckonMaxDepth) globalThis.__reckonMaxDepth = __reckonDepth;`
 *   then `try { … } finally { __reckonDepth--; }` around the body (an expression-bodied arrow gets a
 *   block body `{ … return (expr); … }`). Async functions interleave, so a shared counter would add
 *   up concurrent calls (`Promise.all(xs.map(async …))` is not 5 deep): an async function remembers
 *   its depth in `const __reckonSelf`, its `finally` sets `__reckonDepth = __reckonSelf - 1`, every
 *   `await E` becomes `__reckonResume(__reckonSelf, line, await __reckonPause(__reckonSelf, E))`
 *   (depth of the caller while suspended, its own again when resumed), and catch/finally blocks
 *   start with `__reckonDepth = __reckonSelf;` (a rejected await skips the resume). The top level is
 *   depth 0. `__reckonMaxDepth` is thus the deepest chain of program functions calling each other.
 *
 * Auto-await: the model may write `await` or not. A call to a host function, to a program function
 * that is (or becomes) async, to an immediately invoked async function, or to
 * `Promise.all/allSettled/race/any`, gets an `await` — as
 * `__reckonResume(__reckonSelf, line, await __reckonPause(__reckonSelf, call))`, a call expression,
 * so `retrieve(q)[0]` needs no extra parentheses — unless it already is the operand of `await`, is
 * an element or argument of a Promise combinator (so `Promise.all([answer(a), answer(b)])` stays
 * parallel), is the object of `.then/.catch/.finally`, or has a `?.` of its own. A function that
 * thereby contains an await becomes `async` (declarations, expressions, arrows, object and class
 * methods), transitively: calls to it by name are awaited in turn. `xs.map(cb)` whose callback is
 * async (made so, or written so) becomes `await Promise.all(xs.map(cb))` (only `Promise.all(…)` is
 * added when the program already says `await xs.map(…)`, and nothing when the map already feeds a
 * Promise combinator). Functions that were already async keep working, and calls to them are
 * awaited too.
 *
 * Not handled (such calls still yield Promises): async callbacks of forEach, filter, reduce, some,
 * every, find, sort and flatMap; calls to program functions other than by their plain name
 * (`obj.method()`, `fns[0]()`, callbacks passed to anything but map); host calls inside generators,
 * getters, setters, constructors, parameter defaults, class field initializers, static blocks and
 * `if (x) function f() {}`; `retrieve?.()`; tagged templates and `new`. A function made async can no
 * longer be used with `new`. `for await` loops do not restore the depth counter per iteration.
 */
import { parse, type AnyNode, type ArrowFunctionExpression, type CallExpression } from 'acorn';
import { ReckonError } from '../errors.ts';
import type { SandboxFailure } from '../sandbox/SandboxTypes.ts';
import { analyzeParsedProgram, lineLocator, type ProgramAnalysis } from './analyzeProgram.ts';
import { normalizeProgramText } from './extractProgram.ts';
import {
  CommentRanges,
  NodeIndex,
  ScopeMap,
  arrowTokenStart,
  isAcornSyntaxError,
  isFunctionNode,
  parseProgramSource,
  patternNames,
  previousSignificant,
  type FunctionNode,
  type ParsedProgram,
} from './programAst.ts';

/** A program ready for the sandbox: what the user sees, what the sandbox runs, and its static analysis. */
export interface PreparedProgram {
  /** The normalized user code (what the trace shows; line numbers refer to it). */
  source: string;
  /** What the sandbox runs; see the script contract at the top of this file. */
  script: string;
  analysis: ProgramAnalysis;
}

/** Options of prepareProgram; every one has a default. */
export interface PrepareProgramOptions {
  /** Global functions the sandbox provides, all async. Default: DEFAULT_HOST_FUNCTIONS (retrieve, answer). */
  hostFunctions?: readonly string[];
  /** Largest program (UTF-8 bytes) prepared at all. Default: DEFAULT_MAX_PROGRAM_BYTES (64 KiB). */
  maxProgramBytes?: number;
}

/** A prepared program, or why the code cannot run (always kind 'SyntaxError'), as a value. */
export type PrepareProgramResult =
  | { ok: true; program: PreparedProgram }
  | { ok: false; error: SandboxFailure };

/**
 * Largest program prepareProgram accepts: far above anything a model writes for a question (PyRAG's
 * are under 2 KiB), low enough that parsing and instrumenting it stays well under a second (a
 * 250 KiB program took 1.4 s on a loaded 2-core machine; this runs on the engine's thread).
 */
export const DEFAULT_MAX_PROGRAM_BYTES = 64 * 1024;

/** The host tools of PyRAG programs. */
export const DEFAULT_HOST_FUNCTIONS: readonly string[] = Object.freeze(['retrieve', 'answer']);

/** User identifiers may not start with this: the instrumentation's names do. */
export const RESERVED_PREFIX = '__reckon';

/** Names the instrumentation relies on, so the program may not declare them. */
const RESERVED_BINDINGS = new Set(['globalThis', 'Promise']);

/** Statements run before the user's code, inside the IIFE, all on line 1. */
export const PROGRAM_SCRIPT_PRELUDE =
  'globalThis.__reckonLine = 0; globalThis.__reckonMaxDepth = 0; let __reckonDepth = 0; const __reckonSelf = 0; ' +
  'const __reckonAt = (line) => { globalThis.__reckonLine = line; return []; }; ' +
  'const __reckonPause = (self, value) => { __reckonDepth = self - 1; return value; }; ' +
  'const __reckonResume = (self, line, value) => { __reckonDepth = self; globalThis.__reckonLine = line; return value; }; ' +
  'const __reckonThrow = (value) => { if (value === null) globalThis.__reckonThrewNull = 1; return value; }; ';

/** Text before the user's first character (line 1). */
export const PROGRAM_SCRIPT_PREFIX = `(async () => { ${PROGRAM_SCRIPT_PRELUDE}`;

/** Text after the user's last character: the IIFE closes on a line of its own. */
export const PROGRAM_SCRIPT_SUFFIX = '\n})()';

const ENTER =
  '__reckonDepth++; if (__reckonDepth > globalThis.__reckonMaxDepth) globalThis.__reckonMaxDepth = __reckonDepth; ';
const ENTER_ASYNC = `${ENTER}const __reckonSelf = __reckonDepth; `;
const EXIT = ' } finally { __reckonDepth--; }';
const EXIT_ASYNC = ' } finally { __reckonDepth = __reckonSelf - 1; }';
const RESET_DEPTH = '__reckonDepth = __reckonSelf; ';
const COMBINATORS = new Set(['all', 'allSettled', 'race', 'any']);
const PROMISE_HANDLERS = new Set(['then', 'catch', 'finally']);

/**
 * prepareProgram, except that it never throws: an error of Reckon's own (an instrumentation bug) is
 * a RuntimeError failure that asks for a report, so every program ends in a typed result.
 */
export function prepareProgramSafely(
  code: string,
  options: PrepareProgramOptions = {},
): PrepareProgramResult {
  try {
    return prepareProgram(code, options);
  } catch (error) {
    return {
      ok: false,
      error: {
        kind: 'RuntimeError',
        errorName: 'InternalError',
        message: `Reckon could not prepare the program (${error instanceof Error ? error.message : 'unknown error'}). Please report this problem with the program text.`,
      },
    };
  }
}

/**
 * Prepares model-written code for the sandbox: normalizes it (normalizeProgramText), parses it
 * with acorn (script, latest syntax, top-level await and return allowed), rejects identifiers that
 * start with `__reckon` and declarations of `globalThis`/`Promise` (the instrumentation uses them),
 * analyzes it (analyzeProgram) and instruments it into a script that keeps the user's line numbers
 * (contract and auto-await rules at the top of this file). `hostFunctions` defaults to
 * DEFAULT_HOST_FUNCTIONS (`retrieve`, `answer`). A program that does not parse, or uses a reserved
 * name, comes back as `{ ok: false, error }` with kind 'SyntaxError', a message without position,
 * a 1-based line and a 1-based column; a program over `maxProgramBytes` (ProgramTooLarge) or nested
 * too deeply to walk (ProgramTooDeep) is the same kind of value. Throws a ReckonError (PROGRAM_INSTRUMENTATION_FAILED) only
 * if the instrumented script itself fails to parse, which is a bug here, not in the program.
 */
export function prepareProgram(code: string, options: PrepareProgramOptions = {}): PrepareProgramResult {
  const maxBytes = options.maxProgramBytes ?? DEFAULT_MAX_PROGRAM_BYTES;
  const bytes = Buffer.byteLength(code);
  if (bytes > maxBytes) {
    return {
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'ProgramTooLarge',
        message: `The program is ${Math.ceil(bytes / 1024)} KiB, more than the ${Math.floor(maxBytes / 1024)} KiB a program may have. Write a shorter program: loop over data instead of spelling it out.`,
      },
    };
  }
  try {
    return prepareWithinStack(code, options);
  } catch (error) {
    // The parser, the analysis and the instrumentation walk the syntax tree recursively; source nested
    // thousands of levels deep (or a 5,000-term `1+1+…`) exhausts the host stack. That is the
    // program's shape, not a bug here: a typed failure the strategy can feed back.
    if (!(error instanceof RangeError && /call stack/i.test(error.message))) throw error;
    return {
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'ProgramTooDeep',
        message:
          'The program nests too deeply to be read (hundreds of nested functions, thousands of nested brackets, or one expression with thousands of terms). Write it with less nesting: use variables and loops.',
      },
    };
  }
}

function prepareWithinStack(code: string, options: PrepareProgramOptions): PrepareProgramResult {
  const hostFunctions = options.hostFunctions ?? DEFAULT_HOST_FUNCTIONS;
  const source = normalizeProgramText(code);
  let parsed: ParsedProgram;
  try {
    parsed = parseProgramSource(source);
  } catch (error) {
    if (!isAcornSyntaxError(error)) throw error;
    return {
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'SyntaxError',
        message: error.message.replace(/ \(\d+:\d+\)$/, ''),
        line: error.loc.line,
        column: error.loc.column + 1,
      },
    };
  }
  const index = new NodeIndex(parsed.ast);
  const reserved = findReservedName(index);
  if (reserved) {
    const loc = reserved.node.loc!.start;
    return {
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'SyntaxError',
        message: reserved.message,
        line: loc.line,
        column: loc.column + 1,
      },
    };
  }
  const scopes = new ScopeMap(parsed.ast);
  const analysis = analyzeParsedProgram(source, parsed, { index, scopes, hostTools: hostFunctions });
  const script = instrument(source, parsed, index, scopes, hostFunctions);
  try {
    parse(script, { ecmaVersion: 'latest', sourceType: 'script' });
  } catch (error) {
    // The instrumented script nests deeper than the program (each function gains a wrapper), so a
    // program just shallow enough to be read can make it too deep to read back: the program's
    // shape (prepareProgram reports ProgramTooDeep), not a bug here.
    if (error instanceof RangeError && /call stack/i.test(error.message)) throw error;
    throw new ReckonError(
      'PROGRAM_INSTRUMENTATION_FAILED',
      'Reckon could not instrument this program (a bug in Reckon, not in the program). Please report it with the program text.',
      { cause: error },
    );
  }
  return { ok: true, program: { source, script, analysis } };
}

function findReservedName(index: NodeIndex): { node: AnyNode; message: string } | undefined {
  for (const node of index.nodes) {
    if (node.type === 'Identifier' && node.name.startsWith(RESERVED_PREFIX)) {
      return {
        node,
        message: `"${node.name}" is a reserved name (names starting with ${RESERVED_PREFIX} are used by Reckon); rename it.`,
      };
    }
  }
  for (const node of index.nodes) {
    const declared: AnyNode[] = [];
    if (node.type === 'VariableDeclarator') declared.push(node.id);
    else if (isFunctionNode(node)) {
      declared.push(...node.params);
      if (node.type !== 'ArrowFunctionExpression' && node.id) declared.push(node.id);
    } else if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id)
      declared.push(node.id);
    else if (node.type === 'CatchClause' && node.param) declared.push(node.param);
    for (const pattern of declared) {
      const name = patternNames(pattern).find((n) => RESERVED_BINDINGS.has(n));
      if (name)
        return { node: pattern, message: `"${name}" cannot be redeclared in a program; use another name.` };
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

interface Edit {
  pos: number;
  text: string;
  /** Closers end a construct at `pos`, openers begin one. */
  close: boolean;
  /** AST depth of the node the edit belongs to. */
  depth: number;
  /** Among edits of one node at one position, lower layers are outside higher ones. */
  layer: number;
  node: AnyNode;
}

/**
 * Orders insertions at one position: what closes (ends before `pos`) comes before what opens; inner
 * constructs close first and outer constructs open first.
 */
function compareEdits(a: Edit, b: Edit): number {
  if (a.pos !== b.pos) return a.pos - b.pos;
  // An empty body `{}` (or program) opens and closes at one position: its own opener goes first.
  if (a.close !== b.close && a.node === b.node) return a.close ? 1 : -1;
  if (a.close !== b.close) return a.close ? -1 : 1;
  if (a.close) return b.depth - a.depth || b.layer - a.layer;
  return a.depth - b.depth || a.layer - b.layer;
}

type Context =
  | { kind: 'top' }
  | { kind: 'function'; fn: FunctionNode; inBody: boolean }
  /** Class field initializers and static blocks: no await possible. */
  | { kind: 'initializer' };

function instrument(
  source: string,
  parsed: ParsedProgram,
  index: NodeIndex,
  scopes: ScopeMap,
  hostFunctions: readonly string[],
): string {
  const comments = new CommentRanges(parsed.comments);
  const lineOf = lineLocator(source);
  const edits: Edit[] = [];
  const add = (node: AnyNode, pos: number, text: string, close: boolean, layer: number): void => {
    edits.push({ pos, text, close, depth: index.depthOf(node), layer, node });
  };

  const contextOf = (node: AnyNode): Context => {
    let child = node;
    for (let parent = index.parentOf(child); parent; child = parent, parent = index.parentOf(child)) {
      if (isFunctionNode(parent))
        return { kind: 'function', fn: parent, inBody: index.keyOf(child) === 'body' };
      if (parent.type === 'PropertyDefinition' && index.keyOf(child) === 'value')
        return { kind: 'initializer' };
      if (parent.type === 'StaticBlock') return { kind: 'initializer' };
    }
    return { kind: 'top' };
  };

  const canBeAsync = (fn: FunctionNode): boolean => {
    if (fn.generator) return false;
    const parent = index.parentOf(fn);
    // `if (x) function f() {}` is legal sloppy-mode JavaScript; `if (x) async function f() {}` is not.
    if (
      fn.type === 'FunctionDeclaration' &&
      (parent?.type === 'IfStatement' || parent?.type === 'LabeledStatement')
    ) {
      return false;
    }
    if (parent?.type === 'MethodDefinition') return parent.kind === 'method';
    if (parent?.type === 'Property' && index.keyOf(fn) === 'value') return parent.kind === 'init';
    return true;
  };

  const functions = index.nodes.filter(isFunctionNode);
  const calls = index.nodes.filter((node): node is CallExpression => node.type === 'CallExpression');
  const asyncFns = new Set<FunctionNode>(functions.filter((fn) => fn.async && !fn.generator));

  /** Contexts where an await may be inserted. */
  const awaitable = (context: Context): boolean =>
    context.kind === 'top' || (context.kind === 'function' && context.inBody && canBeAsync(context.fn));

  const isHostCall = (call: CallExpression): boolean =>
    call.callee.type === 'Identifier' &&
    hostFunctions.includes(call.callee.name) &&
    scopes.resolve(call.callee.name, call).kind === 'global';

  const isCombinatorCall = (node: AnyNode | undefined): boolean =>
    node?.type === 'CallExpression' &&
    node.callee.type === 'MemberExpression' &&
    !node.callee.computed &&
    node.callee.object.type === 'Identifier' &&
    node.callee.object.name === 'Promise' &&
    node.callee.property.type === 'Identifier' &&
    COMBINATORS.has(node.callee.property.name) &&
    scopes.resolve('Promise', node).kind === 'global';

  /** An argument of Promise.all(…) or an element of Promise.all([…]). */
  const feedsCombinator = (call: CallExpression): boolean => {
    const parent = index.parentOf(call);
    if (isCombinatorCall(parent) && index.keyOf(call) === 'arguments') return true;
    if (parent?.type !== 'ArrayExpression') return false;
    const grandparent = index.parentOf(parent);
    return isCombinatorCall(grandparent) && index.keyOf(parent) === 'arguments';
  };

  /** An optional link (`?.`) inside the call itself would be cut by wrapping the call. */
  const hasOptionalLink = (call: CallExpression): boolean => {
    if (call.optional) return true;
    let node: AnyNode = call.callee;
    for (;;) {
      if (node.type === 'MemberExpression') {
        if (node.optional) return true;
        node = node.object;
      } else if (node.type === 'CallExpression') {
        if (node.optional) return true;
        node = node.callee;
      } else {
        return false;
      }
    }
  };

  const isAwaitOperand = (call: CallExpression): boolean => {
    const parent = index.parentOf(call);
    return parent?.type === 'AwaitExpression' && parent.argument === call;
  };

  const isPromiseHandled = (call: CallExpression): boolean => {
    const parent = index.parentOf(call);
    return (
      parent?.type === 'MemberExpression' &&
      parent.object === call &&
      !parent.computed &&
      parent.property.type === 'Identifier' &&
      PROMISE_HANDLERS.has(parent.property.name)
    );
  };

  const asyncFunctionOf = (node: AnyNode | undefined, from: AnyNode): FunctionNode | undefined => {
    if (!node) return undefined;
    if (isFunctionNode(node)) return asyncFns.has(node) ? node : undefined;
    if (node.type === 'Identifier') {
      const resolved = scopes.resolve(node.name, from);
      return resolved.kind === 'local' && resolved.fn && asyncFns.has(resolved.fn) ? resolved.fn : undefined;
    }
    return undefined;
  };

  type Target = 'await' | 'map';
  const targetOf = (call: CallExpression): Target | undefined => {
    const callee = call.callee;
    if (callee.type === 'Identifier') {
      if (isHostCall(call)) return 'await';
      return asyncFunctionOf(callee, call) ? 'await' : undefined;
    }
    // An immediately invoked function: `(async () => { … })()`.
    if (isFunctionNode(callee)) return asyncFns.has(callee) ? 'await' : undefined;
    if (isCombinatorCall(call)) return 'await';
    if (
      callee.type === 'MemberExpression' &&
      !callee.computed &&
      callee.property.type === 'Identifier' &&
      callee.property.name === 'map'
    ) {
      const callback = call.arguments[0];
      if (callback && callback.type !== 'SpreadElement' && asyncFunctionOf(callback, call)) return 'map';
    }
    return undefined;
  };

  // Fixpoint: awaiting a call can make its function async, which makes calls to it awaitable.
  /** 'await': wrap in an await; 'await-all': wrap in await Promise.all(…); 'all': only Promise.all(…). */
  const wrapped = new Map<CallExpression, 'await' | 'await-all' | 'all'>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const call of calls) {
      if (wrapped.has(call)) continue;
      const target = targetOf(call);
      if (!target || hasOptionalLink(call)) continue;
      if (target === 'map') {
        if (feedsCombinator(call)) continue;
        if (isAwaitOperand(call)) {
          wrapped.set(call, 'all');
          changed = true;
          continue;
        }
      } else if (isAwaitOperand(call) || feedsCombinator(call) || isPromiseHandled(call)) {
        continue;
      }
      const context = contextOf(call);
      if (!awaitable(context)) continue;
      wrapped.set(call, target === 'map' ? 'await-all' : 'await');
      changed = true;
      if (context.kind === 'function') asyncFns.add(context.fn);
    }
  }

  /** Contexts whose awaits and catch/finally blocks take part in the async depth bookkeeping. */
  const tracksAwaits = (context: Context): boolean =>
    context.kind === 'top' || (context.kind === 'function' && context.inBody && asyncFns.has(context.fn));

  // 1. The IIFE.
  edits.push({ pos: 0, text: PROGRAM_SCRIPT_PREFIX, close: false, depth: -1, layer: 0, node: parsed.ast });
  edits.push({
    pos: source.length,
    text: PROGRAM_SCRIPT_SUFFIX,
    close: true,
    depth: -1,
    layer: 0,
    node: parsed.ast,
  });

  for (const node of index.nodes) {
    const parent = index.parentOf(node);
    const key = index.keyOf(node);

    // 2. Line markers before the statements of statement lists (never braceless bodies).
    const inList =
      (parent?.type === 'Program' && key === 'body') ||
      (parent?.type === 'BlockStatement' && key === 'body') ||
      (parent?.type === 'SwitchCase' && key === 'consequent');
    if (inList && !(node.type === 'ExpressionStatement' && node.directive !== undefined)) {
      add(node, node.start, `__reckonLine = ${lineOf(node.start)}; `, false, 0);
    }

    // 3. Bindings of top-level declarations and assignments.
    if (parent?.type === 'Program') {
      const names = boundNames(node);
      if (names.length > 0) {
        const line = lineOf(node.start);
        const separator = source[node.end - 1] === ';' ? ' ' : '; ';
        const binds = names
          .map((name) => `__reckonBind(${JSON.stringify(name)}, ${name}, ${line});`)
          .join(' ');
        add(node, node.end, `${separator}${binds}`, true, 0);
      }
    }

    // 4. Async depth bookkeeping in catch and finally blocks.
    if (
      node.type === 'BlockStatement' &&
      ((parent?.type === 'CatchClause' && key === 'body') ||
        (parent?.type === 'TryStatement' && key === 'finalizer')) &&
      tracksAwaits(contextOf(node))
    ) {
      add(node, node.start + 1, RESET_DEPTH, false, 1);
    }

    // 5. User-written awaits.
    if (node.type === 'AwaitExpression' && tracksAwaits(contextOf(node))) {
      const argument = node.argument;
      const sequence = argument.type === 'SequenceExpression';
      add(node, node.start, `__reckonResume(__reckonSelf, ${lineOf(node.start)}, `, false, 3);
      add(node, node.end, ')', true, 3);
      add(argument, argument.start, `__reckonPause(__reckonSelf, ${sequence ? '(' : ''}`, false, 3);
      add(argument, argument.end, `${sequence ? ')' : ''})`, true, 3);
    }

    if (node.type === 'CallExpression') {
      // 6. Inserted awaits.
      const wrap = wrapped.get(node);
      const line = lineOf(node.start);
      if (wrap === 'await' || wrap === 'await-all') {
        const all = wrap === 'await-all';
        add(
          node,
          node.start,
          `__reckonResume(__reckonSelf, ${line}, await __reckonPause(__reckonSelf, ${all ? 'Promise.all(' : ''}`,
          false,
          5,
        );
        add(node, node.end, all ? ')))' : '))', true, 5);
      } else if (wrap === 'all') {
        add(node, node.start, 'Promise.all(', false, 5);
        add(node, node.end, ')', true, 5);
      }
      // 7. Host calls announce their own line just before the call happens.
      if (isHostCall(node)) {
        const closeParen = node.end - 1;
        const last = previousSignificant(source, comments, closeParen);
        const separator = node.arguments.length === 0 || source[last] === ',' ? '' : ', ';
        add(node, closeParen, `${separator}...__reckonAt(${line})`, true, 6);
      }
    }

    // 8. A thrown value is noted when it is null: QuickJS also "throws" null when it runs out of
    // memory, and only this note tells the two apart.
    if (node.type === 'ThrowStatement') {
      add(node.argument, node.argument.start, '__reckonThrow(', false, 7);
      add(node.argument, node.argument.end, ')', true, 7);
    }

    // 9. Functions: async where needed, call-depth counting.
    if (isFunctionNode(node)) instrumentFunction(node);
  }

  function instrumentFunction(fn: FunctionNode): void {
    if (fn.generator) return;
    const isAsync = asyncFns.has(fn);
    if (isAsync && !fn.async) {
      const parent = index.parentOf(fn);
      if (parent?.type === 'MethodDefinition') {
        const at = parent.computed
          ? previousSignificant(source, comments, parent.key.start)
          : parent.key.start;
        add(parent, at, 'async ', false, 4);
      } else if (parent?.type === 'Property' && parent.method) {
        add(parent, parent.start, 'async ', false, 4);
      } else {
        add(fn, fn.start, 'async ', false, 4);
      }
    }
    const enter = isAsync ? ENTER_ASYNC : ENTER;
    const exit = isAsync ? EXIT_ASYNC : EXIT;
    const body = fn.body;
    if (body.type === 'BlockStatement') {
      // Directives ("use strict") must stay first to stay directives.
      let lastDirective: AnyNode | undefined;
      for (const statement of body.body) {
        if (statement.type === 'ExpressionStatement' && statement.directive !== undefined)
          lastDirective = statement;
        else break;
      }
      const at = lastDirective ? lastDirective.end : body.start + 1;
      const separator = lastDirective && source[lastDirective.end - 1] !== ';' ? '; ' : '';
      add(body, at, `${separator}${enter}try { `, false, 2);
      add(body, body.end - 1, exit, true, 2);
    } else {
      const arrow = fn as ArrowFunctionExpression;
      const at = arrowTokenStart(source, comments, arrow) + 2;
      add(fn, at, `{ ${enter}try { return (`, false, 2);
      add(fn, fn.end, `)${exit} }`, true, 2);
    }
  }

  edits.sort(compareEdits);
  let script = '';
  let copied = 0;
  for (const edit of edits) {
    script += source.slice(copied, edit.pos) + edit.text;
    copied = edit.pos;
  }
  return script + source.slice(copied);
}

/** Names a top-level statement binds: declarations, and assignments to plain names. */
function boundNames(statement: AnyNode): string[] {
  const names: string[] = [];
  const fromExpression = (expression: AnyNode): void => {
    if (expression.type === 'AssignmentExpression') {
      names.push(...patternNames(expression.left));
      fromExpression(expression.right);
    } else if (expression.type === 'UpdateExpression' && expression.argument.type === 'Identifier') {
      names.push(expression.argument.name);
    } else if (expression.type === 'SequenceExpression') {
      for (const item of expression.expressions) fromExpression(item);
    }
  };
  if (statement.type === 'VariableDeclaration') {
    for (const declarator of statement.declarations) names.push(...patternNames(declarator.id));
  } else if (statement.type === 'ExpressionStatement') {
    fromExpression(statement.expression);
  }
  return [...new Set(names)];
}
