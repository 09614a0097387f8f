import { Linter } from 'eslint';
import { describe, expect, it } from 'vitest';
import { analyzeProgram } from '../../main/engine/programs/analyzeProgram.ts';

/**
 * ESLint's own numbers for a program: the top level wrapped as `async function __program() { … }`
 * (so top-level await and return stay legal), every function, class field initializer and static
 * block reported by `complexity: ['error', 0]`.
 */
function eslintComplexities(code: string): {
  program: number;
  functions: { line: number; complexity: number }[];
} {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(`async function __program() {\n${code}\n}`, [
    { languageOptions: { ecmaVersion: 'latest', sourceType: 'script' }, rules: { complexity: ['error', 0] } },
  ]);
  const fatal = messages.find((message) => message.fatal);
  if (fatal) throw new Error(`ESLint could not parse the test program: ${fatal.message}`);
  let program: number | undefined;
  const functions: { line: number; complexity: number }[] = [];
  for (const message of messages) {
    const match = /has a complexity of (\d+)\./.exec(message.message);
    if (!match) throw new Error(`Unexpected ESLint message: ${message.message}`);
    const complexity = Number(match[1]);
    if (message.message.startsWith("Async function '__program'")) program = complexity;
    else functions.push({ line: message.line - 1, complexity });
  }
  if (program === undefined) throw new Error('ESLint did not report the program wrapper.');
  return { program, functions };
}

const byLine = (a: { line: number; complexity: number }, b: { line: number; complexity: number }): number =>
  a.line - b.line || a.complexity - b.complexity;

