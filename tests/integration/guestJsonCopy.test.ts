/**
 * The prelude's jsonCopy: strict reads of plain data (host-call arguments) in one call into the
 * guest instead of several host calls per property (issue 12). It must read exactly what the host's
 * own reader reads, hand everything else back to it (which then finds the error), and never run
 * program code, whatever the program did to the builtins.
 */
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  GuestHelpers,
  GuestValueReader,
  InvalidGuestValueError,
  type GuestReadPolicy,
} from '../../main/engine/sandbox/guestValues.ts';
import { newSandboxQuickJsModule } from '../../main/engine/sandbox/newSandboxQuickJsModule.ts';

/** The host-call argument policy of the default limits (QuickJsExecutor's #argumentPolicy). */
const POLICY: GuestReadPolicy = {
  strict: true,
  maxDepth: 8,
  maxStringChars: 32_768,
  maxEntries: 1_000,
  maxTotalChars: 32_768,
};

let runtime: QuickJSRuntime;
let ctx: QuickJSContext;
let helpers: GuestHelpers;
let reader: GuestValueReader;

beforeAll(async () => {
  const { module } = await newSandboxQuickJsModule(64 * 1024 * 1024);
  runtime = module.newRuntime();
  ctx = runtime.newContext();
  helpers = GuestHelpers.install(ctx);
  reader = new GuestValueReader(ctx, helpers);
});

afterAll(() => {
  helpers.dispose();
  ctx.dispose();
  runtime.dispose();
});

function evaluate(code: string): QuickJSHandle {
  const result = ctx.evalCode(code, 'test.js');
  if (result.error) {
    const message = ctx.dump(result.error) as unknown;
    result.error.dispose();
    throw new Error(`guest code failed: ${JSON.stringify(message)}`);
  }
  return result.value;
}

/** What the host reader gives: the values, or the InvalidGuestValueError message. */
function readHost(handles: QuickJSHandle[], policy: GuestReadPolicy): unknown {
  try {
    return {
      values: reader.readJsonValues(
        handles.map((handle, index) => ({ handle, path: `argument ${index + 1}` })),
        policy,
      ),
    };
  } catch (error) {
    if (error instanceof InvalidGuestValueError) return { error: error.message };
    throw error;
  }
}

/**
 * Evaluates `expressions` (one argument each) and returns jsonCopy's text, the values it gives
 * (`fast`, parsed) and what the host reader gives (`slow`).
 */
function compare(expressions: string[], policy = POLICY) {
  const handles = expressions.map((expression) => evaluate(`(${expression})`));
  try {
    const copied = helpers.jsonCopy(handles, policy);
    const slow = readHost(handles, policy);
    return { copied, fast: copied === undefined ? slow : { values: JSON.parse(copied) as unknown }, slow };
  } finally {
    for (const handle of handles) handle.dispose();
  }
}

const DOCS = `Array.from({ length: 5 }, (_, id) => ({ id, title: 'Title ' + id, text: 'word '.repeat(120), score: 1.25 * id, source: 'dev.json' }))`;

/** Plain data: jsonCopy copies it, and the result equals the host reader's, property for property. */
const PLAIN: [string, string[]][] = [
  [
    'strings',
    [`'hello'`, `''`, `'ünïcødé 😀 中文'`, `'quote " backslash \\\\ nl \\n tab \\t \\u0001 \\u2028'`],
  ],
  ['numbers', ['0', '-0', '1.5', '-7', '1e21', '5e-324', 'Number.MAX_VALUE', '0.1 + 0.2']],
  ['booleans and null', ['true', 'false', 'null']],
  ['retrieved documents', [`'the question'`, DOCS]],
  ['arrays with holes and undefined', ['[, 1, , 2]', '[undefined, null]', '[[[]], []]']],
  ['objects dropping undefined values', ['({ a: 1, b: undefined, c: [undefined] })']],
  ['an own __proto__ key', [`JSON.parse('{"__proto__": {"x": 1}, "y": 2}')`]],
  ['keys that need quoting', [`({ 'a b': 1, 'q"': 2, '\\n': 3, '': 4, 1: 5, 0: 6 })`]],
  ['builtin objects read by their own keys', ['new Date(0)', `new String('ab')`, 'new Uint8Array([1, 2])']],
  [
    'objects of other prototypes',
    ['Object.create(null, { k: { value: 1, enumerable: true } })', 'new (class { x = 1; y = [2] })()'],
  ],
  ['nesting up to the limit', ['[[[[[[[[1]]]]]]]]'.slice(1, -1)]],
];

/** Not plain data within the policy: jsonCopy hands it back, and the host reader refuses it as before. */
const REFUSED: [string, string[], RegExp][] = [
  ['a function', ['() => 1'], /is a function/],
  ['a function inside a document', ['[{ text: () => 1 }]'], /\[0\]\.text is a function/],
  ['a symbol', [`Symbol('s')`], /is a Symbol/],
  ['a BigInt', ['10n'], /is a BigInt/],
  ['NaN and Infinity', ['[1, NaN]'], /is not a finite number/],
  ['Infinity', ['-Infinity'], /is not a finite number/],
  ['a getter', ['({ get text() { return 1 } })'], /\.text is a getter/],
  ['an array getter', [`Object.defineProperty([1], 0, { get() { return 1 } })`], /\[0\] is a getter/],
  ['a Proxy', ['new Proxy({}, {})'], /is a Proxy/],
  [
    'a cycle',
    ['(() => { const a = [1]; a.push(a); return a })()'],
    /nested more than 8 levels|contains itself/,
  ],
  ['too deep', ['[[[[[[[[[1]]]]]]]]]'], /nested more than 8 levels deep/],
  ['too long a string', [`'x'.repeat(32769)`], /longer than 32768 characters/],
  ['too long a key', [`({ ['k'.repeat(32769)]: 1 })`], /a key longer than 32768 characters/],
  ['too many items', ['new Array(1001).fill(0)'], /more than 1000 items/],
  [
    'too many keys',
    ['Object.fromEntries(Array.from({ length: 1001 }, (_, i) => ["k" + i, 0]))'],
    /more than 1000 keys/,
  ],
  ['too big together', [`'a'.repeat(20000)`, `'b'.repeat(20000)`], /larger than 32768 bytes/],
];

