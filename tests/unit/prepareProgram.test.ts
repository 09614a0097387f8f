import { createContext, runInContext } from 'node:vm';
import { parse } from 'acorn';
import { describe, expect, it } from 'vitest';
import { extractProgram, normalizeProgramText } from '../../main/engine/programs/extractProgram.ts';
import {
  PROGRAM_SCRIPT_PREFIX,
  PROGRAM_SCRIPT_SUFFIX,
  prepareProgram,
  type PreparedProgram,
} from '../../main/engine/programs/prepareProgram.ts';

// ---------------------------------------------------------------------------------------------
// Helpers

interface FakeDoc {
  id: number;
  title: string;
  text: string;
  score: number;
}

interface HostCall {
  tool: 'retrieve' | 'answer';
  args: unknown[];
  /** `globalThis.__reckonLine` when the host was called. */
  line: unknown;
}

function prepared(code: string): PreparedProgram {
  const result = prepareProgram(code);
  if (!result.ok)
    throw new Error(`prepareProgram failed: ${result.error.message} (line ${result.error.line})`);
  return result.program;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function fakeDocs(query: string): FakeDoc[] {
  return [1, 2].map((n) => ({
    id: query.length * 10 + n,
    title: `${query} #${n}`,
    text: `text ${n} about ${query}`,
    score: 1 / n,
  }));
}

function fakeAnswer(question: string, docs: unknown): string {
  return `A(${question}|${Array.isArray(docs) ? docs.length : 0})`;
}

/**
 * Runs a prepared script the way the sandbox does, in a fresh node:vm context with async fake host
 * tools (delays vary so concurrent calls finish out of order) and a `__reckonBind` recorder.
 */
async function run(
  code: string,
  options: { answer?: (question: string, docs: unknown) => Promise<string> } = {},
) {
  const program = prepared(code);
  const calls: HostCall[] = [];
  const bindings: { name: string; value: unknown; line: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const context = createContext({
    retrieve: async (query: string, k?: number) => {
      calls.push({
        tool: 'retrieve',
        args: k === undefined ? [query] : [query, k],
        line: context.__reckonLine,
      });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(query.length % 4);
      inFlight--;
      return fakeDocs(query);
    },
    answer: async (question: string, docs?: unknown) => {
      calls.push({
        tool: 'answer',
        args: docs === undefined ? [question] : [question, docs],
        line: context.__reckonLine,
      });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep((question.length * 7) % 5);
      inFlight--;
      return options.answer ? options.answer(question, docs) : fakeAnswer(question, docs);
    },
    __reckonBind: (name: string, value: unknown, line: number) => bindings.push({ name, value, line }),
  }) as Record<string, unknown>;
  const completion = runInContext(program.script, context, { filename: 'program.js' }) as Promise<unknown>;
  let value: unknown;
  let error: unknown;
  try {
    value = await completion;
  } catch (thrown) {
    error = thrown;
  }
  return { program, value, error, calls, bindings, maxDepth: context.__reckonMaxDepth, maxInFlight };
}

/** The same program run plainly (no instrumentation) with synchronous host tools: the reference semantics. */
async function runReference(code: string): Promise<unknown> {
  const context = createContext({
    retrieve: (query: string) => fakeDocs(query),
    answer: (question: string, docs?: unknown) => fakeAnswer(question, docs),
  });
  return (await runInContext(`(async () => {\n${normalizeProgramText(code)}\n})()`, context)) as unknown;
}

/** Values from the vm realm compared structurally. */
const plain = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

// ---------------------------------------------------------------------------------------------

describe('extractProgram', () => {
  it('takes the fenced javascript block out of prose', () => {
    const output =
      'Here is the program:\n```javascript\nconst d = await retrieve("x");\nreturn d;\n```\nIt retrieves x.';
    expect(extractProgram(output)).toEqual({
      code: 'const d = await retrieve("x");\nreturn d;',
      source: 'fenced',
    });
  });

  it('accepts an unlabelled block and labels in any case', () => {
    expect(extractProgram('```\nreturn 1;\n```')).toEqual({ code: 'return 1;', source: 'fenced' });
    expect(extractProgram('```JS\nreturn 2;\n```')?.code).toBe('return 2;');
    expect(extractProgram('```ts\nreturn 3;\n```')?.code).toBe('return 3;');
    expect(extractProgram('```mjs\nreturn 4;\n```')?.code).toBe('return 4;');
  });

  it('prefers the first JavaScript-labelled block over unlabelled and other languages', () => {
    const output = [
      '```python',
      'print("no")',
      '```',
      '```',
      'return "unlabelled";',
      '```',
      '```js',
      'return "first js";',
      '```',
      '```javascript',
      'return "second js";',
      '```',
    ].join('\n');
    expect(extractProgram(output)?.code).toBe('return "first js";');
  });

  it('ignores blocks in other languages and empty blocks', () => {
    expect(extractProgram('```python\nprint(1)\n```')).toBeUndefined();
    expect(extractProgram('```js\n\n```\n```\nreturn 5;\n```')?.code).toBe('return 5;');
  });

  it('handles an unterminated final fence from a truncated generation', () => {
    const output = 'Sure.\n```javascript\nconst a = await answer("q");\nreturn a';
    expect(extractProgram(output)).toEqual({
      code: 'const a = await answer("q");\nreturn a',
      source: 'fenced',
    });
  });

  it('handles tilde fences, indented fences and CRLF', () => {
    expect(extractProgram('~~~js\nreturn 1;\n~~~')?.code).toBe('return 1;');
    expect(extractProgram('1. The code:\n   ```js\n   const a = 1;\n     return a;\n   ```')?.code).toBe(
      'const a = 1;\n  return a;',
    );
    expect(extractProgram('```js\r\nreturn 1;\r\n```\r\n')?.code).toBe('return 1;');
  });

  it('skips code drafted inside <think> blocks', () => {
    const output = '<think>maybe\n```js\nreturn "draft";\n```\n</think>\n```js\nreturn "final";\n```';
    expect(extractProgram(output)?.code).toBe('return "final";');
  });

  it('takes the whole output when it is bare code, dropping a prose lead-in', () => {
    const code = 'const docs = await retrieve("x");\nreturn await answer("q", docs);';
    expect(extractProgram(code)).toEqual({ code, source: 'raw' });
    expect(extractProgram(`Here is the program:\n${code}`)).toEqual({ code, source: 'raw' });
  });

  it('returns undefined for prose and bare answers', () => {
    expect(extractProgram('The answer is Paris.')).toBeUndefined();
    expect(extractProgram('Paris')).toBeUndefined();
    expect(extractProgram('unknown')).toBeUndefined();
    expect(extractProgram('')).toBeUndefined();
  });
});

describe('normalizeProgramText', () => {
  it('straightens curly quotes used as string delimiters', () => {
    expect(normalizeProgramText('const q = “Who wrote Dune?”;\nconst r = ‘x’;')).toBe(
      'const q = "Who wrote Dune?";\nconst r = \'x\';',
    );
    expect(normalizeProgramText('retrieve(„a‟, ‚b‛)')).toBe('retrieve("a", \'b\')');
  });

  it('keeps curly quotes inside proper strings (a question copied verbatim)', () => {
    const code = 'return answer("Who wrote “Dune”? It’s a novel.", `and ‘this’`);';
    expect(normalizeProgramText(code)).toBe(code);
    expect(normalizeProgramText('answer(“What’s the answer?”)')).toBe('answer("What’s the answer?")');
  });

  it('turns NBSP and other Unicode spaces into spaces', () => {
    expect(normalizeProgramText('const\u00A0x\u2003=\u202F1;\u3000return\u2009x;')).toBe(
      'const x = 1; return x;',
    );
  });

  it('removes zero-width characters, the BOM and bidi controls', () => {
    expect(
      normalizeProgramText('\uFEFFcon\u200Bst x\u200C = \u200D1\u2060;\u202Ereturn\u2066 x;\u2069'),
    ).toBe('const x = 1;return x;');
  });

  it('normalises line endings and trims the end', () => {
    expect(normalizeProgramText('\n\nconst a = 1;\r\nconst b = 2;\rreturn a + b;\u2028\n  \n')).toBe(
      '\n\nconst a = 1;\nconst b = 2;\nreturn a + b;',
    );
  });

  it('blanks module syntax a script cannot have, keeping line numbers', () => {
    expect(
      normalizeProgramText('import { retrieve } from "./tools";\nexport const a = 1;\nreturn a;\nexport {};'),
    ).toBe('\nconst a = 1;\nreturn a;');
  });

  it('is idempotent', () => {
    const messy =
      '\uFEFFconst q = “Who?”;\r\nconst\u00A0d = ‘x’;\nreturn answer("It’s “fine”", d);\nexport {}';
    const once = normalizeProgramText(messy);
    expect(normalizeProgramText(once)).toBe(once);
  });
});

describe('prepareProgram: failures', () => {
  it('reports a syntax error with its line and 1-based column', () => {
    const result = prepareProgram('const a = 1;\nconst b = ;\nreturn a;');
    expect(result).toEqual({
      ok: false,
      error: {
        kind: 'SyntaxError',
        errorName: 'SyntaxError',
        message: 'Unexpected token',
        line: 2,
        column: 11,
      },
    });
  });

  it('reports await inside a non-async function as a syntax error', () => {
    const result = prepareProgram('const xs = [1].map((x) => {\n  return await answer(x);\n});');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.line).toBe(2);
  });

  it('rejects reserved names', () => {
    for (const [code, line, column] of [
      ['const a = 1;\nconst __reckonLine = 5;', 2, 7],
      ['globalThis.__reckonMaxDepth = 99;', 1, 12],
      ['function f(__reckonDepth) {}', 1, 12],
      ['const Promise = null;', 1, 7],
    ] as const) {
      const result = prepareProgram(code);
      expect(result.ok, code).toBe(false);
      if (result.ok) continue;
      expect(result.error).toMatchObject({ kind: 'SyntaxError', line, column });
      expect(result.error.message).toMatch(/reserved|cannot be redeclared/);
    }
  });

  it('parses the normalised text, so curly quotes do not cause a syntax error', () => {
    const result = prepareProgram('return answer(“Who?”);');
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.program.source).toBe('return answer("Who?");');
  });
});