const PROGRAMS: Record<string, string> = {
  'PyRAG bridge (await)': `const docs1 = await retrieve("composer of The Planets");
const composer = await answer("Who composed The Planets?", docs1);
const docs2 = await retrieve(\`\${composer} birthplace city\`);
const city = await answer(\`In which city was \${composer} born?\`, docs2);
return await answer(\`Given: \${composer} was born in \${city}. Answer the question: In which city was the composer of "The Planets" born?\`);`,

  'PyRAG comparison (Promise.all)': `const [danubeDocs, rhineDocs] = await Promise.all([retrieve("Danube length"), retrieve("Rhine length")]);
const [danube, rhine] = await Promise.all([
  answer("How long is the Danube?", danubeDocs),
  answer("How long is the Rhine?", rhineDocs),
]);
return await answer(\`Given: The Danube is \${danube} long. The Rhine is \${rhine} long. Answer the question: Which river is longer?\`);`,

  'plain calls with a fallback': `const docs = retrieve("Eiffel Tower completion");
let year = answer("When was the Eiffel Tower completed?", docs);
if (year === "unknown" || !year) {
  year = answer("When was the Eiffel Tower completed?", retrieve("Eiffel Tower history"));
}
return year ?? "unknown";`,

  'loops of every kind': `const found = [];
for (let i = 0; i < 3; i++) found.push(i);
for (const q of ["a", "b"]) { found.push(await answer(q, await retrieve(q))); }
for (const key in { a: 1 }) found.push(key);
let n = 0;
while (n < 2) n++;
do { n--; } while (n > 0 && found.length);
return found.join(", ");`,

  'try/catch/finally': `let result;
try {
  result = await answer("q", await retrieve("q"));
} catch (error) {
  result = error instanceof Error ? error.message : "failed";
} finally {
  result ||= "unknown";
}
return result;`,

  'switch with default': `const kind = await answer("What kind?", await retrieve("kind"));
let label;
switch (kind) {
  case "river":
  case "lake":
    label = "water";
    break;
  case "mountain":
    label = "land";
    break;
  default:
    label = "other";
}
return label;`,

  'ternaries and logical operators': `const a = await answer("a");
const b = a ? (a.length > 3 ? "long" : "short") : null;
const c = (a && b) || (a ?? "none");
let d = null;
d ??= c;
d &&= d.trim();
return b ? c : d;`,

  'optional chaining': `const docs = await retrieve("x");
const title = docs?.[0]?.title;
const first = docs.at?.(0)?.text?.slice(0, 10);
const len = docs?.length;
return title ?? first ?? String(len);`,

  'default parameters and destructuring defaults': `function ask(question, docs = [], { k = 5, strict = false } = {}) {
  return answer(question, docs.slice(0, k), strict);
}
const [x = 1, { y = 2 } = {}] = [];
return ask("q", undefined, { k: x + y });`,

  'nested functions': `function outer(items) {
  function inner(item) {
    if (item.score > 0.5) return item.title;
    return item.text && item.text.slice(0, 20);
  }
  const mapped = items.map(inner);
  return mapped.length ? mapped : null;
}
const docs = await retrieve("nested");
return outer(docs) || "none";`,

  'arrows with and without bodies': `const pick = (docs) => docs.filter((d) => d.score > 0.2 || d.title.includes("x"));
const summarize = async (q) => {
  const docs = pick(await retrieve(q));
  return docs.length > 0 ? answer(q, docs) : "unknown";
};
const answers = await Promise.all(["a", "b"].map((q) => summarize(q)));
return answers.find((a) => a !== "unknown") ?? answers[0];`,

  'async function declarations': `async function hop(question, query) {
  const docs = await retrieve(query);
  const result = await answer(question, docs);
  if (result === "unknown") {
    return await answer(question, await retrieve(question));
  }
  return result;
}
const director = await hop("Who directed Jaws?", "Jaws director");
const born = await hop(\`When was \${director} born?\`, \`\${director} birth date\`);
return await answer(\`Given: \${director}, born \${born}. Answer the question: When was the director of Jaws born?\`);`,

  recursion: `function depth(n) {
  if (n <= 1) return 1;
  return 1 + depth(n - 1);
}
const factorial = function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); };
return depth(4) + factorial(3);`,

  'object methods and getters': `const helper = {
  count: 0,
  ask(q) { this.count++; return answer(q, this.docs || []); },
  get size() { return this.count > 0 ? this.count : 0; },
  set size(v) { this.count = v ?? 0; },
};
return helper.ask("q");`,

  'classes with fields and static blocks': `class Cache {
  static instances = 0;
  store = new Map();
  limit = globalThis.limit ?? 10;
  static { Cache.instances = Cache.instances || 1; }
  constructor(prefix = "") { this.prefix = prefix; }
  get(key) { return this.store.get(this.prefix + key) ?? null; }
  set(key, value) { if (this.store.size < this.limit) this.store.set(this.prefix + key, value); }
}
const cache = new Cache();
cache.set("a", await answer("a"));
return cache.get("a");`,

  'labelled loops with continue and break': `const docs = await retrieve("labels");
let hits = 0;
outer: for (const doc of docs) {
  for (const word of doc.text.split(" ")) {
    if (word === "stop") break outer;
    if (!word) continue;
    hits += word.length > 3 ? 1 : 0;
  }
}
return String(hits);`,

  'callbacks in reduce, sort and some': `const docs = await retrieve("callbacks");
const total = docs.reduce((sum, d) => sum + (d.score || 0), 0);
const sorted = [...docs].sort((a, b) => b.score - a.score || a.title.localeCompare(b.title));
const any = docs.some(({ title = "" }) => title.startsWith("A"));
return any ? sorted[0]?.title : String(total);`,

  'IIFE and generator': `function* ids(n) { for (let i = 0; i < n; i++) yield i % 2 ? i : -i; }
const list = [...ids(4)];
return (async () => {
  const docs = await retrieve(String(list.length));
  return docs.length ? await answer("q", docs) : "unknown";
})();`,

  'straight-line with no decisions': `const docs = await retrieve("Paris");
return await answer("What is the capital of France?", docs);`,
};

