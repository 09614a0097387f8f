/**
 * Reading guest values from the host without ever running guest code.
 *
 * `context.getProp` runs getters and Proxy traps, `context.dump` runs `toJSON` through
 * `JSON.stringify`, and no QuickJS API tells a Proxy apart from a plain object. So every run starts
 * with a small trusted prelude (GUEST_PRELUDE_SOURCE), evaluated before the program, that
 *
 *   - captures the builtins it needs while they are still pristine, inside a closure the program
 *     cannot reach;
 *   - replaces the global `Proxy` with a look-alike that records every proxy it creates in a private
 *     WeakSet (the original constructor is unreachable afterwards, so no proxy escapes the record);
 *   - returns helper functions (kind of a value, kind of an own property, own keys, string slice,
 *     JSON.parse, a string's JSON text, error fields, a global number, JSON copies of arguments)
 *     whose handles only the host holds.
 *
 * The host-side walkers below combine those helpers with `getProp` on own *data* properties only,
 * which cannot run guest code. Everything they produce is a fresh host copy, capped in depth, entries
 * and characters.
 */
import type { QuickJSContext, QuickJSHandle } from 'quickjs-emscripten-core';
import type { JsonValue } from './SandboxTypes.ts';

/** A JSON value on the host side. */
export type { JsonValue };

/** The file name the prelude is evaluated under (it never appears in the program's own stacks). */
export const GUEST_PRELUDE_FILENAME = 'reckon-prelude.js';

/**
 * The trusted prelude. It must run first in a fresh context; its completion value is the array of
 * helpers in HELPER_NAMES order. Nothing but `Proxy` (replaced by a recording look-alike with the
 * same behaviour) changes in the global object.
 */
