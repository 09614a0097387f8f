/**
 * Chain-of-Code's "LMulator" hook, done before execution: a program may call helper functions it
 * never defines (`is_sarcastic(sentence)`, `capital_of(country)`) and read names it never declares,
 * and the model is to supply their values. QuickJS cannot resume after a ReferenceError, so instead
 * of catching it, every such call and read is found in the AST (a global that is neither declared
 * by the program, a sandbox global, nor a host tool) and rewritten into a call of the simulation
 * host tool: `f(a, b)` → `simulate("f", [a, b])`, a read of `x` → `simulate("x", null)`. The rewrite
 * only replaces and inserts text on the same lines, so line numbers, the trace and the
 * instrumentation's auto-await (the simulation tool is a host tool) all work unchanged.
 *
 * Left alone (and reported by the sandbox as a ReferenceError, which the program loop feeds back for
 * a repair): `new F()` of an undefined class, tagged templates, optional calls (`f?.()`), and names
 * used as assignment targets (a sloppy-mode assignment creates the global, so it is not undefined).
 */
import type { AnyNode, CallExpression, Identifier } from 'acorn';
import {
  NodeIndex,
  ScopeMap,
  isAcornSyntaxError,
  isFunctionNode,
  parseProgramSource,
  patternNames,
  type ParsedProgram,
} from '../../programs/programAst.ts';
import type { SandboxFailure } from '../../sandbox/SandboxTypes.ts';

/** The host tool undefined calls are routed to. */
export const SIMULATE_TOOL = 'simulate';

/**
 * The globals a program finds in the sandbox (QuickJS's intrinsics and `console`), which are never
 * simulated. A test checks this list against the sandbox's own globalThis.
 */
export const SANDBOX_GLOBALS: ReadonlySet<string> = new Set([
  'AggregateError',
  'Array',
  'ArrayBuffer',
  'BigInt',
  'BigInt64Array',
  'BigUint64Array',
  'Boolean',
  'DataView',
  'Date',
  'Error',
  'EvalError',
  'FinalizationRegistry',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'Function',
  'Infinity',
  'Int16Array',
  'Int32Array',
  'Int8Array',
  'InternalError',
  'Iterator',
  'JSON',
  'Map',
  'Math',
  'NaN',
  'Number',
  'Object',
  'Promise',
  'Proxy',
  'RangeError',
  'ReferenceError',
  'Reflect',
  'RegExp',
  'Set',
  'SharedArrayBuffer',
  'String',
  'Symbol',
  'SyntaxError',
  'TypeError',
  'URIError',
  'Uint16Array',
  'Uint32Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'WeakMap',
  'WeakRef',
  'WeakSet',
  'console',
  'decodeURI',
  'decodeURIComponent',
  'encodeURI',
  'encodeURIComponent',
  'escape',
  'eval',
  'globalThis',
  'isFinite',
  'isNaN',
  'parseFloat',
  'parseInt',
  'undefined',
  'unescape',
  // Not a global, but never declared: every non-arrow function has it.
  'arguments',
]);

/** One call or read routed to the simulator. */
export interface RoutedName {
  name: string;
  kind: 'call' | 'value';
  line: number;
}

export type RouteUndefinedCallsResult =
  | { ok: true; source: string; routed: RoutedName[] }
  | { ok: false; error: SandboxFailure };

export interface RouteUndefinedCallsOptions {
  /** Host tools the program may call (never simulated). Default: none besides SIMULATE_TOOL. */
  toolNames?: readonly string[];
  /** Also route reads of undeclared names (`x` → `simulate("x", null)`). Default: true. */
  values?: boolean;
}

/**
 * Rewrites calls of undefined functions (and, with `values`, reads of undeclared names) in `source`
 * into calls of SIMULATE_TOOL, keeping every line where it was. Returns the source unchanged when
 * nothing is undefined, and `{ok: false}` (kind 'SyntaxError', fed back like any syntax error) when
 * the program declares SIMULATE_TOOL itself. A program that does not parse is returned unchanged,
 * so that prepareProgram reports its syntax error as usual.
 */