describe('analyzeProgram complexity matches ESLint', () => {
  it('covers at least 15 programs', () => {
    expect(Object.keys(PROGRAMS).length).toBeGreaterThanOrEqual(15);
  });

  for (const [name, code] of Object.entries(PROGRAMS)) {
    it(name, () => {
      const expected = eslintComplexities(code);
      const analysis = analyzeProgram(code);
      expect(analysis.cyclomaticComplexity).toBe(expected.program);
      const ours = analysis.functions.map(({ line, complexity }) => ({ line, complexity }));
      expect([...ours].sort(byLine)).toEqual([...expected.functions].sort(byLine));
      expect(analysis.maxFunctionComplexity).toBe(
        Math.max(0, ...expected.functions.map((f) => f.complexity)),
      );
    });
  }
});

describe('analyzeProgram', () => {
  it('counts the program as one function of its own decision points (a worked example)', () => {
    const analysis = analyzeProgram(
      [
        'const docs = await retrieve("q");', // no decision
        'const a = docs.length > 0 ? answer("q", docs) : "unknown";', // ternary: +1
        'if (a === "unknown" || !a) return null;', // if +1, || +1
        'const pick = (d) => d?.title ?? "";', // arrow: its own 1 + ?. + ?? = 3
        'return a;',
      ].join('\n'),
    );
    expect(analysis.cyclomaticComplexity).toBe(4);
    expect(analysis.functions).toEqual([{ name: 'pick', line: 4, complexity: 3 }]);
    expect(analysis.maxFunctionComplexity).toBe(3);
    expect(analysis.hasTopLevelReturn).toBe(true);
  });

  it('profiles node types (ICRAG signature)', () => {
    const analysis = analyzeProgram('const d = await retrieve("q");\nreturn answer("q", d);');
    expect(analysis.nodeTypeProfile).toEqual({
      Program: 1,
      VariableDeclaration: 1,
      VariableDeclarator: 1,
      Identifier: 4, // d, retrieve, answer, d
      AwaitExpression: 1,
      CallExpression: 2,
      Literal: 2,
      ReturnStatement: 1,
    });
  });

  it('counts code lines, skipping blank and comment-only lines', () => {
    const code = [
      '// find the composer',
      'const docs = await retrieve("q"); // trailing comment',
      '',
      '/* a block',
      '   comment */',
      'const s = "// not a comment";',
      '   ',
      'return answer("q", /* inline */ docs);',
    ].join('\n');
    expect(analyzeProgram(code).lines).toBe(3);
  });

  it('counts host call sites, not shadowed names', () => {
    const code = [
      'const a = await answer("q", await retrieve("x"));',
      'const b = await Promise.all([retrieve("y"), retrieve("z")]);',
      'function local(answer) { return answer("not the host"); }',
      '{ const retrieve = () => []; retrieve(); }',
      'return local((q) => q);',
    ].join('\n');
    expect(analyzeProgram(code).hostCallSites).toEqual({ retrieve: 3, answer: 1 });
  });

  it('reports whether the top level returns', () => {
    expect(analyzeProgram('function f() { return 1; }\nf();').hasTopLevelReturn).toBe(false);
    expect(analyzeProgram('if (x) { return 1; }').hasTopLevelReturn).toBe(true);
  });

  it('measures static nesting (else-if does not nest deeper)', () => {
    expect(analyzeProgram('const a = 1;').maxStaticNesting).toBe(0);
    expect(analyzeProgram('if (a) {} else if (b) {} else if (c) { x(); }').maxStaticNesting).toBe(1);
    expect(analyzeProgram('for (;;) { if (a) { function f() { while (b) {} } } }').maxStaticNesting).toBe(4);
  });

  it('names functions the way a reader would', () => {
    const code = [
      'function declared() {}',
      'const arrow = () => 1;',
      'let expr = function () {};',
      'obj.method = function () {};',
      'const o = { key() {}, other: () => 2 };',
      '[1].map((x) => x);',
    ].join('\n');
    expect(analyzeProgram(code).functions.map((f) => f.name)).toEqual([
      'declared',
      'arrow',
      'expr',
      'method',
      'key',
      'other',
      'anonymous',
    ]);
  });

  it('throws acorn’s SyntaxError with a location for code that does not parse', () => {
    expect(() => analyzeProgram('const = 1;')).toThrow(SyntaxError);
  });
});
