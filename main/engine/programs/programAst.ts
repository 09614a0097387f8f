/**
 * Shared plumbing for reading model-written programs: the one acorn configuration every step uses,
 * a generic child walk (so no ESTree node type is ever skipped), parent/depth bookkeeping, a small
 * lexical scope resolver (so a user's own `function answer()` is not mistaken for the host tool),
 * and helpers that find tokens the AST does not record (`=>`, trailing commas) by skipping
 * whitespace and comments.
 */
import { parse } from 'acorn';
import type {
  AnyNode,
  ArrowFunctionExpression,
  CallExpression,
  Comment,
  FunctionDeclaration,
  FunctionExpression,
  Options,
  Pattern,
  Program,
} from 'acorn';

/**
 * How every program is parsed: a classic script (not a module) in the newest syntax, with
 * top-level `await` and `return` allowed because the program body becomes an async function.
 */
export const PROGRAM_PARSE_OPTIONS = {
  ecmaVersion: 'latest',
  sourceType: 'script',
  allowAwaitOutsideFunction: true,
  allowReturnOutsideFunction: true,
  locations: true,
} as const satisfies Options;

/** Any function: declaration, expression (methods included) or arrow. */
export type FunctionNode = FunctionDeclaration | FunctionExpression | ArrowFunctionExpression;

/** A parsed program and its comments (needed to count code lines and to skip comments between tokens). */
export interface ParsedProgram {
  ast: Program;
  /** Comments in source order. */
  comments: Comment[];
}

/** Parses with PROGRAM_PARSE_OPTIONS; throws acorn's SyntaxError (with `loc`) on bad input. */
export function parseProgramSource(code: string): ParsedProgram {
  const comments: Comment[] = [];
  const ast = parse(code, { ...PROGRAM_PARSE_OPTIONS, onComment: comments });
  return { ast, comments };
}

/** True when the code parses under PROGRAM_PARSE_OPTIONS. */
export function programParses(code: string): boolean {
  try {
    parse(code, PROGRAM_PARSE_OPTIONS);
    return true;
  } catch {
    return false;
  }
}

/** The shape of acorn's SyntaxError. */
export interface AcornSyntaxError extends SyntaxError {
  pos: number;
  loc: { line: number; column: number };
}

/** Whether a thrown value is acorn's SyntaxError (it has `pos` and a 1-based line, 0-based column `loc`). */
export function isAcornSyntaxError(error: unknown): error is AcornSyntaxError {
  return (
    error instanceof SyntaxError &&
    typeof (error as Partial<AcornSyntaxError>).pos === 'number' &&
    typeof (error as Partial<AcornSyntaxError>).loc === 'object'
  );
}

function isNode(value: unknown): value is AnyNode {
  return (
    typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string'
  );
}

/** Keys that never hold child nodes. */
const NON_CHILD_KEYS = new Set(['type', 'start', 'end', 'loc', 'range', 'regex', 'value', 'raw']);

/**
 * Calls `visit` for every direct child node, whatever its type, in source order. `Literal.value`
 * and `TemplateElement.value` are skipped because they are never nodes.
 */
export function forEachChild(node: AnyNode, visit: (child: AnyNode, key: string) => void): void {
  const children: { child: AnyNode; key: string }[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (NON_CHILD_KEYS.has(key) && !(key === 'value' && isNode(value))) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (isNode(item)) children.push({ child: item, key });
    } else if (isNode(value)) {
      children.push({ child: value, key });
    }
  }
  children.sort((a, b) => a.child.start - b.child.start);
  for (const { child, key } of children) visit(child, key);
}

/** Where a node sits in its tree. */
export interface NodeInfo {
  parent: AnyNode | undefined;
  /** The property of the parent that holds this node (`body`, `params`, `callee`, …). */
  key: string;
  /** 0 for the Program. */
  depth: number;
}

/** Every node of a tree in pre-order, with its parent, parent key and depth. */
export class NodeIndex {
  readonly nodes: AnyNode[] = [];
  private readonly info = new Map<AnyNode, NodeInfo>();

