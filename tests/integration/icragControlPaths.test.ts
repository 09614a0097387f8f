/**
 * ICRAG's control flow with scripted replay outputs through the real replay backend, the real
 * sandbox and a real memory of solved examples (SQLite FTS5): the loop stopping on an empty query
 * and at the cap, every version in the trace, a refiner reply that is not JSON (retried, then a
 * typed failure) or whose code does not parse, simulated helper values flowing into later
 * statements, runs without corpus or memory, each ablation's control flow, k-fold exclusion (no
 * task ever retrieves its own snippet), and the offline memory build (folds, failures, resume).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GenerateOptions, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import {
  MemoryLibrary,
  type SolvedExampleMemory,
} from '../../main/engine/corpus/memory/SolvedExampleMemory.ts';
import {
  closeDefaultSandboxHost,
  runSandboxedProgram,
} from '../../main/engine/sandbox/runSandboxedProgram.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import {
  icragOptionsSchema,
  memoryExclusionFor,
  normalizeTaskAnswer,
  parseRefinerOutput,
  runIcrag,
  type IcragOptions,
} from '../../main/engine/strategies/icrag/icrag.ts';
import { REFINE_SCHEMA } from '../../main/engine/strategies/icrag/icragPrompts.ts';
import { buildSolvedExampleMemory } from '../../main/engine/strategies/icrag/buildSolvedExampleMemory.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import type { StrategyOutcome } from '../../main/engine/strategies/Strategy.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';

const TASK = 'Ann earns a wage per hour and works 8 hours. How much does she earn in a day?';

let tmp: string;
let library: MemoryLibrary;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-icrag-'));
  library = new MemoryLibrary(path.join(tmp, 'data'));
  const memory = library.open('solved', { write: true });
  const examples = [
    [
      'ex-0',
      'Bob works 5 hours at $10 an hour. How much does he earn?',
      '50',
      'const hours = 5;\nconst rate = 10;\nreturn hours * rate;',
    ],
    ['ex-1', 'A train travels 60 miles per hour for 3 hours. How far does it go?', '180', 'return 60 * 3;'],
    ['ex-2', TASK, '96', 'const hours = 8;\nreturn hours * 12;'],
    [
      'ex-3',
      'Carla earns $15 an hour and works 4 hours a day. What does she earn per day?',
      '60',
      'return 15 * 4;',
    ],
  ] as const;
  examples.forEach(([itemId, task, answer, program], i) =>
    memory.add({ itemId, task, answer, program, text: `Multiply to get ${answer}.`, fold: i % 2 }),
  );
  memory.close();
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await closeDefaultSandboxHost();
});

type Line = { role: string; output: string };
const codify = (...lines: string[]): Line => ({
  role: 'codify',
  output: `\`\`\`javascript\n${lines.join('\n')}\n\`\`\``,
});
const refine = (code: string, query: string): Line => ({
  role: 'refine',
  output: JSON.stringify({ code, query }),
});
const simulate = (output: string): Line => ({ role: 'simulate', output });

const PASSAGES: RetrievedDoc[] = [
  { id: 11, title: 'Pay', text: 'Ann is paid $12 per hour.', score: 2, source: 'pay.txt' },
  { id: 12, title: 'Hours', text: 'Ann works 8 hours a day.', score: 1, source: 'hours.txt' },
];

interface Scripted {
  outcome: StrategyOutcome;
  events: TraceEventBody[];
  requests: GenerateOptions[];
  queries: string[];
}

let count = 0;
async function runScripted(
  lines: Line[],
  options: Partial<IcragOptions> = {},
  setup: { hasCorpus?: boolean; task?: string } = {},
): Promise<Scripted> {
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
  const queries: string[] = [];
  const opened: SolvedExampleMemory[] = [];
  const hasCorpus = setup.hasCorpus ?? true;
  try {
    const outcome = await runIcrag({
      question: setup.task ?? TASK,
      options: icragOptionsSchema.parse(options),
      llm,
      retrieve: async (query) => {
        queries.push(query);
        return hasCorpus ? PASSAGES : [];
      },
      hasCorpus,
      topK: 5,
      runProgram: (runOptions) => runSandboxedProgram(runOptions),
      openMemory: (name) => {
        const memory = library.open(name);
        opened.push(memory);
        return memory;
      },
      emit: (event) => events.push(event),
      now: () => 0,
      signal: new AbortController().signal,
    });
    const made = [...requests];
    // Every scripted line was used, and no call beyond them was made.
    await expect(replay.generate({ role: 'x', messages: [] })).rejects.toThrow(/has none/);
    return { outcome, events, requests: made, queries };
  } finally {
    for (const memory of opened) memory.close();
  }
}

function ofType<T extends TraceEventBody['type']>(events: TraceEventBody[], type: T): TraceEventOf<T>[] {
  return events.filter((event): event is TraceEventOf<T> => event.type === type);
}
const steps = (events: TraceEventBody[], kind: string): TraceEventOf<'step'>[] =>
  ofType(events, 'step').filter((step) => step.kind === kind);

describe('ICRAG co-refinement', () => {
  it('codifies, refines until the refiner returns an empty query, and runs the final program', async () => {
    const c0 = 'const hours = 8;\nconst rate = hourly_wage("Ann");\nreturn hours * rate;';
    const c1 = 'const hours = 8;\nconst rate = hourly_wage("Ann");\nconst pay = hours * rate;\nreturn pay;';
    const c2 =
      'const hours = 8;\nconst rate = hourly_wage("Ann");\nconst pay = hours * rate;\nreturn pay + bonus_of("Ann");';
    const { outcome, events, requests, queries } = await runScripted(
      [
        codify(c0),
        refine(c1, 'Ann hourly wage'),
        refine(c2, ''),
        simulate('{"value": 12}'),
        simulate('{"value": 4}'),
      ],
      { memory: 'solved' },
    );
    expect(outcome.failure).toBeNull();
    // The simulated values flow into the later statements: 8 * 12 + 4.
    expect(outcome.answer).toBe('100');
    expect(ofType(events, 'binding').map((b) => [b.name, b.preview])).toEqual([
      ['hours', '8'],
      ['rate', '12'],
      ['pay', '96'],
    ]);
    expect(steps(events, 'simulated-call').map((s) => s.title)).toEqual([
      'Simulated hourly_wage("Ann") on line 2',
      'Simulated bonus_of("Ann") on line 4',
    ]);

    // Every version is in the trace, with the one before it and the query between them.
    const versions = steps(events, 'icrag-version').map((s) => s.data);
    expect(versions).toEqual([
      { version: 0, code: c0, previousCode: null, query: null, round: 0 },
      { version: 1, code: c1, previousCode: c0, query: 'Ann hourly wage', round: 1 },
      { version: 2, code: c2, previousCode: c1, query: '', round: 2 },
    ]);
    // R1 searched with the task, then with the refiner's query; R2 likewise.
    expect(queries).toEqual([TASK, 'Ann hourly wage']);
    expect(steps(events, 'icrag-r1').map((s) => s.detail)).toEqual([TASK, 'Ann hourly wage']);
    expect(steps(events, 'icrag-r2').map((s) => s.detail)).toEqual([TASK, 'Ann hourly wage']);
    expect(steps(events, 'icrag-stop')[0]!.data).toMatchObject({ reason: 'empty-query', iterations: 2 });

    // The refiner is asked under the JSON schema, and sees the task, the code, passages and examples.
    const refines = requests.filter((r) => r.role === 'refine');
    expect(refines).toHaveLength(2);
    expect(refines[0]!.jsonSchema).toEqual(REFINE_SCHEMA);
    const prompt = refines[0]!.messages[1]!.content;
    expect(prompt).toContain(`Task: ${TASK}`);
    expect(prompt).toContain(c0);
    expect(prompt).toContain('Ann is paid $12 per hour.');
    expect(prompt).toContain('Carla earns $15 an hour');
    // Bob's example is in the task's own fold (0), so k-fold leaves it out.
    expect(prompt).not.toContain('Bob works 5 hours');
    expect(refines[1]!.messages[1]!.content).toContain(c1);

    expect(outcome.metrics.strategy).toMatchObject({
      iterations: 2,
      stopReason: 'empty-query',
      programVersions: 3,
      r1Passages: 2,
      refinerRetries: 0,
      simulatedCalls: 2,
      undefinedHelpers: 'hourly_wage, bonus_of',
    });
    expect(outcome.metrics.program).toMatchObject({ executable: true, repairs: 0 });
    expect(outcome.metrics.program!.cyclomaticComplexity).toBe(1);
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([11, 12]);
  });

  it('stops at the iteration cap even when the refiner still has a query', async () => {
    const { outcome, events, queries } = await runScripted(
      [codify('return 1;'), refine('return 2;', 'more'), refine('return 3;', 'still more')],
      { maxIterations: 2 },
    );
    expect(outcome.answer).toBe('3');
    expect(queries).toEqual([TASK, 'more']);
    expect(steps(events, 'icrag-version')).toHaveLength(3);
    expect(steps(events, 'icrag-stop')[0]!.data).toMatchObject({ reason: 'cap', iterations: 2 });
    expect(outcome.metrics.strategy).toMatchObject({ stopReason: 'cap', iterations: 2 });
  });

  it('defaults to a cap of 3 rounds', async () => {
    const { outcome } = await runScripted([
      codify('return 0;'),
      refine('return 1;', 'a'),
      refine('return 2;', 'b'),
      refine('return 3;', 'c'),
    ]);
    expect(outcome.answer).toBe('3');
    expect(outcome.metrics.strategy).toMatchObject({ stopReason: 'cap', iterations: 3, programVersions: 4 });
  });

  it('sends a refiner reply that is not JSON back, and goes on with the retry', async () => {
    const { outcome, events, requests } = await runScripted(
      [
        codify('return 1;'),
        { role: 'refine', output: 'Here is the better program: return 2;' },
        refine('return 2;', ''),
      ],
      { maxIterations: 1 },
    );
    expect(outcome.answer).toBe('2');
    const retry = requests.filter((r) => r.role === 'refine')[1]!;
    expect(retry.messages.at(-2)).toEqual({
      role: 'assistant',
      content: 'Here is the better program: return 2;',
    });
    expect(retry.messages.at(-1)!.content).toMatch(/not the JSON object asked for/);
    expect(steps(events, 'icrag-refiner-retry')).toHaveLength(1);
    expect(outcome.metrics.strategy).toMatchObject({ refinerRetries: 1, iterations: 1 });
  });

  it('ends in a typed failure when the refiner never replies with the JSON object', async () => {
    const { outcome, events } = await runScripted([
      codify('return 1;'),
      { role: 'refine', output: 'no' },
      { role: 'refine', output: '{"program": "return 2;"}' },
    ]);
    expect(outcome.answer).toBeNull();
    expect(outcome.failure).toMatchObject({ code: 'RefinerInvalidJson' });
    expect(outcome.failure!.message).toMatch(/no usable \{code, query\} reply after 2 tries/);
    // Nothing was executed.
    expect(ofType(events, 'execution-started')).toHaveLength(0);
  });

  it('sends a refined program that does not parse back with the syntax error', async () => {
    const { outcome, requests } = await runScripted(
      [codify('return 1;'), refine('return (;', 'x'), refine('return 2;', '')],
      { maxIterations: 2 },
    );
    expect(outcome.answer).toBe('2');
    const retry = requests.filter((r) => r.role === 'refine')[1]!;
    expect(retry.messages.at(-1)!.content).toMatch(/does not parse/);
    expect(outcome.metrics.strategy).toMatchObject({ refinerRetries: 1, iterations: 1 });
  });

  it('runs with no corpus and no memory: no retrieval, and the refiner is told there is none', async () => {
    const { outcome, events, requests, queries } = await runScripted(
      [codify('return 4 * 2;'), refine('return 8;', '')],
      {},
      { hasCorpus: false },
    );
    expect(outcome.answer).toBe('8');
    expect(queries).toEqual([]);
    expect(steps(events, 'icrag-r1')).toHaveLength(0);
    expect(steps(events, 'icrag-r2')).toHaveLength(0);
    const prompt = requests[1]!.messages[1]!.content;
    expect(prompt).toContain('Retrieved passages:\n(none)');
    expect(prompt).toContain('Solved examples:\n(none)');
    expect(outcome.citations).toEqual([]);
  });

  it('without refinement (maxIterations=0) runs the codified program and retrieves nothing', async () => {
    const { outcome, events, queries } = await runScripted([codify('return 5;')], {
      maxIterations: 0,
      memory: 'solved',
    });
    expect(outcome.answer).toBe('5');
    expect(queries).toEqual([]);
    expect(steps(events, 'icrag-version')).toHaveLength(1);
    expect(outcome.metrics.strategy).toMatchObject({ stopReason: 'off', iterations: 0, programVersions: 1 });
  });

  it('without R1 (useCorpus=false) searches only the memory', async () => {
    const { events, queries } = await runScripted([codify('return 1;'), refine('return 1;', '')], {
      useCorpus: false,
      memory: 'solved',
    });
    expect(queries).toEqual([]);
    expect(steps(events, 'icrag-r2')).toHaveLength(1);
  });

  it('shows natural-language solutions to the refiner with memoryFormat=text (ICRAG_NL)', async () => {
    const { requests } = await runScripted([codify('return 1;'), refine('return 1;', '')], {
      memory: 'solved',
      memoryFormat: 'text',
    });
    const prompt = requests[1]!.messages[1]!.content;
    expect(prompt).toContain('Solution: Multiply to get 60.');
    expect(prompt).not.toContain('return 15 * 4;');
  });

  it('answers from the solved examples without a program with answerBy=model (RAG_Code)', async () => {
    const { outcome, events, requests } = await runScripted(
      [{ role: 'answer', output: 'Document [1] gives $12 an hour; 8 hours make 96.\n<answer>96</answer>' }],
      { memory: 'solved', answerBy: 'model' },
    );
    expect(outcome.answer).toBe('96');
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([11]);
    expect(requests[0]!.messages[1]!.content).toContain('return 15 * 4;');
    expect(ofType(events, 'program-generated')).toHaveLength(0);
    expect(outcome.metrics.program).toBeNull();
  });

  it('fails with MEMORY_NOT_FOUND for a memory that is not there', async () => {
    await expect(runScripted([], { memory: 'nope' })).rejects.toMatchObject({ code: 'MEMORY_NOT_FOUND' });
  });

  it('is registered with documented defaults and an optional corpus', () => {
    expect(strategyRegistry.get('icrag').corpus).toBe('optional');
    expect(strategyRegistry.parseOptions('icrag')).toMatchObject({
      maxIterations: 3,
      memory: '',
      memoryFormat: 'code',
      memoryExclude: 'own-fold',
      useCorpus: true,
      answerBy: 'program',
      maxSimulatedCalls: 16,
    });
    for (const option of strategyRegistry.list().find((s) => s.id === 'icrag')!.options)
      expect(option.description).toMatch(/Default .+\.$/);
  });
});

describe('k-fold exclusion', () => {
  it('never lets a task retrieve its own snippet, nor any of its fold', async () => {
    const { events } = await runScripted([codify('return 1;'), refine('return 1;', '')], {
      memory: 'solved',
    });
    const [r2] = steps(events, 'icrag-r2');
    const data = r2!.data as { excludedFolds: number[]; examples: { task: string; fold: number }[] };
    expect(data.excludedFolds).toEqual([0]);
    expect(data.examples.length).toBeGreaterThan(0);
    for (const example of data.examples) {
      expect(example.task).not.toBe(TASK);
      expect(example.fold).not.toBe(0);
    }
  });

  it('holds for every task of a memory, by fold and by id, while a search without it finds the task first', async () => {
    const memory = library.open('kfold', { write: true });
    const tasks = Array.from(
      { length: 20 },
      (_, i) => `Item ${i}: a farmer has ${i + 2} cows and buys ${i + 3} more cows. How many cows?`,
    );
    tasks.forEach((task, i) =>
      memory.add({
        itemId: `t-${i}`,
        task,
        answer: String(2 * i + 5),
        program: `return ${i + 2} + ${i + 3};`,
        text: null,
        fold: i % 5,
      }),
    );
    try {
      for (const [i, task] of tasks.entries()) {
        // The control: with no exclusion the task's own snippet is the best match.
        expect(memory.search(task, { k: 1 })[0]!.itemId).toBe(`t-${i}`);
        for (const mode of ['own-fold', 'own-task'] as const) {
          const exclusion = memoryExclusionFor(memory, task, mode);
          const hits = memory.search(task, { k: 10, ...exclusion });
          expect(hits).toHaveLength(10);
          expect(hits.map((hit) => hit.itemId)).not.toContain(`t-${i}`);
          if (mode === 'own-fold') {
            expect(exclusion.excludeFolds).toEqual([i % 5]);
            expect(hits.every((hit) => hit.fold !== i % 5)).toBe(true);
          }
        }
      }
      // A task that is not in the memory excludes nothing.
      expect(memoryExclusionFor(memory, 'A brand new task about goats', 'own-fold')).toEqual({
        excludeFolds: [],
        excludeIds: [],
      });
      // The same task written with other spacing and case is still the same task.
      expect(memoryExclusionFor(memory, `  ${tasks[3]!.toUpperCase()} `, 'own-fold').excludeFolds).toEqual([
        3,
      ]);
    } finally {
      memory.close();
    }
  });
});

describe('normalizeTaskAnswer', () => {
  const choice = 'Which is a fruit?\nOptions:\n(A) carrot\n(B) apple\n(C) potato';
  it('normalizes the returned value to the task type', () => {
    expect(normalizeTaskAnswer(0.1 + 0.2, 'How much?')).toBe('0.3');
    expect(normalizeTaskAnswer(70000, 'How much?')).toBe('70000');
    expect(normalizeTaskAnswer(true, 'Is it?')).toBe('yes');
    expect(normalizeTaskAnswer('apple', choice)).toBe('(B)');
    expect(normalizeTaskAnswer('b', choice)).toBe('(B)');
    expect(normalizeTaskAnswer('(C)', choice)).toBe('(C)');
    expect(normalizeTaskAnswer('banana', choice)).toBe('banana');
    expect(normalizeTaskAnswer('b', 'Name a letter.')).toBe('b');
  });
});

describe('parseRefinerOutput', () => {
  it('reads the object, a fenced object, a fenced program inside it, and a missing query', () => {
    expect(parseRefinerOutput('{"code": "return 1;", "query": " q "}')).toEqual({
      ok: true,
      code: 'return 1;',
      query: 'q',
    });
    expect(parseRefinerOutput('Sure:\n```json\n{"code": "return 1;", "query": ""}\n```')).toMatchObject({
      ok: true,
      query: '',
    });
    expect(parseRefinerOutput('{"code": "```javascript\\nreturn 2;\\n```"}')).toEqual({
      ok: true,
      code: 'return 2;',
      query: '',
    });
    expect(parseRefinerOutput('{"code": 3}')).toMatchObject({ ok: false });
    expect(parseRefinerOutput('[1]')).toMatchObject({ ok: false, error: 'it is not a JSON object' });
  });
});

describe('building a memory of solved examples', () => {
  const pairs = [
    { id: 'p0', task: 'Two plus two?', answer: '4' },
    { id: 'p1', task: 'Three times three?', answer: '9' },
    { id: 'p2', task: 'Ten minus one?', answer: '9' },
  ];
  const program = (code: string): Line => ({
    role: 'memory-program',
    output: `\`\`\`javascript\n${code}\n\`\`\``,
  });

  async function replayOf(lines: Line[]): Promise<LlmBackend> {
    const file = path.join(tmp, `build-${++count}.jsonl`);
    fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    return createReplayBackend({ file });
  }

  it('assigns folds by position, records a pair whose program never parses, and resumes', async () => {
    const memory = library.open('built', { write: true });
    try {
      const first = await buildSolvedExampleMemory({
        memory,
        llm: await replayOf([
          program('return 2 + 2;'),
          program('return (;'),
          program('return ];'),
          program('return 10 - 1;'),
          { role: 'memory-text', output: 'Subtract one from ten.' },
        ]),
        pairs: pairs.slice(0, 2).concat([pairs[2]!]),
        folds: 2,
        maxAttempts: 2,
        withText: false,
      });
      expect(first).toEqual({ total: 3, built: 2, skipped: 0, failed: 1, cancelled: false });
      expect(memory.all().map((e) => [e.itemId, e.fold, e.program])).toEqual([
        ['p0', 0, 'return 2 + 2;'],
        ['p2', 0, 'return 10 - 1;'],
      ]);
      expect(memory.failureCount()).toBe(1);

      // Run again: p0 and p2 are skipped, p1 is tried again and now built (fold 1: position 1).
      const llm = await replayOf([program('return 3 * 3;')]);
      const progress: number[] = [];
      const second = await buildSolvedExampleMemory({
        memory,
        llm,
        pairs,
        folds: 2,
        onProgress: (p) => progress.push(p.done),
      });
      expect(second).toEqual({ total: 3, built: 1, skipped: 2, failed: 0, cancelled: false });
      expect(progress).toEqual([1, 2, 3]);
      expect(memory.examplesOfTask('Three times three?')[0]).toMatchObject({
        fold: 1,
        program: 'return 3 * 3;',
      });
      expect(memory.failureCount()).toBe(0);
      await expect(llm.generate({ role: 'x', messages: [] })).rejects.toThrow(/has none/);
    } finally {
      memory.close();
    }
  });

  it('stops between pairs when cancelled and keeps what it built', async () => {
    const memory = library.open('cancelled', { write: true });
    const controller = new AbortController();
    try {
      const result = await buildSolvedExampleMemory({
        memory,
        llm: await replayOf([program('return 4;'), program('return 9;')]),
        pairs,
        signal: controller.signal,
        onProgress: () => controller.abort(),
      });
      expect(result).toEqual({ total: 3, built: 1, skipped: 0, failed: 0, cancelled: true });
      expect(memory.itemIds()).toEqual(new Set(['p0']));
    } finally {
      memory.close();
    }
  });
});
