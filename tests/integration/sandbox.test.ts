import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import { answerTool, retrieveTool } from '../../main/engine/strategies/retrievalTools.ts';
import { TestQuickJSWASMModule, type QuickJSContext, type QuickJSRuntime } from 'quickjs-emscripten-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  newSandboxQuickJsModule,
  sandboxWasmMemoryBytes,
} from '../../main/engine/sandbox/newSandboxQuickJsModule.ts';
import {
  DEFAULT_PREPARED_CONTEXTS,
  QuickJsExecutor,
  type QuickJsExecutorBridge,
} from '../../main/engine/sandbox/QuickJsExecutor.ts';
import { resolveSandboxLimits } from '../../main/engine/sandbox/resolveSandboxLimits.ts';
import {
  closeDefaultSandboxHost,
  runSandboxedProgram,
  SandboxHost,
} from '../../main/engine/sandbox/runSandboxedProgram.ts';
import { SandboxUsageError } from '../../main/engine/sandbox/sandboxErrors.ts';
import type { HostCallReply, HostCallRequest } from '../../main/engine/sandbox/sandboxProtocol.ts';
import type {
  HostCallContext,
  HostTools,
  RetrievedDoc,
  SandboxEvent,
  SandboxFailure,
  SandboxLimits,
  SandboxRunResult,
} from '../../main/engine/sandbox/SandboxTypes.ts';

/** Small limits keep failures fast; every test that needs more says so. */
const LIMITS: Partial<SandboxLimits> = {
  deadlineMs: 1_500,
  watchdogGraceMs: 500,
  memoryBytes: 16 * 1024 * 1024,
};

interface RecordedCall {
  tool: 'retrieve' | 'answer';
  args: unknown[];
  context: HostCallContext;
}

/** Hand-written fake tools over a tiny corpus; answer() knows two facts and records overlap. */
class FakeTools {
  /** The fake as the sandbox's tool table (retrieve and answer with the engine's argument checks). */
  get table(): HostTools {
    return {
      retrieve: retrieveTool(({ query, k }, context) => this.retrieve(query, k, context)),
      answer: answerTool(({ question, docs }, context) => this.answer(question, docs, context)),
    };
  }

  readonly calls: RecordedCall[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly answerDelayMs = 0) {}

  async retrieve(query: string, k: number | undefined, context: HostCallContext): Promise<RetrievedDoc[]> {
    this.calls.push({ tool: 'retrieve', args: [query, k], context });
    await delay(1);
    const corpus: RetrievedDoc[] = [
      { id: 1, title: 'Ada', text: 'Ada Lovelace was born in London.', score: 2, source: 'ada.md' },
      { id: 2, title: 'London', text: 'London is the capital of England.', score: 1, source: 'london.md' },
    ];
    return corpus.filter((doc) => query.split(' ').some((word) => doc.text.includes(word))).slice(0, k ?? 10);
  }