  constructor(root: AnyNode) {
    const stack: { node: AnyNode; info: NodeInfo }[] = [
      { node: root, info: { parent: undefined, key: '', depth: 0 } },
    ];
    while (stack.length > 0) {
      const { node, info } = stack.pop()!;
      this.nodes.push(node);
      this.info.set(node, info);
      const children: { node: AnyNode; info: NodeInfo }[] = [];
      forEachChild(node, (child, key) =>
        children.push({ node: child, info: { parent: node, key, depth: info.depth + 1 } }),
      );
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }

  parentOf(node: AnyNode): AnyNode | undefined {
    return this.info.get(node)?.parent;
  }

  keyOf(node: AnyNode): string {
    return this.info.get(node)?.key ?? '';
  }

  depthOf(node: AnyNode): number {
    return this.info.get(node)?.depth ?? 0;
  }
}

/** Whether a node is a function (declaration, expression or arrow). */
export function isFunctionNode(node: AnyNode): node is FunctionNode {
  return (
    node.type === 'FunctionDeclaration' ||
    node.type === 'FunctionExpression' ||
    node.type === 'ArrowFunctionExpression'
  );
}

/** Identifiers a binding pattern declares, in source order (`{ a, b: [c, d = 1], ...e }` → a, c, d, e). */
export function patternNames(pattern: Pattern | AnyNode): string[] {
  switch (pattern.type) {
    case 'Identifier':
      return [pattern.name];
    case 'ObjectPattern':
      return pattern.properties.flatMap((property) =>
        property.type === 'RestElement' ? patternNames(property.argument) : patternNames(property.value),
      );
    case 'ArrayPattern':
      return pattern.elements.flatMap((element) => (element ? patternNames(element) : []));
    case 'RestElement':
      return patternNames(pattern.argument);
    case 'AssignmentPattern':
      return patternNames(pattern.left);
    default:
      // MemberExpression targets of destructuring assignments bind no name.
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Scopes

interface Scope {
  kind: 'function' | 'block';
  parent: Scope | undefined;
  /** Declared names; the value is the function the name is bound to, when it is one. */
  names: Map<string, FunctionNode | undefined>;
}

/** What an identifier refers to. */
export type Resolution = { kind: 'global' } | { kind: 'local'; fn: FunctionNode | undefined };

/**
 * Lexical scopes of a program, enough to tell a global (a host tool) from a local binding and to
 * find the function a local name is bound to (`function f() {}`, `const f = () => …`). Hoisting is
 * modelled (`var` to the function, `let`/`const`/`class`/function declarations to the block);
 * `eval` and `with` are not.
 */
export class ScopeMap {
  private readonly scopeAt = new Map<AnyNode, Scope>();

  constructor(ast: Program) {
    const top: Scope = { kind: 'function', parent: undefined, names: new Map() };
    const functionScopeOf = (scope: Scope): Scope => {
      let current = scope;
      while (current.kind !== 'function' && current.parent) current = current.parent;
      return current;
    };
    const visit = (node: AnyNode, scope: Scope): void => {
      this.scopeAt.set(node, scope);
      let inner = scope;
      if (isFunctionNode(node)) {
        inner = { kind: 'function', parent: scope, names: new Map() };
        if (node.type === 'FunctionDeclaration' && node.id) scope.names.set(node.id.name, node);
        if (node.type === 'FunctionExpression' && node.id) inner.names.set(node.id.name, node);
        for (const param of node.params)
          for (const name of patternNames(param)) inner.names.set(name, undefined);
        this.scopeAt.set(node, inner);
        for (const param of node.params) visit(param, inner);
        if (node.body.type === 'BlockStatement') {
          // The body block shares the function's scope.
          this.scopeAt.set(node.body, inner);
          forEachChild(node.body, (child) => visit(child, inner));
        } else {
          visit(node.body, inner);
        }
        return;
      }
      switch (node.type) {
        case 'BlockStatement':
        case 'StaticBlock':
        case 'SwitchStatement':
        case 'ForStatement':
        case 'ForInStatement':
        case 'ForOfStatement':
          inner = { kind: 'block', parent: scope, names: new Map() };
          break;
        case 'CatchClause':
          inner = { kind: 'block', parent: scope, names: new Map() };
          if (node.param) for (const name of patternNames(node.param)) inner.names.set(name, undefined);
          break;
        case 'VariableDeclaration': {
          const target = node.kind === 'var' ? functionScopeOf(scope) : scope;
          for (const declarator of node.declarations) {
            const init = declarator.init;
            const fn = declarator.id.type === 'Identifier' && init && isFunctionNode(init) ? init : undefined;
            for (const name of patternNames(declarator.id)) target.names.set(name, fn);
          }
          break;
        }
        case 'ClassDeclaration':
          if (node.id) scope.names.set(node.id.name, undefined);
          break;
        default:
          break;
      }
      forEachChild(node, (child) => visit(child, inner));
    };
    visit(ast, top);
  }

  /** Resolves `name` as seen from `node`. */
  resolve(name: string, node: AnyNode): Resolution {
    for (let scope = this.scopeAt.get(node); scope; scope = scope.parent) {
      if (scope.names.has(name)) return { kind: 'local', fn: scope.names.get(name) };
    }
    return { kind: 'global' };
  }
}

/** The host tool a call invokes, when its callee is a global (not shadowed) host function name. */
export function hostCallName(
  call: CallExpression,
  scopes: ScopeMap,
  hostFunctions: readonly string[],
): string | undefined {
  const callee = call.callee;
  if (callee.type !== 'Identifier' || !hostFunctions.includes(callee.name)) return undefined;
  return scopes.resolve(callee.name, call).kind === 'global' ? callee.name : undefined;
}

// ---------------------------------------------------------------------------------------------
// Tokens the AST does not record

/** Finds comment ranges quickly. */
export class CommentRanges {
  private readonly starts: number[];
  private readonly ends: number[];

  constructor(comments: readonly Comment[]) {
    const sorted = [...comments].sort((a, b) => a.start - b.start);
    this.starts = sorted.map((comment) => comment.start);
    this.ends = sorted.map((comment) => comment.end);
  }

  /** The comment containing offset `pos`, as [start, end), or undefined. */
  at(pos: number): [number, number] | undefined {
    let low = 0;
    let high = this.starts.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const start = this.starts[mid]!;
      const end = this.ends[mid]!;
      if (pos < start) high = mid - 1;
      else if (pos >= end) low = mid + 1;
      else return [start, end];
    }
    return undefined;
  }
}

const WHITESPACE = /\s/;

/**
 * Offset of the last character before `pos` that is neither whitespace, a comment, nor one of
 * `skip`; -1 when there is none.
 */
export function previousSignificant(source: string, comments: CommentRanges, pos: number, skip = ''): number {
  let i = pos - 1;
  while (i >= 0) {
    const ch = source[i]!;
    const comment = comments.at(i);
    if (comment) i = comment[0] - 1;
    else if (WHITESPACE.test(ch) || skip.includes(ch)) i--;
    else return i;
  }
  return -1;
}

/** Offset of the `=>` of an arrow function (the `=`). */
export function arrowTokenStart(
  source: string,
  comments: CommentRanges,
  arrow: ArrowFunctionExpression,
): number {
  // Between `=>` and the body there can only be whitespace, comments and the body's own `(`s.
  const gt = previousSignificant(source, comments, arrow.body.start, '(');
  return gt - 1;
}