export const GUEST_PRELUDE_SOURCE = String.raw`(function () {
  'use strict';
  var G = globalThis;
  var apply = Reflect.apply;
  var getOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
  var defineProperty = Object.defineProperty;
  var getPrototypeOf = Object.getPrototypeOf;
  var hasOwn = Object.hasOwn;
  var objectKeys = Object.keys;
  var isArray = Array.isArray;
  var stringSlice = String.prototype.slice;
  var jsonParse = JSON.parse;
  var jsonStringify = JSON.stringify;
  var weakSetHas = WeakSet.prototype.has;
  var weakSetAdd = WeakSet.prototype.add;
  var OriginalProxy = Proxy;
  var originalRevocable = Proxy.revocable;
  var ProxyTypeError = TypeError;
  var proxies = new WeakSet();

  function isProxy(value) { return apply(weakSetHas, proxies, [value]); }
  function record(proxy) { apply(weakSetAdd, proxies, [proxy]); return proxy; }

  var SandboxProxy = function Proxy(target, handler) {
    if (new.target === void 0) throw new ProxyTypeError("Constructor Proxy requires 'new'");
    return record(new OriginalProxy(target, handler));
  };
  defineProperty(SandboxProxy, 'revocable', {
    __proto__: null, writable: true, enumerable: false, configurable: true,
    value: function revocable(target, handler) {
      var pair = apply(originalRevocable, OriginalProxy, [target, handler]);
      record(pair.proxy);
      return pair;
    },
  });
  defineProperty(G, 'Proxy', { __proto__: null, writable: true, enumerable: false, configurable: true, value: SandboxProxy });

  // 0 primitive, 1 proxy, 2 array, 3 any other object (functions included).
  function kindOf(value) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return 0;
    if (isProxy(value)) return 1;
    if (isArray(value)) return 2;
    return 3;
  }
  // For a non-proxy object: 0 no such own property, 1 data property, 2 accessor.
  function propKind(object, key) {
    var descriptor = getOwnPropertyDescriptor(object, key);
    if (descriptor === void 0) return 0;
    return hasOwn(descriptor, 'value') ? 1 : 2;
  }
  function ownKeys(object) { return objectKeys(object); }
  function slice(string, end) { return apply(stringSlice, string, [0, end]); }
  function parseJson(text) { return jsonParse(text); }
  // A string as JSON text: the original JSON.stringify (which runs nothing for a string) escapes a
  // NUL and a lone surrogate, which the host's C-string read of a guest string loses.
  function quoteString(string) { return jsonStringify(string); }
  function dataOnChain(object, key) {
    for (var depth = 0; object !== null && depth < 100; depth++) {
      if (isProxy(object)) return void 0;
      var descriptor = getOwnPropertyDescriptor(object, key);
      if (descriptor !== void 0) return hasOwn(descriptor, 'value') ? descriptor.value : void 0;
      object = getPrototypeOf(object);
    }
    return void 0;
  }
  function errorInfo(error) {
    var kind = kindOf(error);
    if (kind === 0 || kind === 1) return null;
    var name = dataOnChain(error, 'name');
    var message = dataOnChain(error, 'message');
    var stack = dataOnChain(error, 'stack');
    return {
      __proto__: null,
      name: typeof name === 'string' ? name : void 0,
      message: typeof message === 'string' ? message : void 0,
      stack: typeof stack === 'string' ? stack : void 0,
    };
  }
  function lexicalNumber(name) {
    try {
      if (name === '__reckonLine') return typeof __reckonLine === 'number' ? __reckonLine : -1;
      if (name === '__reckonMaxDepth') return typeof __reckonMaxDepth === 'number' ? __reckonMaxDepth : -1;
    } catch (error) {
      // a let/const binding still in its temporal dead zone
    }
    return -1;
  }
  // A number the program keeps in a global (var, let or const), or -1. Never runs a getter: when the
  // name is not an own property, the lookup only proceeds if nothing on the global object's
  // prototype chain could answer it.
  function globalNumber(name) {
    var value;
    var descriptor = getOwnPropertyDescriptor(G, name);
    if (descriptor !== void 0) {
      if (!hasOwn(descriptor, 'value')) return -1;
      value = descriptor.value;
    } else {
      for (var object = getPrototypeOf(G); object !== null; object = getPrototypeOf(object)) {
        if (isProxy(object) || getOwnPropertyDescriptor(object, name) !== void 0) return -1;
      }
      value = lexicalNumber(name);
    }
    return typeof value === 'number' && value === value ? value : -1;
  }
  // A JSON text of its arguments (an array) under a strict read policy, made in one call instead of
  // several host calls per property; undefined for anything the host's own reader would have to
  // look at closely (GuestValueReader.readJsonValues then reads the value itself and finds the
  // error). Only plain data is accepted, and read the way the host reader reads it: own data
  // properties through descriptors (never a getter, never toJSON), proxies refused, strings quoted by
  // the original JSON.stringify (which runs nothing for a string), the same size budget. The text
  // keeps strings whole: JSON.stringify escapes a NUL and a lone surrogate, which the host reader's
  // C-string read of a guest string loses (it stops at a NUL, and replaces a lone surrogate).
  function makeJsonCopy(maxDepth, maxStringChars, maxEntries, maxTotalChars) {
    var bail = { __proto__: null };
    var used = 0;
    function spend(chars) {
      used += chars;
      if (used > maxTotalChars) throw bail;
    }
    function quote(string) {
      if (string.length > maxStringChars) throw bail;
      return jsonStringify(string);
    }
    function write(value, depth) {
      var type = typeof value;
      if (type === 'string') {
        spend(value.length + 2);
        return quote(value);
      }
      if (type === 'number') {
        spend(8);
        if (value !== value || value === 1 / 0 || value === -1 / 0) throw bail;
        return '' + value;
      }
      if (type === 'boolean') {
        spend(5);
        return value ? 'true' : 'false';
      }
      if (value === null) {
        spend(4);
        return 'null';
      }
      if (type !== 'object' || isProxy(value) || depth >= maxDepth) throw bail;
      var text, index, descriptor, item;
      if (isArray(value)) {
        var length = value.length;
        if (length > maxEntries) throw bail;
        spend(2);
        text = '[';
        for (index = 0; index < length; index++) {
          spend(1);
          if (index > 0) text += ',';
          descriptor = getOwnPropertyDescriptor(value, index);
          if (descriptor === void 0) {
            text += 'null';
            continue;
          }
          if (!hasOwn(descriptor, 'value')) throw bail;
          item = descriptor.value;
          text += item === void 0 ? 'null' : write(item, depth + 1);
        }
        return text + ']';
      }
      var keys = objectKeys(value);
      var count = keys.length;
      if (count > maxEntries) throw bail;
      spend(2);
      text = '{';
      var first = true;
      for (index = 0; index < count; index++) {
        var key = keys[index];
        var quoted = quote(key);
        spend(key.length + 3);
        descriptor = getOwnPropertyDescriptor(value, key);
        if (descriptor === void 0) continue;
        if (!hasOwn(descriptor, 'value')) throw bail;
        item = descriptor.value;
        if (item === void 0) continue;
        text += (first ? '' : ',') + quoted + ':' + write(item, depth + 1);
        first = false;
      }
      return text + '}';
    }
    return function jsonCopy() {
      used = 0;
      try {
        var text = '[';
        for (var index = 0; index < arguments.length; index++) {
          var value = arguments[index];
          if (value === void 0) return void 0;
          text += (index > 0 ? ',' : '') + write(value, 0);
        }
        return text + ']';
      } catch (error) {
        if (error === bail) return void 0;
        throw error;
      }
    };
  }
  return [kindOf, propKind, ownKeys, slice, parseJson, quoteString, errorInfo, globalNumber, makeJsonCopy];
})()`;

