/**
 * Hostile programs. Every case asserts the typed outcome AND that the host is still alive afterwards
 * (a trivial follow-up run succeeds); the test process itself surviving is the other half of it.
 */
import { answerTool, retrieveTool } from '../../main/engine/strategies/retrievalTools.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SandboxHost } from '../../main/engine/sandbox/runSandboxedProgram.ts';
import type {
  HostCallContext,
  HostTools,
  RetrievedDoc,
  SandboxEvent,
  SandboxFailure,
  SandboxFailureKind,
  SandboxLimits,
  SandboxRunResult,
} from '../../main/engine/sandbox/SandboxTypes.ts';

const DEADLINE_MS = 1_000;
const GRACE_MS = 500;
const LIMITS: Partial<SandboxLimits> = {
  deadlineMs: DEADLINE_MS,
  watchdogGraceMs: GRACE_MS,
  memoryBytes: 16 * 1024 * 1024,
  maxHostCalls: 64,
  maxLogBytes: 4 * 1024,
};

/**
 * Memory bombs take a few hundred milliseconds to reach 16 MiB (QuickJS collects garbage more and more
 * often near its limit); a long deadline keeps a loaded machine from turning them into Timeouts.
 */
const MEMORY_TEST = { limits: { deadlineMs: 10_000 } };

/** Fake tools: immediate answers, a record of calls, and an optional stall. */
class FakeTools {
  /** The fake as the sandbox's tool table (retrieve and answer with the engine's argument checks). */
  get table(): HostTools {
    return {
      retrieve: retrieveTool(({ query, k }, context) => this.retrieve(query, k, context)),
      answer: answerTool(({ question, docs }, context) => this.answer(question, docs, context)),
    };
  }

  readonly calls: { tool: string; args: unknown[]; context: HostCallContext }[] = [];
  constructor(private readonly stall = false) {}

  retrieve(query: string, k: number | undefined, context: HostCallContext): Promise<RetrievedDoc[]> {
    this.calls.push({ tool: 'retrieve', args: [query, k], context });
    if (this.stall) return new Promise(() => {});
    return Promise.resolve([
      { id: 7, title: 'Doc', text: `about ${query.slice(0, 20)}`, score: 1, source: 'doc.md' },
    ]);
  }

  answer(question: string, docs: RetrievedDoc[] | undefined, context: HostCallContext): Promise<string> {
    this.calls.push({ tool: 'answer', args: [question, docs], context });
    if (this.stall) return new Promise(() => {});
    return Promise.resolve(`answer to ${question.slice(0, 20)}`);
  }
}

let host: SandboxHost;

interface Outcome {
  result: SandboxRunResult;
  events: SandboxEvent[];
  logs: string[];
  tools: FakeTools;
  elapsedMs: number;
}

async function run(
  script: string,
  options: { limits?: Partial<SandboxLimits>; tools?: FakeTools } = {},
): Promise<Outcome> {
  const tools = options.tools ?? new FakeTools();
  const events: SandboxEvent[] = [];
  const started = performance.now();
  const result = await host.run({
    script,
    tools: tools.table,
    limits: { ...LIMITS, ...options.limits },
    onEvent: (e) => events.push(e),
  });
  return {
    result,
    events,
    logs: events.flatMap((event) => (event.type === 'log' ? [event.message] : [])),
    tools,
    elapsedMs: performance.now() - started,
  };
}

async function expectFailure(
  script: string,
  kind: SandboxFailureKind,
  options?: Parameters<typeof run>[1],
): Promise<Outcome & { error: SandboxFailure }> {
  const outcome = await run(script, options);
  if (outcome.result.ok)
    throw new Error(`expected ${kind}, got the value ${JSON.stringify(outcome.result.value)}`);
  expect(outcome.result.error.kind, outcome.result.error.message).toBe(kind);
  return { ...outcome, error: outcome.result.error };
}

async function expectValue(
  script: string,
  options?: Parameters<typeof run>[1],
): Promise<Outcome & { value: unknown }> {
  const outcome = await run(script, options);
  if (!outcome.result.ok)
    throw new Error(`expected a value, got ${outcome.result.error.kind}: ${outcome.result.error.message}`);
  return { ...outcome, value: outcome.result.value };
}