describe('prepareProgram: script shape', () => {
  const code = [
    '// bridge question',
    'const docs = retrieve("x");',
    'function helper(q) {',
    '  return answer(q, docs);',
    '}',
    'return helper("q");',
  ].join('\n');

  it('keeps every user line on the same line of the script', () => {
    const { script, source } = prepared(code);
    expect(script.startsWith(PROGRAM_SCRIPT_PREFIX)).toBe(true);
    expect(script.endsWith(PROGRAM_SCRIPT_SUFFIX)).toBe(true);
    const scriptLines = script.split('\n');
    const sourceLines = source.split('\n');
    expect(scriptLines).toHaveLength(sourceLines.length + 1);
    expect(scriptLines.at(-1)).toBe('})()');
    // Each user line's tokens appear, in order, on the same script line.
    sourceLines.forEach((line, i) => {
      const tokens = line.split(/[^\w$"]+/).filter(Boolean);
      let from = 0;
      for (const token of tokens) {
        const at = scriptLines[i]!.indexOf(token, from);
        expect(at, `line ${i + 1}: ${token}`).toBeGreaterThanOrEqual(0);
        from = at + token.length;
      }
    });
  });

  it('sets up the globals in the prelude and instruments statements and functions as documented', () => {
    const { script } = prepared(code);
    expect(script).toContain('globalThis.__reckonLine = 0; globalThis.__reckonMaxDepth = 0;');
    expect(script).toContain('__reckonLine = 2; const docs =');
    expect(script).toContain('__reckonBind("docs", docs, 2);');
    expect(script).toContain('async function helper(q)');
    expect(script).toContain(
      '__reckonDepth++; if (__reckonDepth > globalThis.__reckonMaxDepth) globalThis.__reckonMaxDepth = __reckonDepth;',
    );
    expect(script).toMatch(/\} finally \{ __reckonDepth = __reckonSelf - 1; \}\}\n__reckonLine = 6; return/);
    // Sync functions use the plain counter.
    expect(prepared('function f() { return 1; }').script).toContain(' } finally { __reckonDepth--; }}');
  });

  it('does not add line markers inside braceless bodies', () => {
    const { script } = prepared('let n = 0;\nif (n) n++;\nfor (const x of [1]) n += x;');
    expect(script).toContain('__reckonLine = 2; if (n) n++;');
    expect(script).toContain('__reckonLine = 3; for (const x of [1]) n += x;');
  });

  it('keeps directives first in their function', () => {
    const { script } = prepared('function f() {\n  "use strict";\n  return 1;\n}\nreturn f();');
    expect(script).toMatch(/function f\(\) \{\n {2}"use strict";\s*__reckonDepth\+\+/);
  });

  it('produces a script that parses for awkward but valid programs', () => {
    const awkward = [
      'const a = retrieve("x")\nconst b = answer("q", a)\n;[a].forEach(x => x)\nreturn b',
      'const r = retrieve(\n  "x", // the query\n  3, /* k */\n)\nreturn r',
      'const r = await (retrieve("a"), retrieve("b"));\nreturn r;',
      'const f = x => /* body */ (x, answer(x));\nreturn f("q");',
      'const g = (x) => ({ doc: retrieve(x) });\nreturn g("q");',
      'const o = { async a() { return answer("a"); }, b() { return answer("b"); }, [`c`]() { return answer("c"); } };\nreturn [await o.a(), await o.b(), await o.c()];',
      'class K { static [`m`]() { return answer("m"); } #p() { return 1; } q() { return this.#p(); } }\nreturn K.m();',
      'label: for (const q of ["a"]) { switch (q) { case "a": answer(q); break label; default: } }\nreturn 1;',
      'return retrieve("x")?.[0]?.title ?? answer?.("fallback");',
      'x = answer("q"), y = retrieve("z");\nreturn [x, y.length];',
      'const t = answer`tagged`;\nreturn typeof t;',
      'return (async () => answer("iife"))();',
      'if (true) return answer("early")\nreturn "late"',
      'if (true) function legacy() { return answer("x"); }\nreturn 1;',
      'const f = () => {};\nfunction g() {}\nreturn [f(), g()];',
      '',
      '// only a comment',
    ];
    for (const program of awkward) {
      const { script } = prepared(program);
      expect(() => parse(script, { ecmaVersion: 'latest', sourceType: 'script' }), program).not.toThrow();
    }
  });
});

describe('prepareProgram: semantics in node:vm', () => {
  it('runs plain (un-awaited) host calls', async () => {
    const result = await run(
      'const docs = retrieve("Planets");\nconst who = answer("Who?", docs);\nreturn who;',
    );
    expect(result.error).toBeUndefined();
    expect(result.value).toBe('A(Who?|2)');
    expect(result.calls.map((c) => c.tool)).toEqual(['retrieve', 'answer']);
    expect(plain(result.calls[1]!.args[1])).toEqual(fakeDocs('Planets'));
  });

  it('runs top-level await', async () => {
    const result = await run('const docs = await retrieve("x");\nreturn await answer("q", docs);');
    expect(result.value).toBe('A(q|2)');
  });

  it('awaits a helper that calls answer() when the helper is called without await', async () => {
    const code = [
      'function lookup(question, query) {',
      '  const docs = retrieve(query);',
      '  return answer(question, docs);',
      '}',
      'const director = lookup("Who directed Jaws?", "Jaws director");',
      'return lookup(`When was ${director} born?`, `${director} birth`);',
    ].join('\n');
    const result = await run(code);
    expect(result.error).toBeUndefined();
    expect(result.value).toBe('A(When was A(Who directed Jaws?|2) born?|2)');
  });

  it('awaits transitively through helpers of helpers and keeps already-async functions working', async () => {
    const code = [
      'const ask = (q) => answer(q, retrieve(q));',
      'function twice(q) { return [ask(q), ask(q + "!")]; }',
      'async function explicit(q) { const docs = await retrieve(q); return await answer(q, docs); }',
      'const fromExplicit = explicit("e");',
      'return [...twice("t"), fromExplicit];',
    ].join('\n');
    const result = await run(code);
    expect(plain(result.value)).toEqual(['A(t|2)', 'A(t!|2)', 'A(e|2)']);
  });

  it('turns .map(d => answer(…)) into an awaited Promise.all, in order', async () => {
    const code = [
      'const docs = retrieve("rivers");',
      'const facts = docs.map((d) => answer(`What is ${d.title}?`, [d]));',
      'return facts.join("; ");',
    ].join('\n');
    const result = await run(code);
    expect(result.value).toBe('A(What is rivers #1?|1); A(What is rivers #2?|1)');
  });

  it('also fixes async map callbacks the model forgot to Promise.all, and `await xs.map(…)`', async () => {
    const result = await run(
      'const xs = ["a", "bb"];\nconst ys = xs.map(async (x) => await answer(x));\nreturn ys.join(",");',
    );
    expect(result.value).toBe('A(a|0),A(bb|0)');
    const awaited = await run(
      'const xs = ["a", "bb"];\nconst ys = await xs.map((x) => answer(x));\nreturn ys.join(",");',
    );
    expect(awaited.value).toBe('A(a|0),A(bb|0)');
  });

  it('keeps Promise.all([answer(), answer()]) parallel', async () => {
    const result = await run(
      'const [a, b] = await Promise.all([answer("first"), answer("second one")]);\nreturn a + b;',
    );
    expect(result.value).toBe('A(first|0)A(second one|0)');
    expect(result.maxInFlight).toBe(2);
    const sequential = await run(
      'const a = answer("first");\nconst b = answer("second one");\nreturn a + b;',
    );
    expect(sequential.maxInFlight).toBe(1);
  });

  it('leaves promises alone when the program handles them with .then', async () => {
    const result = await run('return answer("q").then((a) => a.toUpperCase());');
    expect(result.value).toBe('A(Q|0)');
  });

  it('records top-level bindings with names, values and lines', async () => {
    const code = [
      'const docs = retrieve("x");',
      'let { length: n, 0: first } = docs,',
      '  [a, , b = 7] = [1, 2];',
      'var label;',
      'label = answer("q", docs)',
      'n += 1;',
      'function notABinding() {}',
      'if (n) { const inner = 1; }',
      'return label;',
    ].join('\n');
    const result = await run(code);
    expect(result.error).toBeUndefined();
    expect(result.bindings.map(({ name, value, line }) => ({ name, value: plain(value), line }))).toEqual([
      { name: 'docs', value: fakeDocs('x'), line: 1 },
      { name: 'n', value: 2, line: 2 },
      { name: 'first', value: fakeDocs('x')[0], line: 2 },
      { name: 'a', value: 1, line: 2 },
      { name: 'b', value: 7, line: 2 },
      { name: 'label', value: undefined, line: 4 },
      { name: 'label', value: 'A(q|2)', line: 5 },
      { name: 'n', value: 3, line: 6 },
    ]);
  });

  it('sets __reckonLine to the line of each host call when the host reads it', async () => {
    const code = [
      'const docs = retrieve("a");', // 1
      'const facts = [', // 2
      '  answer("one", docs),', // 3
      '  answer(', // 4
      '    "two",', // 5
      '    retrieve("b"),', // 6
      '  ),', // 7
      '];', // 8
      'function helper(q) {', // 9
      '  return answer(q);', // 10
      '}', // 11
      'await Promise.all([helper("x"), helper("yy")]);', // 12
      'return answer("final");', // 13
    ].join('\n');
    const result = await run(code);
    expect(result.error).toBeUndefined();
    expect(result.calls.map((c) => [c.tool, c.args[0], c.line])).toEqual([
      ['retrieve', 'a', 1],
      ['answer', 'one', 3],
      ['retrieve', 'b', 6],
      ['answer', 'two', 4],
      ['answer', 'x', 10],
      ['answer', 'yy', 10],
      ['answer', 'final', 13],
    ]);
  });

  it('measures the real maximum call depth of a recursive helper', async () => {
    const asyncRecursion = await run(
      'function dig(n) {\n  if (n <= 1) return answer("bottom");\n  return dig(n - 1);\n}\nreturn dig(4);',
    );
    expect(asyncRecursion.value).toBe('A(bottom|0)');
    expect(asyncRecursion.maxDepth).toBe(4);

    const syncRecursion = await run(
      'function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }\nreturn fact(6);',
    );
    expect(syncRecursion.value).toBe(720);
    expect(syncRecursion.maxDepth).toBe(6);

    const none = await run('return answer("q");');
    expect(none.maxDepth).toBe(0);
  });

  it('does not count concurrent async calls as nesting', async () => {
    const code = [
      'const ask = (q) => answer(q, retrieve(q));',
      'const all = ["a", "bb", "ccc", "dddd", "eeeee"].map((q) => ask(q));',
      'const outer = (q) => ask(q);',
      'await outer("z");',
      'return all.length;',
    ].join('\n');
    const result = await run(code);
    expect(result.value).toBe(5);
    // map callback → ask: depth 2; outer → ask: depth 2. Five callbacks in flight are not depth 5.
    expect(result.maxDepth).toBe(2);
  });

  it('keeps the depth right after a caught rejection', async () => {
    const code = [
      'function inner() { return 1; }',
      'function deep(n) { return n === 0 ? inner() : deep(n - 1); }',
      'async function risky() {',
      '  try { await answer("fail"); } catch (e) { return deep(2); }',
      '}',
      'const values = await Promise.all([risky(), risky(), risky()]);',
      'return values;',
    ].join('\n');
    const result = await run(code, {
      answer: async () => {
        await sleep(1);
        throw new Error('boom');
      },
    });
    expect(plain(result.value)).toEqual([1, 1, 1]);
    // risky (1) → deep(2) (2) → deep(1) (3) → deep(0) (4) → inner (5).
    expect(result.maxDepth).toBe(5);
  });

  it('reports runtime errors on the user’s line', async () => {
    const code = [
      'const docs = retrieve("x");',
      '',
      'const missing = null;',
      'const t = missing.title;',
      'return t;',
    ].join('\n');
    const result = await run(code);
    expect(result.error).toBeDefined();
    const stack = String((result.error as { stack?: unknown }).stack);
    expect(stack).toMatch(/TypeError/);
    expect(stack).toContain('program.js:4');

    const inHelper = await run('function f(x) {\n  return x.y.z;\n}\nreturn f({});');
    expect(String((inHelper.error as { stack?: unknown }).stack)).toContain('program.js:2');
  });

  it('returns the top-level return value (undefined without one)', async () => {
    expect((await run('return { answer: answer("q"), n: 2 };')).value).toMatchObject({
      answer: 'A(q|0)',
      n: 2,
    });
    expect((await run('answer("q");')).value).toBeUndefined();
  });

  it('does not await a user function that shadows a host name', async () => {
    const result = await run(
      'function answer(q) { return `local ${q}`; }\nconst a = answer("q");\nreturn typeof a;',
    );
    expect(result.value).toBe('string');
    expect(result.calls).toEqual([]);
    expect(prepared('function answer(q) { return q; }\nanswer("x");').script).not.toContain('...__reckonAt(');
  });

  describe('matches the plain program run with synchronous tools', () => {
    const programs = [
      'const d1 = retrieve("composer of The Planets");\nconst c = answer("Who composed The Planets?", d1);\nconst d2 = retrieve(`${c} birthplace`);\nconst city = answer(`Where was ${c} born?`, d2);\nreturn answer(`Given: ${c}, ${city}. Answer the question: where?`);',
      'const [x, y] = await Promise.all([retrieve("Danube"), retrieve("Rhine")]);\nconst [a, b] = await Promise.all([answer("Danube?", x), answer("Rhine?", y)]);\nreturn answer(`Given: ${a} ${b}`);',
      'const answers = [];\nfor (const q of ["a", "b", "c"]) {\n  const docs = retrieve(q);\n  if (docs.length > 1) answers.push(answer(q, docs));\n}\nreturn answers.join("|");',
      'function hop(q) { const docs = retrieve(q); return docs.length ? answer(q, docs) : "unknown"; }\nconst first = hop("one");\nreturn hop(`two ${first}`);',
      'const docs = retrieve("x");\nconst best = docs.filter((d) => d.score > 0.6).map((d) => d.title);\nreturn answer(best.join(","), docs.slice(0, 1));',
      'let result = "unknown";\ntry {\n  result = answer("q", retrieve("q"));\n} catch (e) {\n  result = "error";\n} finally {\n  result = result.toUpperCase();\n}\nreturn result;',
      'const kind = answer("kind");\nswitch (kind.length % 3) {\n  case 0: return answer("zero");\n  case 1: { const d = retrieve("one"); return answer("one", d); }\n  default: return "other";\n}',
      'const titles = retrieve("t").map((d) => d.title.toUpperCase());\nconst summaries = titles.map((t) => answer(t));\nreturn summaries;',
      'const facts = await Promise.all(["a", "b"].map(async (q) => { const d = await retrieve(q); return answer(q, d); }));\nreturn facts;',
      'const lookup = async (q) => answer(q, await retrieve(q));\nconst v = await lookup("x");\nconst w = lookup("y");\nreturn [v, await w];',
      'const n = retrieve("x").length;\nconst label = n > 1 ? answer("many") : answer("few");\nreturn label ?? null;',
      'const cache = {};\nfunction get(q) { cache[q] ||= answer(q); return cache[q]; }\nget("a"); get("a");\nreturn Object.keys(cache);',
      'const docs = retrieve("x");\nconst text = `${answer("a", docs)} and ${answer("b")}`;\nreturn text;',
      'const parts = [];\nlet i = 0;\nwhile (i < 3) { parts.push(answer(`part ${i}`)); i++; }\nreturn parts;',
      'function rec(n) { return n === 0 ? answer("base") : rec(n - 1) + "+"; }\nreturn rec(3);',
      'const o = { ask(q) { return answer(q); } };\nreturn await o.ask("m");',
    ];
    for (const [i, code] of programs.entries()) {
      it(`program ${i + 1}`, async () => {
        const instrumented = await run(code);
        expect(instrumented.error).toBeUndefined();
        expect(plain(instrumented.value)).toEqual(plain(await runReference(code)));
      });
    }
  });
});

describe('prepareProgram on programs too large or too deep to read', () => {
  it('refuses a program over the size limit with a typed failure', () => {
    const result = prepareProgram(`return ${JSON.stringify('x'.repeat(80 * 1024))};`);
    expect(result).toMatchObject({ ok: false, error: { kind: 'SyntaxError', errorName: 'ProgramTooLarge' } });
    expect(prepareProgram('return 1;', { maxProgramBytes: 4 })).toMatchObject({ ok: false });
  });

  it.each([
    ['3,000 nested brackets', `return ${'('.repeat(3000)}1${')'.repeat(3000)};`],
    ['a 5,000-term sum', `return ${Array(5000).fill('1').join('+')};`],
    ['2,000 nested blocks', `${'{'.repeat(2000)}${'}'.repeat(2000)}\nreturn 1;`],
  ])('returns a typed failure, not a host stack overflow, for %s', (_name, code) => {
    const result = prepareProgram(code);
    expect(result).toMatchObject({ ok: false, error: { kind: 'SyntaxError', errorName: 'ProgramTooDeep' } });
  });

  it('prepares nested functions or says they nest too deeply, at every depth, never throwing', () => {
    // The instrumented script nests deeper than the program (each function gains a wrapper), so
    // some depths read as written but not once instrumented; where exactly depends on the host
    // stack, hence the sweep.
    const outcomes = new Set<string>();
    for (let depth = 100; depth <= 1_500; depth += 50) {
      const result = prepareProgram(`const f = ${'() => '.repeat(depth)}1;\nreturn 1;`);
      const outcome = result.ok ? 'ok' : result.error.errorName;
      expect(['ok', 'ProgramTooDeep'], `depth ${depth}`).toContain(outcome);
      outcomes.add(outcome!);
    }
    expect([...outcomes].sort()).toEqual(['ProgramTooDeep', 'ok']);
  });
});