const HELPER_NAMES = [
  'kindOf',
  'propKind',
  'ownKeys',
  'slice',
  'parseJson',
  'quote',
  'errorInfo',
  'globalNumber',
  'makeJsonCopy',
] as const;
type HelperName = (typeof HELPER_NAMES)[number];

/** kindOf codes. */
export const GUEST_KIND = { primitive: 0, proxy: 1, array: 2, object: 3 } as const;
/** propKind codes. */
const PROP_ABSENT = 0;
const PROP_ACCESSOR = 2;

/**
 * A trusted helper failed. That only happens for engine reasons (the interrupt handler stopped
 * execution, memory or stack ran out), never because of guest code; `reason` is QuickJS's message.
 */
export class GuestHelperError extends Error {
  override name = 'GuestHelperError';
  constructor(readonly reason: string) {
    super(`A sandbox helper failed: ${reason}`);
  }
}

/**
 * The trusted helpers of one context. Created by install() right after the context, before any
 * program code; dispose() before disposing the context. Every method throws GuestHelperError when
 * QuickJS stops it.
 */
export class GuestHelpers {
  readonly #ctx: QuickJSContext;
  readonly #handles: Record<HelperName, QuickJSHandle>;
  /** jsonCopy's copier function per read policy. */
  readonly #copiers = new Map<string, QuickJSHandle>();

  private constructor(ctx: QuickJSContext, handles: Record<HelperName, QuickJSHandle>) {
    this.#ctx = ctx;
    this.#handles = handles;
  }

  /** Evaluates GUEST_PRELUDE_SOURCE in `ctx`; throws GuestHelperError when it cannot run. */
  static install(ctx: QuickJSContext): GuestHelpers {
    const result = ctx.evalCode(GUEST_PRELUDE_SOURCE, GUEST_PRELUDE_FILENAME, {
      type: 'global',
      strict: true,
    });
    if (result.error) throw new GuestHelperError(consumeEngineError(ctx, result.error));
    const array = result.value;
    const handles: Partial<Record<HelperName, QuickJSHandle>> = {};
    try {
      HELPER_NAMES.forEach((name, index) => {
        handles[name] = ctx.getProp(array, index);
      });
    } finally {
      array.dispose();
    }
    return new GuestHelpers(ctx, handles as Record<HelperName, QuickJSHandle>);
  }

  /** GUEST_KIND of a value: primitive, proxy, array or other object (functions included). */
  kindOf(value: QuickJSHandle): number {
    return this.#number('kindOf', value);
  }

  /** Kind of own property `key` (a key handle or an array index) of a non-proxy object. */
  propKind(object: QuickJSHandle, key: QuickJSHandle | number): number {
    if (typeof key !== 'number') return this.#number('propKind', object, key);
    const index = this.#ctx.newNumber(key);
    try {
      return this.#number('propKind', object, index);
    } finally {
      index.dispose();
    }
  }

  /** `Object.keys` of a non-proxy object: a fresh array of strings. The caller disposes it. */
  ownKeys(object: QuickJSHandle): QuickJSHandle {
    return this.#call('ownKeys', object);
  }

  /** The first `end` code units of a string. The caller disposes the result. */
  slice(string: QuickJSHandle, end: number): QuickJSHandle {
    const endHandle = this.#ctx.newNumber(end);
    try {
      return this.#call('slice', string, endHandle);
    } finally {
      endHandle.dispose();
    }
  }