beforeAll(async () => {
  host = new SandboxHost();
  // Start the worker now, so that timings below measure runs, not the worker's start-up.
  await host.run({ script: '0', tools: new FakeTools().table, limits: LIMITS });
});

afterEach(async () => {
  // The host is alive: a trivial program still runs and answers.
  const alive = await host.run({ script: '6 * 7', tools: new FakeTools().table, limits: LIMITS });
  expect(alive).toMatchObject({ ok: true, value: 42 });
});

afterAll(async () => {
  expect(host.stats.workerCrashes).toBe(0);
  await host.close();
});

describe('runaway loops', () => {
  it('stops while (true) {} at the deadline', async () => {
    const { elapsedMs } = await expectFailure('while (true) {}', 'Timeout');
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS - 5);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 400);
  });

  it('stops an endless chain of promise jobs', async () => {
    // The chain holds on to every promise, so it also grows; with room enough it runs into the deadline.
    await expectFailure(
      'Promise.resolve().then(function f() { return Promise.resolve().then(f) })',
      'Timeout',
      {
        limits: { memoryBytes: 256 * 1024 * 1024 },
      },
    );
  });

  it('stops an async function that awaits forever in a loop', async () => {
    await expectFailure('(async () => { for (;;) await null })()', 'Timeout');
  });

  it('stops a busy loop inside an async function', async () => {
    await expectFailure("(async () => { await retrieve('x'); while (true) {} })()", 'Timeout');
  });

  it('cannot catch the interrupt', async () => {
    await expectFailure("try { while (true) {} } catch (e) { 'caught' }", 'Timeout');
  });

  it('terminates the worker when a huge Array.join ignores the interrupt (watchdog)', async () => {
    const before = host.stats.workersTerminated;
    const { elapsedMs, error } = await expectFailure("new Array(1e8).join('x')", 'Timeout', {
      limits: { memoryBytes: 64 * 1024 * 1024 },
    });
    expect(error.message).toMatch(/terminated/);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS + GRACE_MS - 5);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + GRACE_MS + 500);
    expect(host.stats.workersTerminated).toBe(before + 1);
  });

  it("fails 'x'.repeat(2 ** 28) on memory at once", async () => {
    await expectFailure("'x'.repeat(2 ** 28).length", 'MemoryLimit', MEMORY_TEST);
  });

  it('stops a catastrophic regular expression', async () => {
    const { elapsedMs } = await expectFailure("/(a+)+$/.test('a'.repeat(40) + '!')", 'Timeout');
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + GRACE_MS);
  });

  it('stops eval-built code like any other', async () => {
    await expectFailure("eval('while (true) {}')", 'Timeout');
  });
});

describe('stack and memory', () => {
  it('turns runaway recursion into StackOverflow', async () => {
    const { error } = await expectFailure('function f(n) { return f(n + 1) + 1 }\nf(0)', 'StackOverflow');
    expect(error.line).toBe(1);
  });

  it('turns runaway async recursion into StackOverflow', async () => {
    await expectFailure('async function f(n) { return 1 + await f(n + 1) }\nf(0)', 'StackOverflow');
  });

  it('stops growing arrays at the memory limit', async () => {
    await expectFailure('const a = []; for (;;) a.push([a.length, {}])', 'MemoryLimit', MEMORY_TEST);
  });

  it('stops doubling strings at the memory limit', async () => {
    await expectFailure("let s = 'x'; for (;;) s += s", 'MemoryLimit', MEMORY_TEST);
  });

  it('stops object graphs at the memory limit', async () => {
    await expectFailure(
      'let o = {}; for (;;) o = { next: o, pad: [1, 2, 3, 4, 5, 6, 7, 8] }',
      'MemoryLimit',
      MEMORY_TEST,
    );
  });

  it('stops a growing Map at the memory limit', async () => {
    await expectFailure(
      'const m = new Map(); for (let i = 0;; i++) m.set(i, { i })',
      'MemoryLimit',
      MEMORY_TEST,
    );
  });

  it('refuses new ArrayBuffer(2 ** 31) with a RangeError, and 2 ** 30 on memory', async () => {
    const { error } = await expectFailure('new ArrayBuffer(2 ** 31)', 'RuntimeError');
    expect(error).toMatchObject({ errorName: 'RangeError', message: 'invalid array buffer length' });
    await expectFailure('new ArrayBuffer(2 ** 30)', 'MemoryLimit', MEMORY_TEST);
  });

  it('stops an endless promise chain that outgrows memory, although QuickJS rejects it with null', async () => {
    const { error } = await expectFailure(
      'Promise.resolve().then(function f() { return Promise.resolve().then(f) })',
      'MemoryLimit',
      MEMORY_TEST,
    );
    expect(error.message).toMatch(/could not even create the error/);
  });

  it('refuses a huge typed array on memory', async () => {
    await expectFailure('new Float64Array(2 ** 26).length', 'MemoryLimit', MEMORY_TEST);
  });
});

