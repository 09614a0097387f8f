/**
 * Chain-of-Code's control flow with scripted replay outputs through the real replay backend and the
 * real sandbox: a simulated helper whose value flows into later statements, a simulated variable,
 * the per-execution cap, a program with nothing undefined, a simulation reply that is not JSON
 * (retried, then a typed failure), a runtime error repaired, and the rewrite itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GenerateOptions, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import {
  closeDefaultSandboxHost,
  runSandboxedProgram,
} from '../../main/engine/sandbox/runSandboxedProgram.ts';
import {
  cocOptionsSchema,
  normalizeAnswer,
  runCoc,
  type CocOptions,
} from '../../main/engine/strategies/coc/coc.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import {
  SANDBOX_GLOBALS,
  routeUndefinedCalls,
} from '../../main/engine/strategies/simulation/routeUndefinedCalls.ts';
import { parseSimulatedValue } from '../../main/engine/strategies/simulation/simulateTool.ts';
import type { StrategyOutcome } from '../../main/engine/strategies/Strategy.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-coc-'));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await closeDefaultSandboxHost();
});

type Line = { role: string; output: string };
const plan = (...lines: string[]): Line => ({
  role: 'plan',
  output: `\`\`\`javascript\n${lines.join('\n')}\n\`\`\``,
});
const repair = (...lines: string[]): Line => ({ ...plan(...lines), role: 'repair' });
const simulate = (output: string): Line => ({ role: 'simulate', output });

interface Scripted {
  outcome: StrategyOutcome;
  events: TraceEventBody[];
  requests: GenerateOptions[];
}

let count = 0;
async function runScripted(lines: Line[], options: Partial<CocOptions> = {}): Promise<Scripted> {
  const file = path.join(tmp, `script-${++count}.jsonl`);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  const replay = await createReplayBackend({ file });
  const requests: GenerateOptions[] = [];
  const llm: LlmBackend = {
    id: replay.id,
    parallelism: 1,
    generate: (request) => {
      requests.push(request);
      return replay.generate(request);
    },
    dispose: () => replay.dispose(),
  };
  const events: TraceEventBody[] = [];
  const outcome = await runCoc({
    question: 'How old was Ada Lovelace when she died?',
    options: cocOptionsSchema.parse(options),
    llm,
    retrieve: () => Promise.reject(new Error('Chain-of-Code does not retrieve')),
    hasCorpus: false,
    topK: 5,
    runProgram: (runOptions) => runSandboxedProgram(runOptions),
    emit: (event) => events.push(event),
    now: () => 0,
    signal: new AbortController().signal,
  });
  const made = [...requests];
  await expect(replay.generate({ role: 'x', messages: [] })).rejects.toThrow(/has none/);
  return { outcome, events, requests: made };
}

function ofType<T extends TraceEventBody['type']>(events: TraceEventBody[], type: T): TraceEventOf<T>[] {
  return events.filter((event): event is TraceEventOf<T> => event.type === type);
}

describe('Chain-of-Code', () => {
  it('simulates undefined helpers and goes on running with their values', async () => {
    const { outcome, events, requests } = await runScripted([
      plan(
        'const born = birth_year("Ada Lovelace");',
        'const died = death_year("Ada Lovelace");',
        'const age = died - born;',
        'return age;',
      ),
      simulate('{"value": 1815}'),
      simulate('```json\n{"value": 1852}\n```'),
    ]);
    expect(outcome.failure).toBeNull();
    expect(outcome.answer).toBe('37');
    expect(ofType(events, 'tool-call').map((c) => [c.tool, c.args, c.line])).toEqual([
      ['simulate', ['birth_year', ['Ada Lovelace']], 1],
      ['simulate', ['death_year', ['Ada Lovelace']], 2],
    ]);
    expect(ofType(events, 'tool-result').map((r) => r.summary)).toEqual(['1815', '1852']);
    // Simulated values flow into the next statements.
    expect(ofType(events, 'binding').map((b) => [b.name, b.preview])).toEqual([
      ['born', '1815'],
      ['died', '1852'],
      ['age', '37'],
    ]);
    const steps = ofType(events, 'step').filter((s) => s.kind === 'simulated-call');
    expect(steps.map((s) => [s.title, s.detail])).toEqual([
      ['Simulated birth_year("Ada Lovelace") on line 1', '1815'],
      ['Simulated death_year("Ada Lovelace") on line 2', '1852'],
    ]);
    // The program shown in the trace is the one written, not the rewritten one.
    expect(ofType(events, 'program-generated')[0]!.code).toContain('birth_year("Ada Lovelace")');
    // The simulator is told the task, the call and the lines around it.
    const simulation = requests[1]!;
    expect(simulation.role).toBe('simulate');
    expect(simulation.messages[1]!.content).toContain('Task: How old was Ada Lovelace when she died?');
    expect(simulation.messages[1]!.content).toContain('birth_year("Ada Lovelace")');
    expect(simulation.messages[1]!.content).toMatch(
      / 1\| const born = birth_year\("Ada Lovelace"\);\s+<-- here/,
    );
    expect(outcome.metrics.strategy).toEqual({
      simulatedCalls: 2,
      simulatedLines: 2,
      simulationRetries: 0,
      undefinedHelpers: 'birth_year, death_year',
    });
    expect(outcome.metrics.program).toMatchObject({ executable: true, repairs: 0 });
  });

  it('simulates a variable the program reads but never declares', async () => {
    const { outcome, events } = await runScripted([
      plan('const doubled = population_of_iceland * 2;', 'return doubled;'),
      simulate('{"value": 380000}'),
    ]);
    expect(outcome.answer).toBe('760000');
    expect(ofType(events, 'tool-call')[0]!.args).toEqual(['population_of_iceland', null]);
  });

  it('runs a program with nothing undefined without asking the model anything more', async () => {
    const { outcome, events, requests } = await runScripted([
      plan('const years = [1815, 1852];', 'return years[1] - years[0];'),
    ]);
    expect(outcome.answer).toBe('37');
    expect(requests).toHaveLength(1);
    expect(ofType(events, 'tool-call')).toHaveLength(0);
    expect(outcome.metrics.strategy).toMatchObject({ simulatedCalls: 0, undefinedHelpers: '' });
  });

  it('sends a program past the simulated-call cap back for a repair', async () => {
    const { outcome, events, requests } = await runScripted(
      [
        plan('let total = 0;', 'for (const n of [1, 2, 3]) total += weight_of(n);', 'return total;'),
        simulate('{"value": 1}'),
        simulate('{"value": 2}'),
        repair('return 6;'),
      ],
      { maxSimulatedCalls: 2 },
    );
    expect(outcome.answer).toBe('6');
    const [error] = ofType(events, 'runtime-error');
    expect(error).toMatchObject({ kind: 'InvalidHostArgument', line: 2 });
    expect(error!.message).toContain('more than 2 simulated helper calls');
    expect(requests.at(-1)!.messages.at(-1)!.content).toContain('more than 2 simulated helper calls');
    expect(outcome.metrics.program).toMatchObject({ repairs: 1, executable: true });
    expect(outcome.metrics.strategy).toMatchObject({ simulatedCalls: 0 });
  });

  it('asks again after a reply that is not JSON, and counts the retry', async () => {
    const { outcome, requests } = await runScripted([
      plan('return is_capital("Paris");'),
      simulate('Yes, it is.'),
      simulate('{"value": true}'),
    ]);
    expect(outcome.answer).toBe('yes');
    const retry = requests[2]!;
    expect(retry.messages.at(-2)).toEqual({ role: 'assistant', content: 'Yes, it is.' });
    expect(retry.messages.at(-1)!.content).toMatch(/not valid JSON/);
    expect(outcome.metrics.strategy).toMatchObject({ simulationRetries: 1, simulatedCalls: 1 });
  });

  it('ends in a typed failure when the simulation never is JSON', async () => {
    const { outcome, events } = await runScripted(
      [plan('return is_capital("Paris");'), simulate('Yes.'), simulate('Still yes.')],
      { maxRepairs: 3 },
    );
    expect(outcome.answer).toBeNull();
    expect(outcome.failure).toMatchObject({ code: 'HostError' });
    expect(outcome.failure!.message).toMatch(
      /simulation of is_capital\("Paris"\) was not a JSON value after 2 tries/,
    );
    // A model that cannot simulate is not the program's fault: no repair was asked for.
    expect(ofType(events, 'repair-requested')).toHaveLength(0);
  });

  it('repairs a program that fails at run time', async () => {
    const { outcome, events, requests } = await runScripted([
      plan('const name = null;', 'return name.length;'),
      repair('return "Ada";'),
    ]);
    expect(outcome.answer).toBe('Ada');
    expect(ofType(events, 'runtime-error')[0]).toMatchObject({
      kind: 'RuntimeError',
      errorName: 'TypeError',
      line: 2,
    });
    expect(requests[1]!.role).toBe('repair');
    expect(requests[1]!.messages.at(-1)!.content).toContain(' 2| return name.length;');
  });

  it('feeds a program that defines "simulate" back like a syntax error', async () => {
    const { outcome, events } = await runScripted([
      plan('function simulate(x) { return x; }', 'return simulate(1);'),
      plan('return 1;'),
    ]);
    expect(outcome.answer).toBe('1');
    expect(ofType(events, 'syntax-error')[0]!.message).toContain('"simulate" is the name Reckon gives');
  });

  it('is registered with documented defaults and needs no corpus', () => {
    expect(strategyRegistry.get('coc').corpus).toBe('none');
    expect(strategyRegistry.parseOptions('coc')).toMatchObject({
      maxSimulatedCalls: 16,
      simulationAttempts: 2,
    });
  });
});

describe('routeUndefinedCalls', () => {
  const route = (code: string): string => {
    const result = routeUndefinedCalls(code);
    if (!result.ok) throw new Error(result.error.message);
    return result.source;
  };

  it('rewrites undefined calls and reads, nested ones included, on the same lines', () => {
    expect(route('const a = f(g(x), 2);\nreturn h();')).toBe(
      'const a = simulate("f", [simulate("g", [simulate("x", null)]), 2]);\nreturn simulate("h", []);',
    );
    expect(route('const o = { x };')).toBe('const o = { x: simulate("x", null) };');
    expect(route('const n = a.b.c(1);')).toBe('const n = simulate("a", null).b.c(1);');
  });

  it('leaves declared names, globals, parameters, properties, typeof and assignment targets alone', () => {
    const code = [
      'function f(p) { return p + 1; }',
      'const g = (q) => Math.max(q, f(q));',
      'total = 1;',
      'const o = { key: 1 };',
      'if (typeof maybe === "undefined") console.log(o.key, total, JSON.stringify([g(2)]));',
      'label: for (const i of [1]) { try { break label; } catch (e) { e; } }',
      'class K { m() { return new K(); } }',
      'return parseInt("3", 10) + new Date(0).getTime();',
    ].join('\n');
    expect(route(code)).toBe(code);
  });

  it('produces programs that prepare and run (auto-await of the simulated calls)', () => {
    const routed = route('const xs = [1, 2].map((n) => double(n));\nreturn xs;');
    const prepared = prepareProgram(routed, { hostFunctions: ['simulate'] });
    expect(prepared.ok).toBe(true);
  });

  it('knows exactly the globals the sandbox has', async () => {
    const prepared = prepareProgram('return Object.getOwnPropertyNames(globalThis);');
    if (!prepared.ok) throw new Error(prepared.error.message);
    const result = await runSandboxedProgram({ script: prepared.program.script, tools: {} });
    if (!result.ok) throw new Error(result.error.message);
    const names = (result.value as string[]).filter((name) => !name.startsWith('__reckon'));
    expect(names.filter((name) => !SANDBOX_GLOBALS.has(name))).toEqual([]);
    expect([...SANDBOX_GLOBALS].filter((name) => name !== 'arguments' && !names.includes(name))).toEqual([]);
  });
});

describe('simulation helpers', () => {
  it('reads {"value": …}, a fenced value, or any JSON; and says why a reply is not JSON', () => {
    expect(parseSimulatedValue('{"value": [1, 2]}')).toEqual({ ok: true, value: [1, 2] });
    expect(parseSimulatedValue('Sure:\n```json\n"Paris"\n```')).toEqual({ ok: true, value: 'Paris' });
    expect(parseSimulatedValue('The answer is {"value": false} I think')).toEqual({ ok: true, value: false });
    expect(parseSimulatedValue('42')).toEqual({ ok: true, value: 42 });
    expect(parseSimulatedValue('Paris')).toMatchObject({ ok: false });
  });

  it('normalizes returned values into short answers', () => {
    expect(normalizeAnswer(true)).toBe('yes');
    expect(normalizeAnswer(3.5)).toBe('3.5');
    expect(normalizeAnswer('"Paris".')).toBe('Paris');
    expect(normalizeAnswer(['a', 'b'])).toBe('["a","b"]');
  });
});