  /** `JSON.parse(text)` with the original JSON.parse: fresh plain objects. The caller disposes it. */
  parseJson(text: string): QuickJSHandle {
    const textHandle = this.#ctx.newString(text);
    try {
      return this.#call('parseJson', textHandle);
    } finally {
      textHandle.dispose();
    }
  }

  /**
   * A guest string exactly, NULs and lone surrogates included: `ctx.getString` reads it as a C string
   * in UTF-8, so it stops at a NUL and turns a lone surrogate into replacement characters. Read
   * through the original JSON.stringify's text, which escapes both.
   */
  quote(string: QuickJSHandle): string {
    const text = this.#call('quote', string);
    try {
      return JSON.parse(this.#ctx.getString(text)) as string;
    } finally {
      text.dispose();
    }
  }

  /** Null, or a null-prototype object with string-or-undefined name, message and stack. Caller disposes. */
  errorInfo(error: QuickJSHandle): QuickJSHandle {
    return this.#call('errorInfo', error);
  }

  /** A number the program keeps in global `name`, or -1. */
  globalNumber(name: string): number {
    const nameHandle = this.#ctx.newString(name);
    try {
      return this.#number('globalNumber', nameHandle);
    } finally {
      nameHandle.dispose();
    }
  }

  /**
   * The JSON array text of `values` read under a strict `policy` by the prelude's jsonCopy, in one
   * call into the guest; undefined when a value is not plain data within the policy (or is
   * undefined): GuestValueReader.readJsonValues then reads them and finds what is wrong. What it
   * accepts reads the same as readJsonValues, except that a NUL or a lone surrogate in a string
   * survives, where readJsonValues loses them. The copier of each policy is made once per context.
   */
  jsonCopy(values: readonly QuickJSHandle[], policy: GuestReadPolicy): string | undefined {
    const key = `${policy.maxDepth}/${policy.maxStringChars}/${policy.maxEntries}/${policy.maxTotalChars}`;
    let copier = this.#copiers.get(key);
    if (copier === undefined) {
      const numbers = [policy.maxDepth, policy.maxStringChars, policy.maxEntries, policy.maxTotalChars].map(
        (value) => this.#ctx.newNumber(value),
      );
      try {
        copier = this.#call('makeJsonCopy', ...numbers);
      } finally {
        for (const handle of numbers) handle.dispose();
      }
      this.#copiers.set(key, copier);
    }
    const text = this.#call(copier, ...values);
    try {
      return this.#ctx.typeof(text) === 'string' ? this.#ctx.getString(text) : undefined;
    } finally {
      text.dispose();
    }
  }

  dispose(): void {
    for (const handle of Object.values(this.#handles)) if (handle.alive) handle.dispose();
    for (const handle of this.#copiers.values()) if (handle.alive) handle.dispose();
    this.#copiers.clear();
  }

  #call(helper: HelperName | QuickJSHandle, ...args: QuickJSHandle[]): QuickJSHandle {
    const fn = typeof helper === 'string' ? this.#handles[helper] : helper;
    const result = this.#ctx.callFunction(fn, this.#ctx.undefined, ...args);
    if (result.error) throw new GuestHelperError(consumeEngineError(this.#ctx, result.error));
    return result.value;
  }

  #number(name: HelperName, ...args: QuickJSHandle[]): number {
    const handle = this.#call(name, ...args);
    try {
      return this.#ctx.getNumber(handle);
    } finally {
      handle.dispose();
    }
  }
}

/**
 * Reads the message of an error QuickJS itself raised (interrupted, out of memory, stack overflow)
 * and disposes the handle. Only the own `message` data property of an engine-made error is read.
 */
function consumeEngineError(ctx: QuickJSContext, error: QuickJSHandle): string {
  try {
    if (ctx.typeof(error) !== 'object' || ctx.sameValue(error, ctx.null)) return 'out of memory';
    const message = ctx.getProp(error, 'message');
    try {
      return ctx.typeof(message) === 'string' ? ctx.getString(message).slice(0, 500) : 'unknown error';
    } finally {
      message.dispose();
    }
  } finally {
    error.dispose();
  }
}

/** How GuestValueReader.readJson treats what is not plain JSON, and how much it reads. */
export interface GuestReadPolicy {
  /**
   * true: anything that is not plain JSON (functions, symbols, BigInts, non-finite numbers, getters,
   * proxies, cycles, too deep, too long, too big) throws InvalidGuestValueError. false: read like
   * JSON.stringify would (functions/symbols/undefined dropped from objects and null in arrays,
   * non-finite numbers null, getters skipped) and cut what is too big with markers; only a Proxy
   * throws (GuestProxyError), since reading it would need its traps.
   */
  strict: boolean;
  maxDepth: number;
  /** Longest string read; longer ones are cut (lenient) or refused (strict). */
  maxStringChars: number;
  /** Most items of one array or keys of one object. */
  maxEntries: number;
  /** Budget of the whole value, roughly its JSON length. */
  maxTotalChars: number;
}

/** How results are read: 20 levels, 100k-character strings, 10k entries per container, ~1M characters in all. */
export const RESULT_READ_POLICY: Readonly<GuestReadPolicy> = Object.freeze({
  strict: false,
  maxDepth: 20,
  maxStringChars: 100_000,
  maxEntries: 10_000,
  maxTotalChars: 1_000_000,
});

/** A strict read met something that is not plain JSON; `message` names where ("docs[2].text is a getter"). */
export class InvalidGuestValueError extends Error {
  override name = 'InvalidGuestValueError';
}

/** A lenient read met a Proxy, which cannot be read without running its traps. */
export class GuestProxyError extends Error {
  override name = 'GuestProxyError';
  constructor(readonly path: string) {
    super(`${path} is a Proxy`);
  }
}

interface ReadSession {
  policy: GuestReadPolicy;
  used: number;
  exhausted: boolean;
  ancestors: QuickJSHandle[];
}

const SKIP = Symbol('skip');
type ReadValue = JsonValue | typeof SKIP;

/** Deepest level a preview shows before summarizing as [Array]/[Object]. */
const PREVIEW_MAX_DEPTH = 3;
/** Most items or keys a preview shows per container. */
const PREVIEW_MAX_ENTRIES = 20;

/**
 * Host-side walkers over guest handles: JSON copies (readJson), capped strings (readString) and short
 * JSON-ish previews for traces and console output (renderPreview). None of them runs guest code.
 */
export class GuestValueReader {
  readonly #ctx: QuickJSContext;
  readonly #helpers: GuestHelpers;

  constructor(ctx: QuickJSContext, helpers: GuestHelpers) {
    this.#ctx = ctx;
    this.#helpers = helpers;
  }

  /**
   * A fresh JSON copy of a guest value under `policy`; undefined when the value has no JSON form
   * (undefined, or in lenient mode a function or symbol). `path` names the value in error messages.
   */
  readJson(handle: QuickJSHandle, policy: GuestReadPolicy, path = 'value'): JsonValue | undefined {
    return this.readJsonValues([{ handle, path }], policy)[0];
  }

  /** Like readJson for several values that share one budget (the arguments of one call). */
  readJsonValues(
    values: readonly { handle: QuickJSHandle; path: string }[],
    policy: GuestReadPolicy,
  ): (JsonValue | undefined)[] {
    const session: ReadSession = { policy, used: 0, exhausted: false, ancestors: [] };
    return values.map(({ handle, path }) => {
      const value = this.#read(handle, path, 0, session);
      return value === SKIP ? undefined : value;
    });
  }

  /** At most `maxChars` UTF-16 units of a guest string, and how many were left out. */
  readString(handle: QuickJSHandle, maxChars: number): { text: string; omitted: number } {
    const length = this.#lengthOf(handle);
    if (length <= maxChars) return { text: this.#exactString(handle, length), omitted: 0 };
    const kept = Math.max(0, maxChars);
    const sliced = this.#helpers.slice(handle, kept);
    try {
      return { text: this.#exactString(sliced, kept), omitted: length - maxChars };
    } finally {
      sliced.dispose();
    }
  }

  /**
   * A guest string of `length` UTF-16 units, exactly. The quick C-string read is kept when it has
   * that length and no replacement character (a NUL shortens it, a lone surrogate becomes three
   * U+FFFD); otherwise the string is read again through GuestHelpers.quote.
   */
  #exactString(handle: QuickJSHandle, length: number): string {
    const text = this.#ctx.getString(handle);
    return text.length === length && !text.includes('\uFFFD') ? text : this.#helpers.quote(handle);
  }

  /**
   * A JSON-ish one-line rendering of any guest value in at most `maxChars` characters ("…" marks a
   * cut): strings quoted, [Function], [Proxy], [Getter], [Circular], `Name: message` for errors,
   * containers summarized below PREVIEW_MAX_DEPTH (3) levels and after PREVIEW_MAX_ENTRIES (20) entries.
   */
  renderPreview(handle: QuickJSHandle, maxChars: number): string {
    const out = { text: '', max: maxChars };
    this.#preview(handle, 0, [], out);
    return out.text.length > maxChars ? `${out.text.slice(0, Math.max(0, maxChars - 1))}…` : out.text;
  }

  #read(handle: QuickJSHandle, path: string, depth: number, session: ReadSession): ReadValue {
    const ctx = this.#ctx;
    const { policy } = session;
    const type = ctx.typeof(handle);
    switch (type) {
      case 'undefined':
        return SKIP;
      case 'number': {
        const value = ctx.getNumber(handle);
        this.#spend(session, 8);
        if (Number.isFinite(value)) return Object.is(value, -0) ? 0 : value;
        if (policy.strict) throw new InvalidGuestValueError(`${path} is not a finite number`);
        return null;
      }
      case 'boolean':
        this.#spend(session, 5);
        return ctx.sameValue(handle, ctx.true);
      case 'string': {
        const { text, omitted } = this.readString(handle, policy.maxStringChars);
        if (omitted > 0 && policy.strict) {
          throw new InvalidGuestValueError(`${path} is longer than ${policy.maxStringChars} characters`);
        }
        this.#spend(session, text.length + 2);
        return omitted > 0 ? `${text}… [${omitted} more characters]` : text;
      }
      case 'bigint':
        if (policy.strict) throw new InvalidGuestValueError(`${path} is a BigInt; pass a number or a string`);
        return ctx.getString(handle);
      case 'function':
        if (policy.strict) throw new InvalidGuestValueError(`${path} is a function`);
        return SKIP;
      case 'symbol':
        if (policy.strict) throw new InvalidGuestValueError(`${path} is a Symbol`);
        return SKIP;
      case 'object':
        break;
      default:
        if (policy.strict) throw new InvalidGuestValueError(`${path} is not plain data`);
        return SKIP;
    }
    if (ctx.sameValue(handle, ctx.null)) {
      this.#spend(session, 4);
      return null;
    }
    const kind = this.#helpers.kindOf(handle);
    if (kind === GUEST_KIND.proxy) {
      if (policy.strict) throw new InvalidGuestValueError(`${path} is a Proxy; pass plain data`);
      throw new GuestProxyError(path);
    }
    if (depth >= policy.maxDepth) {
      if (policy.strict)
        throw new InvalidGuestValueError(`${path} is nested more than ${policy.maxDepth} levels deep`);
      return `[nested deeper than ${policy.maxDepth} levels]`;
    }
    for (const ancestor of session.ancestors) {
      if (ctx.sameValue(handle, ancestor)) {
        if (policy.strict) throw new InvalidGuestValueError(`${path} contains itself (a cyclic structure)`);
        return '[Circular]';
      }
    }
    session.ancestors.push(handle);
    try {
      return kind === GUEST_KIND.array
        ? this.#readArray(handle, path, depth, session)
        : this.#readObject(handle, path, depth, session);
    } finally {
      session.ancestors.pop();
    }
  }

  #readArray(handle: QuickJSHandle, path: string, depth: number, session: ReadSession): JsonValue[] {
    const { policy } = session;
    const length = this.#lengthOf(handle);
    if (policy.strict && length > policy.maxEntries) {
      throw new InvalidGuestValueError(`${path} has more than ${policy.maxEntries} items`);
    }
    this.#spend(session, 2);
    const items: JsonValue[] = [];
    const count = Math.min(length, policy.maxEntries);
    for (let index = 0; index < count && !session.exhausted; index += 1) {
      const itemPath = `${path}[${index}]`;
      const kind = this.#helpers.propKind(handle, index);
      this.#spend(session, 1);
      if (kind === PROP_ABSENT) {
        items.push(null);
        continue;
      }
      if (kind === PROP_ACCESSOR) {
        if (policy.strict) throw new InvalidGuestValueError(`${itemPath} is a getter; pass plain data`);
        items.push(null);
        continue;
      }
      const item = this.#ctx.getProp(handle, index);
      try {
        const value = this.#read(item, itemPath, depth + 1, session);
        items.push(value === SKIP ? null : value);
      } finally {
        item.dispose();
      }
    }
    if (items.length < length) items.push(`[… ${length - items.length} more items]`);
    return items;
  }

  #readObject(
    handle: QuickJSHandle,
    path: string,
    depth: number,
    session: ReadSession,
  ): { [key: string]: JsonValue } {
    const { policy } = session;
    const out: { [key: string]: JsonValue } = {};
    const keys = this.#helpers.ownKeys(handle);
    try {
      const length = this.#lengthOf(keys);
      if (policy.strict && length > policy.maxEntries) {
        throw new InvalidGuestValueError(`${path} has more than ${policy.maxEntries} keys`);
      }
      this.#spend(session, 2);
      const count = Math.min(length, policy.maxEntries);
      let index = 0;
      for (; index < count && !session.exhausted; index += 1) {
        const keyHandle = this.#ctx.getProp(keys, index);
        try {
          const { text: key, omitted } = this.readString(keyHandle, policy.maxStringChars);
          if (omitted > 0) {
            if (policy.strict)
              throw new InvalidGuestValueError(
                `${path} has a key longer than ${policy.maxStringChars} characters`,
              );
            continue;
          }
          const keyPath = `${path}${formatKey(key)}`;
          this.#spend(session, key.length + 3);
          const kind = this.#helpers.propKind(handle, keyHandle);
          if (kind === PROP_ABSENT) continue;
          if (kind === PROP_ACCESSOR) {
            if (policy.strict) throw new InvalidGuestValueError(`${keyPath} is a getter; pass plain data`);
            continue;
          }
          const valueHandle = this.#ctx.getProp(handle, keyHandle);
          try {
            const value = this.#read(valueHandle, keyPath, depth + 1, session);
            if (value !== SKIP) defineValue(out, key, value);
          } finally {
            valueHandle.dispose();
          }
        } finally {
          keyHandle.dispose();
        }
      }
      if (index < length) defineValue(out, '…', `[${length - index} more keys]`);
    } finally {
      keys.dispose();
    }
    return out;
  }

  #spend(session: ReadSession, chars: number): void {
    session.used += chars;
    if (session.used <= session.policy.maxTotalChars) return;
    if (session.policy.strict) {
      throw new InvalidGuestValueError(`the arguments are larger than ${session.policy.maxTotalChars} bytes`);
    }
    session.exhausted = true;
  }

  #lengthOf(handle: QuickJSHandle): number {
    const lengthHandle = this.#ctx.getProp(handle, 'length');
    try {
      const length = this.#ctx.typeof(lengthHandle) === 'number' ? this.#ctx.getNumber(lengthHandle) : 0;
      return Number.isFinite(length) && length > 0 ? Math.floor(length) : 0;
    } finally {
      lengthHandle.dispose();
    }
  }