describe('escapes', () => {
  it('only reaches the guest global through the constructor chain', async () => {
    const { value } = await expectValue(`
      const g = retrieve.constructor.constructor('return this')();
      [g === globalThis, typeof g.process, typeof g.require, typeof g.module, typeof g.Buffer, typeof g.setTimeout]`);
    expect(value).toEqual([true, 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('has no require, process or globalThis.process', async () => {
    const { value } = await expectValue(
      '[typeof require, typeof process, typeof globalThis.process, typeof fetch, typeof std, typeof os]',
    );
    expect(value).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
  });

  it('fails import() cleanly', async () => {
    const { error } = await expectFailure("(async () => { await import('fs') })()", 'RuntimeError');
    expect(error).toMatchObject({ errorName: 'ReferenceError', message: "could not load module 'fs'" });
  });

  it('does not compile a static import', async () => {
    await expectFailure("import fs from 'fs'\nfs.readFileSync('/etc/passwd')", 'SyntaxError');
  });

  it('keeps eval-built code in the sandbox', async () => {
    const { value } = await expectValue(
      "[eval('typeof process + typeof require'), (0, eval)('globalThis') === globalThis, new Function('return this')() === globalThis]",
    );
    expect(value).toEqual(['undefinedundefined', true, true]);
  });

  it('does not let prototype pollution survive into the next run', async () => {
    await expectValue(
      "Object.prototype.polluted = 1; Array.prototype.push = null; JSON.parse = () => 'pwned'; globalThis.answer = null; 'done'",
    );
    const { value } = await expectValue(
      "(async () => [({}).polluted, typeof [].push, JSON.parse('1'), await answer('still here')])()",
    );
    expect(value).toEqual([null, 'function', 1, 'answer to still here']);
  });

  it('delivers host results intact after the program tampered with JSON, Object and Array', async () => {
    const { value } = await expectValue(`(async () => {
      JSON.parse = () => 'pwned'; Object.keys = () => []; Array.isArray = () => false; Object.getOwnPropertyDescriptor = () => undefined;
      Object.defineProperty(Object.prototype, 'text', { set() { throw new Error('setter ran') }, configurable: true });
      const docs = await retrieve('tamper');
      return [docs[0].text, docs[0].id, await answer('q', docs)];
    })()`);
    expect(value).toEqual(['about tamper', 7, 'answer to q']);
  });
});

describe('host-call arguments', () => {
  it('refuses a Proxy without running its traps', async () => {
    const { error, logs, tools } = await expectFailure(
      "retrieve(new Proxy({}, { get() { console.log('TRAP'); return 'x' }, ownKeys() { console.log('TRAP'); return [] } }))",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/query is a Proxy/);
    expect(logs).toEqual([]);
    expect(tools.calls).toEqual([]);
  });

  it('refuses a revocable Proxy hidden inside answer() documents', async () => {
    const { error, logs } = await expectFailure(
      "answer('q', [{ text: 'ok' }, Proxy.revocable({ text: 'x' }, { get() { console.log('TRAP') } }).proxy])",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/docs\[1\] is a Proxy/);
    expect(logs).toEqual([]);
  });

  it('refuses a getter without invoking it', async () => {
    const { error, logs } = await expectFailure(
      "let reads = 0; answer('q', [{ get text() { reads++; console.log('GETTER'); return 'x' } }])",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/docs\[0\]\.text is a getter/);
    expect(logs).toEqual([]);
  });

  it('does not reach prototype getters through array holes', async () => {
    const { logs } = await expectFailure(
      "Object.defineProperty(Array.prototype, 0, { get() { console.log('GETTER'); return 'x' } }); answer('q', [, 'b'])",
      'InvalidHostArgument',
    );
    expect(logs).toEqual([]);
  });

  it('refuses a 1 MiB query before reading it', async () => {
    const { error, elapsedMs } = await expectFailure(
      "retrieve('q'.repeat(1024 * 1024))",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/longer than 32768 characters/);
    expect(elapsedMs).toBeLessThan(500);
  });

  it('refuses arguments that are too big together', async () => {
    const { error } = await expectFailure(
      "answer('q', Array.from({ length: 40 }, () => 'd'.repeat(1000)))",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/larger than 32768 bytes|more than the 32768-byte limit/);
  });

  it('refuses a Symbol', async () => {
    const { error } = await expectFailure("retrieve(Symbol('x'))", 'InvalidHostArgument');
    expect(error.message).toMatch(/query is a Symbol/);
  });

  it('refuses a cyclic object', async () => {
    const { error } = await expectFailure(
      "const doc = { text: 'a' }; doc.self = doc; answer('q', [doc])",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/docs\[0\]\.self contains itself/);
  });

  it('refuses a function, a bad k and extra arguments', async () => {
    await expectFailure("answer(() => 'q')", 'InvalidHostArgument');
    const { error } = await expectFailure("retrieve('q', 500)", 'InvalidHostArgument');
    expect(error.message).toMatch(/k must be a whole number from 1 to 50/);
    await expectFailure("retrieve('q', 3, 'extra')", 'InvalidHostArgument');
  });

  it('refuses over-deep documents', async () => {
    const { error } = await expectFailure(
      "let deep = 'x'; for (let i = 0; i < 20; i++) deep = { deep }; answer('q', [{ text: 't', extra: deep }])",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/nested more than 8 levels deep/);
  });

  it('stays InvalidHostArgument when the program catches the error', async () => {
    const { error } = await expectFailure(
      "(async () => { try { await answer(42) } catch (e) { return 'recovered' } })()",
      'InvalidHostArgument',
    );
    expect(error.message).toMatch(/question must be a string/);
  });

  it('reads __reckonLine without running a getter planted on it', async () => {
    const { events, logs } = await expectValue(
      "Object.defineProperty(globalThis, '__reckonLine', { get() { console.log('GETTER'); return 5 } }); retrieve('q')",
    );
    expect(logs).toEqual([]);
    expect(events.find((event) => event.type === 'host-call')).toMatchObject({ line: undefined });
  });
});

describe('host-call limits', () => {
  it('stops 10k host calls in a loop at maxHostCalls + 1', async () => {
    const { error, result, tools } = await expectFailure(
      "(async () => { for (let i = 0; i < 10000; i++) await retrieve('q' + i) })()",
      'HostCallLimit',
    );
    expect(tools.calls).toHaveLength(64);
    expect(result.metrics.hostCalls).toBe(64);
    expect(error.message).toMatch(/more than 64 host calls/);
  });

  it('stays HostCallLimit when the program catches the error and carries on', async () => {
    await expectFailure(
      "(async () => { let n = 0; for (let i = 0; i < 200; i++) { try { await answer('q') ; n++ } catch (e) {} } return n })()",
      'HostCallLimit',
    );
  });

  it('runs 60 sequential awaited host calls under the limit', async () => {
    const { value, result } = await expectValue(
      "(async () => { let last; for (let i = 0; i < 60; i++) last = await answer('q' + i); return last })()",
    );
    expect(value).toBe('answer to q59');
    expect(result.metrics.hostCallsByTool).toEqual({ answer: 60 });
  });

  it('stops a host call that never returns at the host-time budget, not the deadline', async () => {
    const tools = new FakeTools(true);
    const { elapsedMs, error } = await expectFailure(
      "(async () => await retrieve('stalls'))()",
      'HostTimeLimit',
      {
        tools,
        limits: { hostTimeBudgetMs: DEADLINE_MS * 2 },
      },
    );
    expect(error.message).toMatch(/not at fault/);
    expect(elapsedMs).toBeGreaterThanOrEqual(DEADLINE_MS * 2 - 50);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS * 2 + 400);
    expect(tools.calls[0]?.context.signal.aborted).toBe(true);
  });

  it('makes a failing host tool terminal even when the program catches it', async () => {
    const tools = new FakeTools();
    tools.answer = () => Promise.reject(new Error('model unavailable after 3 retries'));
    const { error } = await expectFailure(
      "(async () => { try { await answer('q') } catch (e) {} return 'ignored' })()",
      'HostError',
      { tools },
    );
    expect(error.message).toBe('answer() failed: model unavailable after 3 retries');
  });
});

describe('output and results', () => {
  it('caps a log flood at maxLogBytes with one truncation note', async () => {
    // 20k console calls take a few hundred ms; the deadline is raised so that a loaded machine
    // does not turn this into a Timeout test.
    const { value, logs, result } = await expectValue(
      "for (let i = 0; i < 20000; i++) console.log('line ' + i + ' ' + 'x'.repeat(50)); 'finished'",
      { limits: { deadlineMs: 10_000 } },
    );
    expect(value).toBe('finished');
    expect(result.metrics.logBytes).toBe(4 * 1024);
    const notes = logs.filter((line) => line.startsWith('[console output truncated'));
    expect(notes).toHaveLength(1);
    const captured = logs.filter((line) => !line.startsWith('[console output truncated'));
    expect(captured.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0)).toBeLessThanOrEqual(
      4 * 1024,
    );
  });

  it('caps one enormous log line and empty-line floods', async () => {
    const { logs } = await expectValue("console.log('z'.repeat(1e7)); 1");
    expect(logs[0]!.length).toBeLessThan(4 * 1024);
    const empty = await expectValue('for (let i = 0; i < 2e4; i++) console.log(); 2', {
      limits: { deadlineMs: 10_000 },
    });
    expect(empty.logs.length).toBeLessThanOrEqual(4 * 1024 + 1);
  });

  it('never runs toJSON or getters of the returned value', async () => {
    const { value, logs } = await expectValue(`(async () => ({
      answer: 'ok',
      toJSON() { console.log('TOJSON'); return 'hijacked' },
      get trap() { console.log('GETTER'); return 1 },
      nested: { get deeper() { console.log('GETTER'); return 2 }, kept: true },
    }))()`);
    expect(value).toEqual({ answer: 'ok', nested: { kept: true } });
    expect(logs).toEqual([]);
  });

  it('fails a program that returns a Proxy, without running its traps', async () => {
    const { error, logs } = await expectFailure(
      "new Proxy({}, { get() { console.log('TRAP') }, ownKeys() { console.log('TRAP'); return [] }, getPrototypeOf() { console.log('TRAP'); return null } })",
      'RuntimeError',
    );
    expect(error).toMatchObject({ errorName: 'TypeError' });
    expect(error.message).toMatch(/result is a Proxy/);
    expect(logs).toEqual([]);
  });

  it('reads a cyclic result with a marker', async () => {
    const { value } = await expectValue("const a = { name: 'a' }; a.self = a; a");
    expect(value).toEqual({ name: 'a', self: '[Circular]' });
  });

  it('reports a thrown non-Error value as a RuntimeError', async () => {
    const { error } = await expectFailure('__reckonLine = 1; throw 42', 'RuntimeError');
    expect(error.message).toMatch(/not an Error: 42/);
    expect(error.line).toBe(1);
  });

  it('caps huge error messages', async () => {
    const { error } = await expectFailure("throw new Error('m'.repeat(1e6))", 'RuntimeError');
    expect(error.message.length).toBeLessThanOrEqual(2_000);
    expect(error.errorName).toBe('Error');
  });

  it('does not run a getter planted on the thrown error', async () => {
    const { error, logs } = await expectFailure(
      "const e = new Error('plain'); Object.defineProperty(e, 'message', { get() { console.log('GETTER'); return 'x' } }); throw e",
      'RuntimeError',
    );
    expect(logs).toEqual([]);
    expect(error.message).not.toContain('x');
  });

  it('cancels a program stuck in a builtin after the grace period', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 100);
    const result = await host.run({
      script: "new Array(1e8).join('')",
      tools: new FakeTools().table,
      limits: { ...LIMITS, deadlineMs: 10_000 },
      signal: controller.signal,
    });
    expect(result).toMatchObject({ ok: false, error: { kind: 'Cancelled' } });
    expect(performance.now() - started).toBeLessThan(100 + GRACE_MS + 400);
  });
});
