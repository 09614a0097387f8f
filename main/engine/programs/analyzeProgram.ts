/**
 * Static analysis of a model-written program, without running it: McCabe complexity counted the
 * way ESLint's `complexity` rule counts it (tests check the two agree), the AST node-type profile
 * ICRAG uses as a program's "signature", code lines, host-call sites and nesting.
 */
import type { AnyNode, Comment, Program } from 'acorn';
import {
  CommentRanges,
  NodeIndex,
  ScopeMap,
  arrowTokenStart,
  forEachChild,
  hostCallName,
  isFunctionNode,
  parseProgramSource,
  type FunctionNode,
} from './programAst.ts';

/** One function's McCabe complexity, as ESLint's `complexity` rule would report it. */
export interface FunctionComplexity {
  /** Declared or inferred name (`const f = () => …` → "f"); "anonymous" when there is none. */
  name: string;
  /** 1-based line where ESLint reports the function: its start, its `=>` for an arrow, its key for a method. */
  line: number;
  /** Decision points of this function's own body (nested functions excluded) + 1. */
  complexity: number;
}

/** Static facts about a program, computed without running it (see analyzeProgram). */
export interface ProgramAnalysis {
  /** McCabe complexity of the top-level code treated as one function: its own decision points + 1. */
  cyclomaticComplexity: number;
  /** Every function, class field initializer and class static block, in source order. */
  functions: FunctionComplexity[];
  /** Highest complexity in `functions`; 0 when the program defines none. */
  maxFunctionComplexity: number;
  /** How many nodes of each ESTree type the program has (ICRAG's signature), Program included. */
  nodeTypeProfile: Record<string, number>;
  /** Lines with code on them: not blank and not only comment. */
  lines: number;
  /**
   * Call sites (not executions) of each host tool, counting only unshadowed global names; every
   * tool of the analysis appears, with 0 when the program never calls it.
   */
  hostCallSites: Record<string, number>;
  /** Whether the top-level code has a `return` (the program's result). */
  hasTopLevelReturn: boolean;
  /**
   * Deepest static nesting of functions and control structures (if, loops, switch, try, with); an
   * `else if` does not nest deeper, as in ESLint's `max-depth`. 0 for straight-line code.
   */
  maxStaticNesting: number;
}

/** Host tool names counted in `hostCallSites` unless the caller names others: PyRAG's two. */
export const DEFAULT_ANALYZED_HOST_TOOLS: readonly string[] = Object.freeze(['retrieve', 'answer']);

const LOGICAL_ASSIGNMENT = new Set(['&&=', '||=', '??=']);

/**
 * Whether a node is a decision point in ESLint's classic `complexity` variant: if, ternary,
 * `&&`/`||`/`??`, logical assignment, loops, catch, a `case` with a test, a default value, and each
 * optional `?.` member access or call.
 */
function isDecisionPoint(node: AnyNode): boolean {
  switch (node.type) {
    case 'CatchClause':
    case 'ConditionalExpression':
    case 'LogicalExpression':
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement':
    case 'IfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'AssignmentPattern':
      return true;
    case 'SwitchCase':
      return node.test !== null && node.test !== undefined;
    case 'AssignmentExpression':
      return LOGICAL_ASSIGNMENT.has(node.operator);
    case 'MemberExpression':
    case 'CallExpression':
      return node.optional === true;
    default:
      return false;
  }
}

function nestsDeeper(node: AnyNode, index: NodeIndex): boolean {
  switch (node.type) {
    case 'IfStatement': {
      const parent = index.parentOf(node);
      return !(parent?.type === 'IfStatement' && parent.alternate === node);
    }
    case 'ForStatement':
    case 'ForInStatement':
    case 'ForOfStatement':
    case 'WhileStatement':
    case 'DoWhileStatement':
    case 'SwitchStatement':
    case 'TryStatement':
    case 'WithStatement':
    case 'FunctionDeclaration':
    case 'FunctionExpression':
    case 'ArrowFunctionExpression':
      return true;
    default:
      return false;
  }
}

function keyName(key: AnyNode): string | undefined {
  if (key.type === 'Identifier') return key.name;
  if (key.type === 'PrivateIdentifier') return `#${key.name}`;
  if (key.type === 'Literal' && (typeof key.value === 'string' || typeof key.value === 'number'))
    return String(key.value);
  return undefined;
}

function functionName(fn: FunctionNode, index: NodeIndex): string {
  if (fn.type !== 'ArrowFunctionExpression' && fn.id) return fn.id.name;
  const parent = index.parentOf(fn);
  switch (parent?.type) {
    case 'VariableDeclarator':
      if (parent.id.type === 'Identifier') return parent.id.name;
      break;
    case 'AssignmentExpression':
      if (parent.left.type === 'Identifier') return parent.left.name;
      if (parent.left.type === 'MemberExpression' && !parent.left.computed)
        return keyName(parent.left.property) ?? 'anonymous';
      break;
    case 'Property':
    case 'MethodDefinition':
    case 'PropertyDefinition':
      if (!parent.computed) return keyName(parent.key) ?? 'anonymous';
      break;
    default:
      break;
  }
  return 'anonymous';
}