  #preview(
    handle: QuickJSHandle,
    depth: number,
    ancestors: QuickJSHandle[],
    out: { text: string; max: number },
  ): void {
    const ctx = this.#ctx;
    const remaining = (): number => out.max - out.text.length;
    const type = ctx.typeof(handle);
    switch (type) {
      case 'undefined':
        out.text += 'undefined';
        return;
      case 'number': {
        const value = ctx.getNumber(handle);
        out.text += Object.is(value, -0) ? '-0' : String(value);
        return;
      }
      case 'boolean':
        out.text += String(ctx.sameValue(handle, ctx.true));
        return;
      case 'string': {
        const { text, omitted } = this.readString(handle, Math.max(0, remaining()) + 2);
        out.text += omitted > 0 ? `${JSON.stringify(text).slice(0, -1)}…"` : JSON.stringify(text);
        return;
      }
      case 'bigint':
        out.text += `${ctx.getString(handle)}n`;
        return;
      case 'symbol':
        out.text += 'Symbol()';
        return;
      case 'function':
        out.text += this.#helpers.kindOf(handle) === GUEST_KIND.proxy ? '[Proxy]' : '[Function]';
        return;
      case 'object':
        break;
      default:
        out.text += `[${type}]`;
        return;
    }
    if (ctx.sameValue(handle, ctx.null)) {
      out.text += 'null';
      return;
    }
    const kind = this.#helpers.kindOf(handle);
    if (kind === GUEST_KIND.proxy) {
      out.text += '[Proxy]';
      return;
    }
    if (ancestors.some((ancestor) => ctx.sameValue(handle, ancestor))) {
      out.text += '[Circular]';
      return;
    }
    if (kind === GUEST_KIND.object) {
      const error = this.#errorSummary(handle);
      if (error !== undefined) {
        out.text += error;
        return;
      }
    }
    if (depth >= PREVIEW_MAX_DEPTH) {
      out.text += kind === GUEST_KIND.array ? '[Array]' : '[Object]';
      return;
    }
    ancestors.push(handle);
    try {
      if (kind === GUEST_KIND.array) this.#previewArray(handle, depth, ancestors, out);
      else this.#previewObject(handle, depth, ancestors, out);
    } finally {
      ancestors.pop();
    }
  }

  #previewArray(
    handle: QuickJSHandle,
    depth: number,
    ancestors: QuickJSHandle[],
    out: { text: string; max: number },
  ): void {
    const length = this.#lengthOf(handle);
    out.text += '[';
    const count = Math.min(length, PREVIEW_MAX_ENTRIES);
    let index = 0;
    for (; index < count && out.text.length <= out.max; index += 1) {
      if (index > 0) out.text += ', ';
      const kind = this.#helpers.propKind(handle, index);
      if (kind === PROP_ABSENT) out.text += '<empty>';
      else if (kind === PROP_ACCESSOR) out.text += '[Getter]';
      else {
        const item = this.#ctx.getProp(handle, index);
        try {
          this.#preview(item, depth + 1, ancestors, out);
        } finally {
          item.dispose();
        }
      }
    }
    if (index < length) out.text += index > 0 ? ', …' : '…';
    out.text += ']';
  }

  #previewObject(
    handle: QuickJSHandle,
    depth: number,
    ancestors: QuickJSHandle[],
    out: { text: string; max: number },
  ): void {
    const keys = this.#helpers.ownKeys(handle);
    try {
      const length = this.#lengthOf(keys);
      out.text += '{';
      const count = Math.min(length, PREVIEW_MAX_ENTRIES);
      let index = 0;
      for (; index < count && out.text.length <= out.max; index += 1) {
        if (index > 0) out.text += ', ';
        const keyHandle = this.#ctx.getProp(keys, index);
        try {
          const { text: key } = this.readString(keyHandle, 100);
          out.text += `${JSON.stringify(key)}: `;
          const kind = this.#helpers.propKind(handle, keyHandle);
          if (kind === PROP_ACCESSOR) out.text += '[Getter]';
          else if (kind === PROP_ABSENT) out.text += 'undefined';
          else {
            const value = this.#ctx.getProp(handle, keyHandle);
            try {
              this.#preview(value, depth + 1, ancestors, out);
            } finally {
              value.dispose();
            }
          }
        } finally {
          keyHandle.dispose();
        }
      }
      if (index < length) out.text += index > 0 ? ', …' : '…';
      out.text += '}';
    } finally {
      keys.dispose();
    }
  }

  /**
   * `name`, `message` and `stack` of an error-like guest value (found on the object or its prototype
   * chain, data properties only), each capped at `maxChars`. Undefined for primitives and proxies.
   */
  readErrorFields(
    error: QuickJSHandle,
    maxChars: number,
  ): { name?: string; message?: string; stack?: string } | undefined {
    const ctx = this.#ctx;
    const info = this.#helpers.errorInfo(error);
    try {
      if (ctx.sameValue(info, ctx.null)) return undefined;
      const fields: { name?: string; message?: string; stack?: string } = {};
      for (const field of ['name', 'message', 'stack'] as const) {
        const value = ctx.getProp(info, field);
        try {
          if (ctx.typeof(value) !== 'string') continue;
          const { text, omitted } = this.readString(value, maxChars);
          fields[field] = omitted > 0 ? `${text}… [${omitted} more characters]` : text;
        } finally {
          value.dispose();
        }
      }
      return fields;
    } finally {
      info.dispose();
    }
  }

  /** `Name: message` when the object looks like an error (has a string stack and message). */
  #errorSummary(handle: QuickJSHandle): string | undefined {
    const info = this.readErrorFields(handle, 200);
    if (info === undefined || info.stack === undefined || info.message === undefined) return undefined;
    return `${info.name ?? 'Error'}: ${info.message}`;
  }
}

/** Sets an own enumerable property even for keys like "__proto__" (plain assignment would not). */
function defineValue(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function formatKey(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key)
    ? `.${key}`
    : `[${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}]`;
}