export function routeUndefinedCalls(
  source: string,
  options: RouteUndefinedCallsOptions = {},
): RouteUndefinedCallsResult {
  let parsed: ParsedProgram;
  try {
    parsed = parseProgramSource(source);
  } catch (error) {
    if (isAcornSyntaxError(error)) return { ok: true, source, routed: [] };
    throw error;
  }
  const index = new NodeIndex(parsed.ast);
  const scopes = new ScopeMap(parsed.ast);
  const known = new Set([...SANDBOX_GLOBALS, ...(options.toolNames ?? []), SIMULATE_TOOL]);

  // Names the program declares or assigns anywhere (sloppy assignments create globals).
  const declared = new Set<string>();
  for (const node of index.nodes) {
    if (node.type === 'VariableDeclarator') patternNames(node.id).forEach((n) => declared.add(n));
    else if (isFunctionNode(node)) {
      if (node.type !== 'ArrowFunctionExpression' && node.id) declared.add(node.id.name);
      node.params.forEach((param) => patternNames(param).forEach((n) => declared.add(n)));
    } else if ((node.type === 'ClassDeclaration' || node.type === 'ClassExpression') && node.id)
      declared.add(node.id.name);
    else if (node.type === 'CatchClause' && node.param)
      patternNames(node.param).forEach((n) => declared.add(n));
    else if (node.type === 'AssignmentExpression') patternNames(node.left).forEach((n) => declared.add(n));
    else if (
      (node.type === 'ForInStatement' || node.type === 'ForOfStatement') &&
      node.left.type !== 'VariableDeclaration'
    )
      patternNames(node.left).forEach((n) => declared.add(n));
  }
  const simulateDeclared = index.nodes.find(
    (node): node is Identifier =>
      node.type === 'Identifier' && node.name === SIMULATE_TOOL && declared.has(node.name),
  );
  if (simulateDeclared) {
    return {
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'SyntaxError',
        message: `"${SIMULATE_TOOL}" is the name Reckon gives simulated helper calls; name your function differently.`,
        line: simulateDeclared.loc!.start.line,
        column: simulateDeclared.loc!.start.column + 1,
      },
    };
  }

  const isUndefined = (id: Identifier): boolean =>
    !known.has(id.name) && !declared.has(id.name) && scopes.resolve(id.name, id).kind === 'global';

  const edits: { pos: number; end: number; text: string }[] = [];
  const routed: RoutedName[] = [];
  for (const node of index.nodes) {
    if (node.type === 'CallExpression') {
      const call: CallExpression = node;
      if (call.callee.type !== 'Identifier' || call.optional || !isUndefined(call.callee)) continue;
      const name = call.callee.name;
      edits.push({ pos: call.callee.start, end: call.callee.end, text: SIMULATE_TOOL });
      const args = call.arguments;
      if (args.length === 0) {
        edits.push({ pos: call.end - 1, end: call.end - 1, text: `${JSON.stringify(name)}, []` });
      } else {
        edits.push({ pos: args[0]!.start, end: args[0]!.start, text: `${JSON.stringify(name)}, [` });
        edits.push({ pos: args.at(-1)!.end, end: args.at(-1)!.end, text: ']' });
      }
      routed.push({ name, kind: 'call', line: call.loc!.start.line });
      continue;
    }
    if (options.values === false || node.type !== 'Identifier' || !isUndefined(node)) continue;
    if (!isValueRead(node, index)) continue;
    const parent = index.parentOf(node);
    const call = `${SIMULATE_TOOL}(${JSON.stringify(node.name)}, null)`;
    const shorthand = parent?.type === 'Property' && parent.shorthand && index.keyOf(node) === 'value';
    edits.push({ pos: node.start, end: node.end, text: shorthand ? `${node.name}: ${call}` : call });
    routed.push({ name: node.name, kind: 'value', line: node.loc!.start.line });
  }
  if (edits.length === 0) return { ok: true, source, routed };

  // From the end backwards; at one position a replacement goes in before an insertion, so that the
  // insertion ("f", [) ends up in front of the replaced text (a nested call's name).
  edits.sort((a, b) => b.pos - a.pos || b.end - b.pos - (a.end - a.pos));
  let out = source;
  for (const edit of edits) out = out.slice(0, edit.pos) + edit.text + out.slice(edit.end);
  return { ok: true, source: out, routed: routed.sort((a, b) => a.line - b.line) };
}

/** Whether an Identifier is a read of a variable (not a property name, label, declaration, target…). */
function isValueRead(id: Identifier, index: NodeIndex): boolean {
  const parent = index.parentOf(id);
  const key = index.keyOf(id);
  if (!parent) return false;
  switch (parent.type) {
    case 'MemberExpression':
      return key === 'object' || parent.computed;
    case 'Property':
      return key === 'value' ? !isInPattern(parent, index) : parent.computed;
    case 'MethodDefinition':
    case 'PropertyDefinition':
      return key === 'value' || parent.computed;
    case 'LabeledStatement':
    case 'BreakStatement':
    case 'ContinueStatement':
    case 'MetaProperty':
      return false;
    case 'UnaryExpression':
      // `typeof x` is how a program asks whether x exists.
      return parent.operator !== 'typeof';
    case 'VariableDeclarator':
      return key === 'init';
    case 'AssignmentExpression':
      return key === 'right';
    case 'UpdateExpression':
      return false;
    case 'ForInStatement':
    case 'ForOfStatement':
      return key === 'right';
    case 'CallExpression':
    case 'NewExpression':
      // Callees are handled as calls (or left to the sandbox); arguments are reads.
      return key === 'arguments';
    case 'TaggedTemplateExpression':
      return key !== 'tag';
    default:
      // A function's name and parameters declare; an arrow's expression body reads.
      if (isFunctionNode(parent)) return key === 'body';
      return !isDeclarationSlot(parent, key);
  }
}

function isDeclarationSlot(parent: AnyNode, key: string): boolean {
  return (
    ((parent.type === 'ClassDeclaration' || parent.type === 'ClassExpression') && key === 'id') ||
    (parent.type === 'CatchClause' && key === 'param') ||
    parent.type === 'ArrayPattern' ||
    parent.type === 'ObjectPattern' ||
    parent.type === 'RestElement' ||
    (parent.type === 'AssignmentPattern' && key === 'left')
  );
}

/** Whether a Property belongs to a destructuring pattern (`({ a } = o)`, `const { a } = o`). */
function isInPattern(property: AnyNode, index: NodeIndex): boolean {
  return index.parentOf(property)?.type === 'ObjectPattern';
}