  async answer(
    question: string,
    docs: RetrievedDoc[] | undefined,
    context: HostCallContext,
  ): Promise<string> {
    this.calls.push({ tool: 'answer', args: [question, docs], context });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await delay(this.answerDelayMs);
      if (question.includes('born'))
        return docs?.some((doc) => doc.text.includes('London')) ? 'London' : 'unknown';
      if (question.includes('capital'))
        return docs?.some((doc) => doc.text.includes('England')) ? 'England' : 'unknown';
      return `echo:${question}`;
    } finally {
      this.inFlight -= 1;
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function failureOf(result: SandboxRunResult): SandboxFailure {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function valueOf(result: SandboxRunResult): unknown {
  if (!result.ok) throw new Error(`expected a value, got ${result.error.kind}: ${result.error.message}`);
  return result.value;
}

describe('SandboxHost', () => {
  let host: SandboxHost;
  beforeAll(() => {
    host = new SandboxHost();
  });
  afterAll(async () => {
    // No run of this suite may leave a QuickJS object behind (runtime.dispose() asserts on it).
    expect(host.stats.teardownFailures).toBe(0);
    expect(host.stats.workerCrashes).toBe(0);
    await host.close();
    await closeDefaultSandboxHost();
  });

  it('runs a two-hop program over async host tools and returns its value', async () => {
    const tools = new FakeTools();
    const script = [
      '(async () => {',
      "  const first = await retrieve('Ada born', 2);",
      "  const city = await answer('Where was Ada born?', first);",
      '  const second = await retrieve(city + " capital");',
      '  const country = await answer(`What is ${city} the capital of?`, second);',
      '  return { city, country, hops: 2 };',
      '})()',
    ].join('\n');
    const result = await host.run({ script, tools: tools.table, limits: LIMITS });
    expect(valueOf(result)).toEqual({ city: 'London', country: 'England', hops: 2 });
    expect(result.metrics.hostCalls).toBe(4);
    expect(result.metrics.hostCallsByTool).toEqual({ retrieve: 2, answer: 2 });
    expect(result.metrics.durationMs).toBeGreaterThan(0);
    expect(tools.calls.map((call) => call.tool)).toEqual(['retrieve', 'answer', 'retrieve', 'answer']);
    expect(tools.calls[0]!.args).toEqual(['Ada born', 2]);
    expect(tools.calls[2]!.args).toEqual(['London capital', undefined]);
    expect(tools.calls.map((call) => call.context.callIndex)).toEqual([0, 1, 2, 3]);
  });

  it('runs awaited host calls in parallel (Promise.all of 6 answer calls overlap)', async () => {
    const tools = new FakeTools(40);
    const script = `(async () => {
      const questions = ['a', 'b', 'c', 'd', 'e', 'f'];
      return await Promise.all(questions.map((q) => answer('q-' + q)));
    })()`;
    const result = await host.run({ script, tools: tools.table, limits: LIMITS });
    expect(valueOf(result)).toEqual(['echo:q-a', 'echo:q-b', 'echo:q-c', 'echo:q-d', 'echo:q-e', 'echo:q-f']);
    // All six calls were in flight at once (a timed bound would only measure the machine's load).
    expect(tools.maxInFlight).toBe(6);
  });

  it('delivers bindings, logs and host calls as ordered events', async () => {
    const events: SandboxEvent[] = [];
    const script = [
      '(async () => {',
      "  console.log('start', 1, { a: [1, 2] });",
      "  const docs = await retrieve('London');",
      "  __reckonBind('docs', docs, 3);",
      "  console.warn('warned');",
      "  console.error(new TypeError('bad thing'));",
      "  __reckonBind('n', 'x'.repeat(1000), 6);",
      '  return docs.length;',
      '})()',
    ].join('\n');
    const result = await host.run({
      script,
      tools: new FakeTools().table,
      limits: LIMITS,
      onEvent: (e) => events.push(e),
    });
    expect(valueOf(result)).toBe(2);
    expect(events.map((event) => event.type)).toEqual([
      'log',
      'host-call',
      'host-result',
      'binding',
      'log',
      'log',
      'binding',
    ]);
    expect(events[0]).toEqual({ type: 'log', level: 'log', message: 'start 1 {"a": [1, 2]}' });
    expect(events[1]).toMatchObject({
      type: 'host-call',
      callIndex: 0,
      tool: 'retrieve',
      // Arguments are JSON copies: an optional argument left out is absent.
      args: ['London'],
    });
    expect(events[2]).toMatchObject({ type: 'host-result', callIndex: 0, tool: 'retrieve' });
    expect((events[2] as unknown as { result: RetrievedDoc[] }).result).toHaveLength(2);
    expect(events[3]).toMatchObject({ type: 'binding', name: 'docs', line: 3 });
    expect((events[3] as { preview: string }).preview).toMatch(/^\[\{"id": 1, "title": "Ada"/);
    expect((events[3] as { preview: string }).preview.length).toBeLessThanOrEqual(200);
    expect(events[4]).toEqual({ type: 'log', level: 'warn', message: 'warned' });
    expect(events[5]).toEqual({ type: 'log', level: 'error', message: 'TypeError: bad thing' });
    const longBinding = events[6] as { preview: string };
    expect(longBinding.preview).toHaveLength(200);
    expect(longBinding.preview.endsWith('…')).toBe(true);
    expect(result.metrics.logBytes).toBe(
      ['start 1 {"a": [1, 2]}', 'warned', 'TypeError: bad thing'].reduce(
        (sum, line) => sum + line.length + 1,
        0,
      ),
    );
  });

  it('reads __reckonLine for host-call events and HostCallContext, whether it is a var or a let', async () => {
    for (const declaration of ['var', 'let']) {
      const tools = new FakeTools();
      const events: SandboxEvent[] = [];
      const script = [
        `${declaration} __reckonLine = 0;`,
        '(async () => {',
        "  __reckonLine = 3; const docs = await retrieve('Ada');",
        '  __reckonLine = 4;',
        "  __reckonLine = 5; return await answer('born?', docs);",
        '})()',
      ].join('\n');
      const result = await host.run({
        script,
        tools: tools.table,
        limits: LIMITS,
        onEvent: (e) => events.push(e),
      });
      expect(valueOf(result)).toBe('London');
      expect(events.filter((e) => e.type === 'host-call').map((e) => (e as { line: number }).line)).toEqual([
        3, 5,
      ]);
      expect(tools.calls.map((call) => call.context.line)).toEqual([3, 5]);
    }
  });

  it('uses __reckonLine as the fallback line of a failure and reports __reckonMaxDepth', async () => {
    const thrown = await host.run({
      script:
        'var __reckonLine = 0, __reckonMaxDepth = 0;\n__reckonMaxDepth = 7;\n__reckonLine = 3; throw "plain string";',
      tools: new FakeTools().table,
      limits: LIMITS,
    });
    expect(failureOf(thrown)).toMatchObject({ kind: 'RuntimeError', line: 3 });
    expect(thrown.metrics.maxStackDepth).toBe(7);
    const located = await host.run({ script: '\n\nnull.x;', tools: new FakeTools().table, limits: LIMITS });
    expect(failureOf(located)).toMatchObject({
      kind: 'RuntimeError',
      errorName: 'TypeError',
      line: 3,
      column: 5,
    });
    expect(located.metrics.maxStackDepth).toBe(0);
  });

  it('reads the result with caps and without running guest getters or toJSON', async () => {
    const events: SandboxEvent[] = [];
    const script = `(async () => {
      let nested = 'bottom';
      for (let i = 0; i < 30; i++) nested = { down: nested };
      const value = {
        text: 'y'.repeat(150000),
        nested,
        items: Array.from({ length: 12000 }, (_, i) => i),
        toJSON() { console.log('toJSON ran'); return 'replaced'; },
        get secret() { console.log('getter ran'); return 'leaked'; },
        fn() {},
        nan: NaN,
        holes: [1, , 3],
      };
      Object.defineProperty(value, '__proto__', { value: { polluted: true }, enumerable: true });
      return value;
    })()`;
    const result = await host.run({
      script,
      tools: new FakeTools().table,
      limits: LIMITS,
      onEvent: (e) => events.push(e),
    });
    const value = valueOf(result) as Record<string, unknown>;
    expect(events).toEqual([]);
    expect(value).not.toHaveProperty('secret');
    expect(value).not.toHaveProperty('toJSON');
    expect(value).not.toHaveProperty('fn');
    expect(value.nan).toBeNull();
    expect(value.holes).toEqual([1, null, 3]);
    expect(value.text).toMatch(/^y{100000}… \[50000 more characters\]$/);
    const items = value.items as unknown[];
    expect(items).toHaveLength(10_001);
    expect(items.at(-1)).toBe('[… 2000 more items]');
    let level: unknown = value.nested;
    let depth = 1;
    while (typeof level === 'object' && level !== null) {
      level = (level as { down: unknown }).down;
      depth += 1;
    }
    expect(depth).toBe(20);
    expect(level).toBe('[nested deeper than 20 levels]');
    // "__proto__" came back as an own data key, not as a prototype.
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ polluted: true });
  });

  it('reads strings exactly, NULs, lone surrogates and U+FFFD included: results, keys, logs, bindings', async () => {
    const events: SandboxEvent[] = [];
    const result = await host.run({
      script: `(async () => {
        const s = 'a\\u0000b\\uD800c';
        console.log(s);
        __reckonBind('s', s, 1);
        return { [s]: s, cut: s.slice(0, 4), replacement: 'x\\uFFFDy', plain: 'caf\\u00e9 \\u{1F600}' };
      })()`,
      tools: new FakeTools().table,
      limits: LIMITS,
      onEvent: (event) => events.push(event),
    });
    const s = 'a\u0000b\uD800c';
    expect(valueOf(result)).toEqual({
      [s]: s,
      cut: 'a\u0000b\uD800',
      replacement: 'x\uFFFDy',
      plain: 'café 😀',
    });
    expect(events).toContainEqual({ type: 'log', level: 'log', message: s });
    expect(events).toContainEqual({ type: 'binding', name: 's', preview: JSON.stringify(s), line: 1 });
  });

  it('gives every run a fresh runtime: globals and prototype changes do not survive', async () => {
    const tools = new FakeTools();
    const first = await host.run({
      script:
        'globalThis.leftover = 42; Object.prototype.polluted = true; Array.prototype.map = null; leftover',
      tools: tools.table,
      limits: LIMITS,
    });
    expect(valueOf(first)).toBe(42);
    const second = await host.run({
      script: '[typeof leftover, ({}).polluted === undefined, typeof [].map]',
      tools: tools.table,
      limits: LIMITS,
    });
    expect(valueOf(second)).toEqual(['undefined', true, 'function']);
    expect(host.stats.workersStarted).toBe(1);
  });

  it('accepts answer() documents as RetrievedDocs, strings or one string and passes normalized copies', async () => {
    const tools = new FakeTools();
    const script = `(async () => {
      await answer('one', 'a single passage');
      await answer('two', ['first', 'second']);
      await answer('three', [{ text: 'only text' }, { id: 9, title: 'T', text: 'full', score: 0.5, source: 'x.md', extra: 1 }]);
      await answer('four');
      return 'done';
    })()`;
    expect(valueOf(await host.run({ script, tools: tools.table, limits: LIMITS }))).toBe('done');
    const program = { id: -1, title: '', score: 0, source: 'program' };
    expect(tools.calls.map((call) => call.args[1])).toEqual([
      [{ ...program, text: 'a single passage' }],
      [
        { ...program, text: 'first' },
        { ...program, text: 'second' },
      ],
      [
        { ...program, text: 'only text' },
        { id: 9, title: 'T', text: 'full', score: 0.5, source: 'x.md' },
      ],
      undefined,
    ]);
  });

  it('returns a plain completion value, and fails a program whose promise can never settle', async () => {
    expect(
      valueOf(await host.run({ script: "'plain ' + (6 * 7)", tools: new FakeTools().table, limits: LIMITS })),
    ).toBe('plain 42');
    expect(
      valueOf(await host.run({ script: 'undefined', tools: new FakeTools().table, limits: LIMITS })),
    ).toBeUndefined();
    const stuck = await host.run({
      script: 'new Promise(() => {})',
      tools: new FakeTools().table,
      limits: LIMITS,
    });
    expect(failureOf(stuck).kind).toBe('RuntimeError');
    expect(failureOf(stuck).message).toMatch(/can never settle/);
    expect(stuck.metrics.durationMs).toBeLessThan(1_000);
  });

  it('reports a program that throws null as what it threw, not as the memory limit', async () => {
    const prepared = prepareProgram('const x = 1;\nif (x) throw null;\nreturn x;');
    if (!prepared.ok) throw new Error(prepared.error.message);
    const failure = failureOf(await host.run({ script: prepared.program.script, tools: {}, limits: LIMITS }));
    expect(failure).toMatchObject({ kind: 'RuntimeError', errorName: 'null', line: 2 });
    expect(failure.message).toMatch(/threw null/);
  });

  it('frees stopped promise chains without a QuickJS assertion and keeps the worker for the next run', async () => {
    // Such chains grow QuickJS's WebAssembly memory while promise jobs run; with a growable memory
    // quickjs-emscripten 0.32 then reads a detached view and leaks a whole context, and freeing the
    // runtime aborted with `Assertion failed: list_empty(&rt->gc_obj_list)` (see newSandboxQuickJsModule.ts).
    // The memory grows past ~30,000 links, which a fast machine reaches within the deadline.
    const chain = 'Promise.resolve().then(function f() { return Promise.resolve().then(f) })';
    // A first job that allocates 16 MB at once grows a fresh 16 MiB memory on any machine.
    const bigFirstJob = 'Promise.resolve().then(() => { globalThis.pad = new Float64Array(2_000_000) })';
    const never: HostTools = {
      retrieve: retrieveTool(() => new Promise(() => {})),
      answer: answerTool(() => new Promise(() => {})),
    };
    // With 64 MiB the deadline stops the deadline cases first (250 ms of links is far from filling it,
    // even with malloc's overhead, which QuickJS's own count leaves out); the memory case fills 16 MiB quickly.
    const byDeadline = { ...LIMITS, deadlineMs: 250, memoryBytes: 64 * 1024 * 1024 };
    const hostile: { name: string; script: string; limits: Partial<SandboxLimits>; kind: string }[] = [
      {
        name: 'a guest-only chain stopped by the deadline',
        script: chain,
        limits: byDeadline,
        kind: 'Timeout',
      },
      {
        name: 'a guest-only chain after a big first job, stopped by the deadline',
        script: `${bigFirstJob}.then(function f() { return Promise.resolve().then(f) })`,
        limits: byDeadline,
        kind: 'Timeout',
      },
      {
        name: 'a chain whose links keep data, stopped by the memory limit',
        script:
          'const keep = []; Promise.resolve().then(function f() { keep.push({ n: keep.length, s: "x".repeat(64) + keep.length }); return Promise.resolve().then(f) })',
        limits: { ...LIMITS, deadlineMs: 20_000 },
        kind: 'MemoryLimit',
      },
      {
        name: 'a chain stopped by the deadline with host calls in flight',
        script: `answer('never'); retrieve('never either'); ${bigFirstJob}.then(function f() { return Promise.resolve().then(f) })`,
        limits: byDeadline,
        kind: 'Timeout',
      },
    ];
    const own = new SandboxHost();
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    // The worker's stderr is piped into this process's; QuickJS's abort message is printed there.
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
      stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return write(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      for (const { name, script, limits, kind } of hostile) {
        const before = own.stats;
        const result = await own.run({ script, tools: never, limits });
        expect.soft(failureOf(result).kind, name).toBe(kind);
        expect.soft(valueOf(await own.run({ script: '6 * 7', tools: {}, limits })), name).toBe(42);
        const after = own.stats;
        expect.soft(after.teardownFailures - before.teardownFailures, name).toBe(0);
        expect.soft(after.workersStarted, name).toBe(1); // never replaced
      }
      await delay(100); // the worker's stderr arrives asynchronously
    } finally {
      process.stderr.write = write;
      await own.close();
    }
    expect(own.stats.workerCrashes).toBe(0);
    expect(stderr.join('')).not.toMatch(/Aborted\(|Assertion failed|list_empty/);
  });

  it('bounds the real memory of a program, and fails a tool result that no longer fits as MemoryLimit', async () => {
    // QuickJS's own accounting in this build counts ~8 bytes per allocation, so 1 kB strings went far
    // past memoryBytes; the fixed WebAssembly memory is the real bound. The 1 MB tool result then has
    // no room: copying it in must fail cleanly instead of writing over the module's static data.
    const limits = { ...LIMITS, deadlineMs: 20_000 };
    const tools: HostTools = {
      retrieve: retrieveTool(() => Promise.resolve([])),
      answer: answerTool(() => Promise.resolve('y'.repeat(1_000_000))),
    };
    const fill = "const keep = []; try { for (;;) keep.push('z'.repeat(1000) + keep.length) } catch (e) {}";
    const kept = valueOf(await host.run({ script: `${fill}; keep.length`, tools, limits }));
    expect(kept).toBeGreaterThan(1_000);
    expect(kept).toBeLessThan(sandboxWasmMemoryBytes(LIMITS.memoryBytes!) / 1_000);
    const result = await host.run({ script: `${fill}; answer('q')`, tools, limits });
    expect(failureOf(result)).toMatchObject({ kind: 'MemoryLimit' });
    expect(failureOf(result).message).toMatch(/result of answer\(\) did not fit/);
    expect(valueOf(await host.run({ script: '6 * 7', tools, limits }))).toBe(42);
    expect(host.stats.teardownFailures).toBe(0);
  });

  it('reports a rejected tool as a terminal HostError with the tool message', async () => {
    const tools: HostTools = {
      retrieve: retrieveTool(() => Promise.reject(new Error('search index is locked'))),
      answer: answerTool(() => Promise.resolve('never')),
    };
    const script =
      "(async () => { try { await retrieve('x'); } catch (e) { return 'caught: ' + e.message; } })()";
    const result = await host.run({ script, tools, limits: LIMITS });
    expect(failureOf(result)).toMatchObject({
      kind: 'HostError',
      message: 'retrieve() failed: search index is locked',
    });
  });

  it('cancels a run waiting on a host call and a busy run through the signal', async () => {
    const seen: AbortSignal[] = [];
    const tools: HostTools = {
      retrieve: retrieveTool((_args, context) => {
        seen.push(context.signal);
        return new Promise(() => {});
      }),
      answer: answerTool(() => Promise.resolve('')),
    };
    const waiting = new AbortController();
    const pendingWait = host.run({ script: "retrieve('x')", tools, limits: LIMITS, signal: waiting.signal });
    await delay(100);
    waiting.abort();
    const waited = await pendingWait;
    expect(failureOf(waited).kind).toBe('Cancelled');
    expect(seen[0]?.aborted).toBe(true);

    const busy = new AbortController();
    const started = performance.now();
    const pendingBusy = host.run({ script: 'while (true) {}', tools, limits: LIMITS, signal: busy.signal });
    setTimeout(() => busy.abort(), 100);
    expect(failureOf(await pendingBusy).kind).toBe('Cancelled');
    expect(performance.now() - started).toBeLessThan(800);
    expect(host.stats.workersTerminated).toBe(0);

    const early = new AbortController();
    early.abort();
    expect(failureOf(await host.run({ script: '1', tools, signal: early.signal })).kind).toBe('Cancelled');
  });

  it('rejects misuse with SandboxUsageError and nothing else', async () => {
    const tools = new FakeTools();
    await expect(
      host.run({ script: '1', tools: tools.table, limits: { stackBytes: 1024 * 1024 } }),
    ).rejects.toBeInstanceOf(SandboxUsageError);
    await expect(host.run({ script: '1', tools: tools.table, limits: { stackBytes: 0 } })).rejects.toThrow(
      /stackBytes/,
    );
    await expect(host.run({ script: '1', tools: tools.table, limits: { deadlineMs: -1 } })).rejects.toThrow(
      /deadlineMs/,
    );
    await expect(host.run({ script: 42 as unknown as string, tools: tools.table })).rejects.toMatchObject({
      code: 'SANDBOX_INVALID_OPTIONS',
    });
    await expect(
      host.run({ script: '1', tools: { retrieve: (() => []) as unknown as HostTools[string] } }),
    ).rejects.toBeInstanceOf(SandboxUsageError);
    await expect(host.run({ script: '1', tools: { console: tools.table.retrieve! } })).rejects.toThrow(
      /cannot be a host tool name/,
    );
    // A program may have no tools at all.
    expect(valueOf(await host.run({ script: '1', tools: {} }))).toBe(1);
    expect(resolveSandboxLimits({ deadlineMs: 5 })).toMatchObject({ deadlineMs: 5, stackBytes: 256 * 1024 });
  });

  it('runs through runSandboxedProgram on the shared default host', async () => {
    const result = await runSandboxedProgram({
      script: "(async () => (await retrieve('Ada')).map((doc) => doc.source))()",
      tools: new FakeTools().table,
    });
    expect(valueOf(result)).toEqual(['ada.md']);
  });

  it('queues concurrent runs on one worker and keeps their events apart', async () => {
    const eventsA: SandboxEvent[] = [];
    const eventsB: SandboxEvent[] = [];
    const [a, b] = await Promise.all([
      host.run({
        script: "console.log('A'); 'a'",
        tools: new FakeTools().table,
        limits: LIMITS,
        onEvent: (e) => eventsA.push(e),
      }),
      host.run({
        script: "console.log('B'); 'b'",
        tools: new FakeTools().table,
        limits: LIMITS,
        onEvent: (e) => eventsB.push(e),
      }),
    ]);
    expect([valueOf(a), valueOf(b)]).toEqual(['a', 'b']);
    expect(eventsA).toEqual([{ type: 'log', level: 'log', message: 'A' }]);
    expect(eventsB).toEqual([{ type: 'log', level: 'log', message: 'B' }]);
  });
});

describe('QuickJsExecutor', () => {
  it('disposes every QuickJS handle, runtime and context, whatever the outcome', async () => {
    // TestQuickJSWASMModule would be the core's leak check, but QuickJSWASMModule.newRuntime (0.32.0)
    // drops the `ownedLifetimes` it relies on, so it reports every runtime as leaked. Track them here;
    // runtime.dispose() itself asserts that no QuickJS object is left (teardownError otherwise).
    // The module the worker uses: a fixed memory for LIMITS.memoryBytes.
    const { module: parent, memoryFullCount } = await newSandboxQuickJsModule(LIMITS.memoryBytes!);
    const runtimes: QuickJSRuntime[] = [];
    const contexts: QuickJSContext[] = [];
    const executor = new QuickJsExecutor(
      {
        newRuntime(options) {
          const runtime = parent.newRuntime(options);
          const newContext = runtime.newContext.bind(runtime);
          runtime.newContext = (contextOptions) => {
            const context = newContext(contextOptions);
            contexts.push(context);
            return context;
          };
          runtimes.push(runtime);
          return runtime;
        },
      },
      { memoryFullCount },
    );
    const limits = resolveSandboxLimits({ ...LIMITS, maxHostCalls: 3, maxLogBytes: 64 });
    const bridge = (stall = false): QuickJsExecutorBridge => ({
      hostCall(call: HostCallRequest, respond: (reply: HostCallReply) => void) {
        if (stall) return;
        setTimeout(() => respond({ ok: true, json: call.tool === 'answer' ? '"yes"' : '[]' }), 1);
      },
      emit() {},
    });
    const programs: [string, string, boolean?][] = [
      ["(async () => [await retrieve('q'), await answer('a', ['d'])])()", 'ok'],
      [
        "(async () => { console.log('x'.repeat(500)); __reckonBind('v', {a: [1]}, 1); return {a: 1}; })()",
        'ok',
      ],
      ['let x = ;', 'SyntaxError'],
      ["(async () => { await answer('q'); null.x })()", 'RuntimeError'],
      ['while (true) {}', 'Timeout'],
      ["retrieve('never answered')", 'HostTimeLimit', true],
      [
        "(async () => { for (let i = 0; i < 10; i++) try { await answer('q') } catch {} })()",
        'HostCallLimit',
      ],
      ['answer(new Proxy({}, {}))', 'InvalidHostArgument'],
      ['function f() { return f() + 1 } f()', 'StackOverflow'],
      ['let o = {}; for (;;) o = { next: o, pad: [1, 2, 3, 4, 5, 6, 7, 8] }', 'MemoryLimit'],
      ['const a = []; for (;;) a.push([a.length, {}])', 'MemoryLimit'],
      ['new Proxy({}, {})', 'RuntimeError'],
    ];
    // Each program twice: in a runtime made for it, and in one prepareNext() made ahead (its limits
    // are set when the run starts: Timeout, StackOverflow and MemoryLimit must still hold).
    for (const [[script, expected, stall], prepared] of programs.flatMap((program) =>
      [false, true].map((ahead) => [program, ahead] as const),
    )) {
      const quick = expected === 'Timeout' || expected === 'HostTimeLimit';
      const made = runtimes.length;
      if (prepared) expect(executor.prepareNext()).toBe(true);
      const outcome = await executor.execute(
        {
          script,
          limits: { ...limits, deadlineMs: quick ? 300 : 10_000, hostTimeBudgetMs: quick ? 300 : 10_000 },
          tools: [
            { name: 'retrieve', parameters: ['query', 'k'] },
            { name: 'answer', parameters: ['question', 'docs'] },
          ],
        },
        bridge(stall),
      );
      expect(outcome.result.ok ? 'ok' : outcome.result.error.kind, script).toBe(expected);
      expect(outcome.teardownError, script).toBeUndefined();
      // One runtime per run: the prepared one is used, not another made beside it.
      expect(runtimes.length - made, script).toBe(1);
    }
    expect(runtimes).toHaveLength(programs.length * 2);
    expect(contexts).toHaveLength(programs.length * 2);
    expect(runtimes.filter((runtime) => runtime.alive)).toEqual([]);
    expect(contexts.filter((context) => context.alive)).toEqual([]);
    // The core's own bookkeeping shows the bug the tracking above works around.
    const tracked = new TestQuickJSWASMModule(parent);
    tracked.newRuntime().dispose();
    expect(() => tracked.assertNoMemoryAllocated()).toThrow(/1 runtimes leaked/);
  });

  it('keeps up to preparedContexts runtimes ready, each used by one run, oldest first', async () => {
    const { module: parent } = await newSandboxQuickJsModule(LIMITS.memoryBytes!);
    const made: QuickJSRuntime[] = [];
    const tracking = {
      newRuntime: (options?: Parameters<typeof parent.newRuntime>[0]) => {
        const runtime = parent.newRuntime(options);
        made.push(runtime);
        return runtime;
      },
    };
    const limits = resolveSandboxLimits(LIMITS);
    const run = (executor: QuickJsExecutor, script: string) =>
      executor.execute({ script, limits, tools: [] }, { hostCall() {}, emit() {} });
    const executor = new QuickJsExecutor(tracking);
    expect(DEFAULT_PREPARED_CONTEXTS).toBe(2);
    expect(executor.wantsPreparation).toBe(true);
    expect(executor.prepareNext()).toBe(true);
    expect(executor.prepareNext()).toBe(true);
    expect(executor.wantsPreparation).toBe(false);
    expect(executor.prepareNext()).toBe(true); // full: makes nothing
    expect(made).toHaveLength(2);
    const [first, second] = made;
    // A program that leaves a mark in its global object: the next run must not see it.
    expect((await run(executor, 'globalThis.mark = 1; typeof mark')).result).toEqual({
      ok: true,
      value: 'number',
    });
    expect(first!.alive).toBe(false);
    expect(second!.alive).toBe(true);
    expect(executor.wantsPreparation).toBe(true);
    expect((await run(executor, 'typeof mark')).result).toEqual({ ok: true, value: 'undefined' });
    expect(second!.alive).toBe(false);
    expect(made).toHaveLength(2);
    // None ready: the run makes its own.
    expect((await run(executor, '1 + 1')).result).toEqual({ ok: true, value: 2 });
    expect(made).toHaveLength(3);
    expect(made.filter((runtime) => runtime.alive)).toEqual([]);

    const none = new QuickJsExecutor(tracking, { preparedContexts: 0 });
    expect(none.wantsPreparation).toBe(false);
    expect(none.prepareNext()).toBe(true);
    expect(made).toHaveLength(3);
  });

  it('leaves a run to make its own runtime when prepareNext cannot, and says when the module is unsound', () => {
    const refused = new QuickJsExecutor({
      newRuntime() {
        throw new Error('no room for a runtime');
      },
    });
    expect(refused.prepareNext()).toBe(true);
    const leaking = new QuickJsExecutor({
      newRuntime: () =>
        ({
          newContext() {
            throw new Error('no room for a context');
          },
          dispose() {
            throw new Error('a handle is still alive');
          },
        }) as unknown as QuickJSRuntime,
    });
    expect(leaking.prepareNext()).toBe(false);
  });
});

describe('newSandboxQuickJsModule', () => {
  it('sizes the fixed memory from memoryBytes within what the module accepts', () => {
    const MiB = 1024 * 1024;
    expect(sandboxWasmMemoryBytes(64 * MiB)).toBe(80 * MiB);
    expect(sandboxWasmMemoryBytes(1)).toBe(16 * MiB + 64 * 1024); // rounded up to whole 64 KiB pages
    expect(sandboxWasmMemoryBytes(2 * 1024 * MiB)).toBe(2 * 1024 * MiB); // 32-bit WebAssembly's most
  });

  it('reports a program stalled after the memory was found full as MemoryLimit, and one stalled on its own as RuntimeError', async () => {
    // QuickJS drops a promise job it has no memory to queue; only the refused growth tells the two apart.
    const { module } = await newSandboxQuickJsModule(LIMITS.memoryBytes!);
    const stall = async (memoryFullCount: () => number): Promise<SandboxFailure> => {
      const outcome = await new QuickJsExecutor(module, { memoryFullCount }).execute(
        { script: 'new Promise(() => {})', limits: resolveSandboxLimits(LIMITS), tools: [] },
        { hostCall() {}, emit() {} },
      );
      expect(outcome.teardownError).toBeUndefined();
      if (outcome.result.ok) throw new Error('expected a failure');
      return outcome.result.error;
    };
    expect(await stall(() => 3)).toMatchObject({
      kind: 'RuntimeError',
      message: expect.stringMatching(/never settle/),
    });
    let refusals = 3;
    // As if the program's allocations had filled the memory after it started: one more refusal.
    expect(await stall(() => refusals++)).toMatchObject({
      kind: 'MemoryLimit',
      message: expect.stringMatching(/queueing its promise jobs/),
    });
  });
});