describe('jsonCopy reads what the host reader reads', () => {
  it.each(PLAIN)('copies %s in one call, equal to the host reader', (_, expressions) => {
    const { copied, fast, slow } = compare(expressions);
    expect(copied).toBeTypeOf('string');
    expect(fast).toStrictEqual(slow);
    // Own properties, including a __proto__ key, not a changed prototype.
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
    expect(Object.getOwnPropertyNames(fast)).toEqual(Object.getOwnPropertyNames(slow));
  });

  it('keeps an own __proto__ key as data, as the host reader does', () => {
    const { fast } = compare([`JSON.parse('{"__proto__": {"x": 1}}')`]) as { fast: { values: object[] } };
    const value = fast.values[0]!;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ x: 1 });
  });

  it.each(REFUSED)('hands %s back to the host reader, which refuses it', (_, expressions, message) => {
    const { copied, fast, slow } = compare(expressions);
    expect(copied).toBeUndefined();
    expect(fast).toEqual(slow);
    expect((slow as { error?: string }).error).toMatch(message);
  });

  it('keeps a NUL and a lone surrogate, as the host reader does', () => {
    // quickjs-emscripten reads a guest string as a C string in UTF-8, which stops at a NUL and
    // replaces a lone surrogate; JSON.stringify escapes both (\u0000, \ud800), so they arrive. The
    // host reader reads such a string again through the same escape (GuestHelpers.quote).
    const nul = compare([`'before\\u0000after'`]);
    expect(nul.copied).toBe('["before\\u0000after"]');
    expect(nul.fast).toEqual({ values: ['before\u0000after'] });
    expect(nul.slow).toEqual(nul.fast);
    const lone = compare([`'a\\uD800b'`, `'\\uDC00'`]);
    expect(lone.fast).toEqual({ values: ['a\uD800b', '\uDC00'] });
    expect(lone.slow).toEqual(lone.fast);
    expect(compare([`'😀'`]).copied).toBe('["😀"]');
  });

  it('spends the budget like the host reader: at the limit copied, one past it refused', () => {
    // An array of one string: 2 for the array, 1 for the item, the string's length + 2.
    const fits = compare([`['x'.repeat(${POLICY.maxTotalChars - 5})]`]);
    expect(fits.copied).toBeTypeOf('string');
    expect(fits.fast).toStrictEqual(fits.slow);
    const over = compare([`['x'.repeat(${POLICY.maxTotalChars - 4})]`]);
    expect(over.copied).toBeUndefined();
    expect((over.slow as { error?: string }).error).toMatch(/larger than 32768 bytes/);
  });

  it('hands back an undefined argument, which the host reads itself', () => {
    const { copied, fast, slow } = compare([`'q'`, 'undefined']);
    expect(copied).toBeUndefined();
    expect(fast).toEqual(slow);
  });
});

describe('jsonCopy runs no program code', () => {
  it('ignores toJSON, setters, replaced builtins and getters on prototypes', () => {
    // The notes are kept in a string: pushing to an array would itself meet the planted setter.
    evaluate(`
      globalThis.ran = '';
      const note = (what) => () => { globalThis.ran += what + '; '; return 'evil' };
      Object.defineProperty(Object.prototype, 'toJSON', { get: note('Object toJSON'), configurable: true });
      Object.defineProperty(Array.prototype, 'toJSON', { get: note('Array toJSON'), configurable: true });
      Object.defineProperty(String.prototype, 'toJSON', { get: note('String toJSON'), configurable: true });
      Object.defineProperty(Array.prototype, 0, { set: note('Array setter'), get: note('Array getter'), configurable: true });
      JSON.stringify = note('JSON.stringify');
      Object.keys = note('Object.keys');
      Object.getOwnPropertyDescriptor = note('getOwnPropertyDescriptor');
      Object.hasOwn = note('hasOwn');
      Array.isArray = note('isArray');
      Reflect.apply = note('Reflect.apply');
      Function.prototype.toString = note('toString');
      // Last: from here on every property descriptor made by the program would carry it.
      Object.defineProperty(Object.prototype, 'value', { get: note('descriptor value'), configurable: true });
      1`).dispose();
    try {
      const handle = evaluate(`([{ id: 1, text: 'a', tags: ['x', , 'y'] }, 'q', 2.5, [, 1]])`);
      try {
        const text = helpers.jsonCopy([handle], POLICY);
        expect(text).toBe('[[{"id":1,"text":"a","tags":["x",null,"y"]},"q",2.5,[null,1]]]');
      } finally {
        handle.dispose();
      }
      const ran = evaluate('globalThis.ran');
      try {
        expect(ctx.getString(ran)).toBe('');
      } finally {
        ran.dispose();
      }
    } finally {
      evaluate(`
        delete Object.prototype.toJSON; delete Array.prototype.toJSON; delete String.prototype.toJSON;
        delete Array.prototype[0]; delete Object.prototype.value; 1`).dispose();
    }
  });
});