/** The line ESLint reports a function on (`getFunctionHeadLoc`). */
function functionLine(
  fn: FunctionNode,
  index: NodeIndex,
  source: string,
  comments: CommentRanges,
  lineOf: (pos: number) => number,
): number {
  const parent = index.parentOf(fn);
  if (
    parent &&
    (parent.type === 'Property' || parent.type === 'MethodDefinition' || parent.type === 'PropertyDefinition')
  ) {
    return lineOf(parent.start);
  }
  if (fn.type === 'ArrowFunctionExpression') return lineOf(arrowTokenStart(source, comments, fn));
  return lineOf(fn.start);
}

/** Maps offsets to 1-based lines. */
export function lineLocator(source: string): (pos: number) => number {
  const starts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === '\n') starts.push(i + 1);
  return (pos) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= pos) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

function countCodeLines(source: string, comments: readonly Comment[]): number {
  const inComment = new Uint8Array(source.length);
  for (const comment of comments) inComment.fill(1, comment.start, comment.end);
  let lines = 0;
  let hasCode = false;
  for (let i = 0; i <= source.length; i++) {
    const ch = source[i];
    if (ch === undefined || ch === '\n') {
      if (hasCode) lines++;
      hasCode = false;
    } else if (!inComment[i] && !/\s/.test(ch)) {
      hasCode = true;
    }
  }
  return lines;
}

interface Owner {
  kind: 'program' | 'function' | 'other';
  entry: FunctionComplexity | undefined;
  complexity: number;
}

/**
 * Analysis of an already parsed program (prepareProgram uses it to avoid parsing twice).
 * `source` must be the exact text that was parsed.
 */
export function analyzeParsedProgram(
  source: string,
  parsed: { ast: Program; comments: Comment[] },
  shared?: { index?: NodeIndex; scopes?: ScopeMap; hostTools?: readonly string[] },
): ProgramAnalysis {
  const hostTools = shared?.hostTools ?? DEFAULT_ANALYZED_HOST_TOOLS;
  const { ast, comments } = parsed;
  const index = shared?.index ?? new NodeIndex(ast);
  const scopes = shared?.scopes ?? new ScopeMap(ast);
  const commentRanges = new CommentRanges(comments);
  const lineOf = lineLocator(source);

  const nodeTypeProfile: Record<string, number> = {};
  const hostCallSites: Record<string, number> = Object.fromEntries(hostTools.map((tool) => [tool, 0]));
  const functions: { start: number; entry: FunctionComplexity }[] = [];
  let hasTopLevelReturn = false;
  let maxStaticNesting = 0;
  const program: Owner = { kind: 'program', entry: undefined, complexity: 1 };

  const visit = (node: AnyNode, owners: Owner[], nesting: number): void => {
    nodeTypeProfile[node.type] = (nodeTypeProfile[node.type] ?? 0) + 1;
    const pushed: Owner[] = [];
    const open = (kind: Owner['kind'], name: string, line: number, start: number): void => {
      const entry: FunctionComplexity = { name, line, complexity: 1 };
      functions.push({ start, entry });
      pushed.push({ kind, entry, complexity: 1 });
    };
    // Class field initializers and static blocks are code paths of their own in ESLint.
    if (index.parentOf(node)?.type === 'PropertyDefinition' && index.keyOf(node) === 'value') {
      open('other', 'class field initializer', lineOf(node.start), node.start);
    }
    if (node.type === 'StaticBlock') open('other', 'class static block', lineOf(node.start), node.start);
    if (isFunctionNode(node)) {
      open(
        'function',
        functionName(node, index),
        functionLine(node, index, source, commentRanges, lineOf),
        node.start,
      );
    }
    const scope = [...owners, ...pushed];
    const owner = scope[scope.length - 1]!;
    if (isDecisionPoint(node)) owner.complexity++;
    if (node.type === 'ReturnStatement' && owner.kind === 'program') hasTopLevelReturn = true;
    if (node.type === 'CallExpression') {
      const host = hostCallName(node, scopes, hostTools);
      if (host !== undefined) hostCallSites[host] = (hostCallSites[host] ?? 0) + 1;
    }
    const depth = nestsDeeper(node, index) ? nesting + 1 : nesting;
    maxStaticNesting = Math.max(maxStaticNesting, depth);
    forEachChild(node, (child) => visit(child, scope, depth));
    for (const finished of pushed) finished.entry!.complexity = finished.complexity;
  };
  visit(ast, [program], 0);

  functions.sort((a, b) => a.start - b.start);
  const entries = functions.map((f) => f.entry);
  return {
    cyclomaticComplexity: program.complexity,
    functions: entries,
    maxFunctionComplexity: entries.reduce((max, f) => Math.max(max, f.complexity), 0),
    nodeTypeProfile,
    lines: countCodeLines(source, comments),
    hostCallSites,
    hasTopLevelReturn,
    maxStaticNesting,
  };
}

/**
 * Analyzes a program without running it: complexity of the top level and of each function
 * (ESLint's classic `complexity` rule, nested functions counted separately), node-type profile,
 * code lines, host-call sites (`hostTools`, default retrieve/answer, not shadowed by a local name), whether the top
 * level returns, and the deepest static nesting. The code is parsed as is (run it through
 * normalizeProgramText first for model output); throws acorn's SyntaxError, with `loc`, when it
 * does not parse — prepareProgram reports the same failure as a value instead.
 */
export function analyzeProgram(
  code: string,
  options: { hostTools?: readonly string[] } = {},
): ProgramAnalysis {
  return analyzeParsedProgram(code, parseProgramSource(code), options);
}
