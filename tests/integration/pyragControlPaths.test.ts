/**
 * Every PyRAG control path, driven by scripted replay outputs through the real replay backend and the
 * real sandbox (retrieval is a small hand-written fake): decomposition fallback, the fallback
 * program, sentinels in intermediate and final answers, two sentinels in one re-run with cached
 * calls, repair exhaustion with a non-JavaScript reply, a host error, adaptive retrieval off, the
 * returned value as the answer, documents passed as strings, options from the registry, and
 * sub-questions given instead of decomposed (the oracle-decomposition mode of evaluation).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDefaultSandboxHost } from '../../main/engine/sandbox/runSandboxedProgram.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import type { PyragOptions } from '../../main/engine/strategies/pyrag/pyrag.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import { goldSubQuestions } from '../../main/engine/eval/run/measureOracleRecall.ts';
import { givenSubQuestionsOf } from '../../main/engine/strategies/givenSubQuestions.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';
import {
  answerLine as answer,
  decomposeLine as decompose,
  finalSentinelScript,
  js,
  runScriptedPyrag,
  SCRIPTED_QUESTION,
  twoSentinelScript,
  type ScriptedRun,
  type ScriptLine,
} from '../fixtures/scriptedPyrag.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-pyrag-paths-'));
});
afterAll(async () => {
  fs.rmSync(tmp, { recursive: true, force: true });
  await closeDefaultSandboxHost();
});

async function runScripted(
  lines: ScriptLine[],
  options: Partial<PyragOptions> = {},
  retrieve?: (query: string, k: number) => Promise<RetrievedDoc[]>,
): Promise<ScriptedRun> {
  const run = await runScriptedPyrag(tmp, lines, options, retrieve);
  // Every scripted output was used: the strategy asked exactly what the script expected.
  expect(run.consumedAll).toBe(true);
  return run;
}

function ofType<T extends TraceEventBody['type']>(events: TraceEventBody[], type: T): TraceEventOf<T>[] {
  return events.filter((event): event is TraceEventOf<T> => event.type === type);
}

const TWO_HOP = js(
  [
    'const docs1 = await retrieve("capital of France");',
    'const capital = await answer("What is the capital of France?", docs1);',
    'const docs2 = await retrieve(`river ${capital}`);',
    'const river = await answer(`Which river flows through ${capital}?`, docs2);',
    'return await answer(`Given: the capital is ${capital}; the river is ${river}. Answer the question: What river flows through the capital of France?`);',
  ].join('\n'),
);

describe('PyRAG control paths', () => {
  it('falls back to the question after three unparseable decompositions', async () => {
    const { outcome, events } = await runScripted([
      { role: 'decompose', output: 'Sure! The sub-questions are: capital, river.' },
      { role: 'decompose', output: '{"not": "a list"}' },
      { role: 'decompose', output: '[]' },
      {
        role: 'plan',
        output: js('const d = await retrieve("capital of France");\nreturn await answer("Which river?", d);'),
      },
      answer('Seine'),
    ]);
    expect(ofType(events, 'decomposition')).toEqual([
      {
        type: 'decomposition',
        subQuestions: ['What river flows through the capital of France?'],
        attempts: 3,
        fallback: true,
      },
    ]);
    expect(outcome).toMatchObject({ answer: 'Seine', failure: null });
    expect(outcome.metrics.strategy).toMatchObject({ decompositionFallback: true, fallbackProgram: false });
  });

  it('runs the built-in one-hop program when no plan parses, feeding each syntax error back', async () => {
    const { outcome, events, requests } = await runScripted([
      decompose('What river flows through the capital of France?'),
      { role: 'plan', output: js('const = ;') },
      { role: 'plan', output: js('return await answer("x"') },
      { role: 'plan', output: js('let let = 1;') },
      answer('Seine'),
    ]);
    expect(ofType(events, 'program-generated').map((e) => e.purpose)).toEqual([
      'plan',
      'plan',
      'plan',
      'fallback',
    ]);
    expect(ofType(events, 'syntax-error')).toHaveLength(3);
    expect(requests[2]!.messages.at(-1)!.content).toMatch(/failed with SyntaxError on line 1/);
    expect(outcome).toMatchObject({ answer: 'Seine', failure: null });
    expect(outcome.metrics.strategy.fallbackProgram).toBe(true);
    expect(outcome.metrics.program).toMatchObject({ programAttempts: 4, executions: 1, executable: true });
  });

  it('boosts the last retrieve when only the final answer is a sentinel', async () => {
    const { outcome, events, retrieves } = await runScripted(finalSentinelScript(true));
    const boosts = ofType(events, 'retrieval-boosted');
    expect(boosts).toEqual([
      expect.objectContaining({ path: 'sentinel-final', fromK: 5, toK: 10, sentinel: 'unknown' }),
    ]);
    expect(retrieves.map((r) => r.k)).toEqual([5, 5, 10]);
    const rerun = ofType(events, 'tool-result').filter((e) => e.execution === 2);
    expect(rerun.map((e) => e.cached === true)).toEqual([true, true, false, false, false]);
    expect(outcome).toMatchObject({ answer: 'Seine', reasoning: 'The river is the Seine.', failure: null });
    expect(outcome.metrics.strategy).toMatchObject({
      boosts: 1,
      boostPath: 'sentinel-final',
      cachedCalls: 2,
    });
  });

  it('boosts both retrieves behind two sentinel answers in one re-run and reuses the unchanged hop', async () => {
    const { outcome, events, requests } = await runScripted(twoSentinelScript(true));
    const boosts = ofType(events, 'retrieval-boosted');
    expect(boosts.map((b) => [b.path, b.sentinel])).toEqual([
      ['sentinel-answer', 'unknown'],
      ['sentinel-answer', 'not enough information'],
    ]);
    const executions = ofType(events, 'execution-started');
    expect(executions[1]!.boosted).toEqual(boosts.map((b) => ({ callIndex: b.callIndex, k: 10 })));
    const rerun = ofType(events, 'tool-result').filter((e) => e.execution === 2);
    expect(rerun.filter((e) => e.cached).map((e) => e.tool)).toEqual(['retrieve', 'answer']);
    expect(outcome).toMatchObject({ answer: 'Seine', failure: null });
    expect(outcome.metrics.strategy).toMatchObject({ boosts: 2, cachedCalls: 2 });

    // Without reuse, the unchanged hop asks the model again: one model call more.
    const fresh = await runScripted(twoSentinelScript(false), { reuseUnchangedCalls: false });
    expect(ofType(fresh.events, 'tool-result').filter((e) => e.cached)).toEqual([]);
    expect(fresh.requests.length).toBe(requests.length + 1);
    expect(fresh.outcome.answer).toBe('Seine');
  });

  it('stops after maxRepairs, telling the model to write JavaScript and keeping the error it was fixing', async () => {
    const broken = js('const d = await retrieve("capital");\nreturn d.first.text;');
    const { outcome, events, requests } = await runScripted(
      [
        decompose('What river flows through the capital of France?'),
        { role: 'plan', output: broken },
        { role: 'repair', output: '```python\ndocs = retrieve("capital")\nprint(docs)\n```' },
        { role: 'repair', output: js('const d = await retrieve("capital");\nreturn d.nothing.here;') },
      ],
      { maxRepairs: 1 },
    );
    expect(ofType(events, 'repair-requested')).toEqual([
      expect.objectContaining({ round: 1, kind: 'RuntimeError', line: 2 }),
    ]);
    const feedback = requests[3]!.messages.at(-1)!.content;
    expect(feedback).toMatch(/```python block, but the program must be JavaScript/);
    expect(feedback).toMatch(
      /You were fixing this earlier failure, which must still be fixed: RuntimeError on line 2/,
    );
    expect(outcome.answer).toBeNull();
    expect(outcome.failure).toMatchObject({
      code: 'RuntimeError',
      message: expect.stringMatching(/after 1 repair round:/),
    });
    expect(outcome.metrics.program).toMatchObject({
      repairs: 1,
      executions: 2,
      executable: false,
      exceptionKind: 'RuntimeError',
    });
  });

  it('repairs a boosted re-run that fails, like the first run', async () => {
    // The program breaks only when a retrieve() returns more than five passages: the boosted re-run.
    const fragile = js(
      [
        'const d = await retrieve("Seine Paris");',
        'if (d.length > 5) null.boom;',
        'return await answer("Which river?", d);',
      ].join('\n'),
    );
    const { outcome, events } = await runScripted([
      decompose('Which river?'),
      { role: 'plan', output: fragile },
      answer('unknown', 'No.'),
      {
        role: 'repair',
        output: js('const d = await retrieve("Seine Paris");\nreturn await answer("Which river?", d);'),
      },
      answer('Seine', 'Document [1] says the Seine flows through Paris.'),
    ]);
    expect(ofType(events, 'retrieval-boosted')).toHaveLength(1);
    expect(ofType(events, 'repair-requested')).toEqual([
      expect.objectContaining({ round: 1, kind: 'RuntimeError', line: 2 }),
    ]);
    const executions = ofType(events, 'execution-started');
    // The repaired program runs with the same boost.
    expect(executions.map((e) => e.boosted.length)).toEqual([0, 1, 1]);
    expect(outcome).toMatchObject({ answer: 'Seine', failure: null });
    expect(outcome.metrics.program).toMatchObject({ repairs: 1, executions: 3, executable: true });
  });

  it('does not repair a host error: the search failing is not the program’s fault', async () => {
    const { outcome, events } = await runScripted(
      [decompose('Which river?'), { role: 'plan', output: TWO_HOP }],
      {},
      () => Promise.reject(new Error('the corpus is locked by another process')),
    );
    expect(ofType(events, 'repair-requested')).toEqual([]);
    expect(outcome.failure).toMatchObject({
      code: 'HostError',
      message: expect.stringMatching(/corpus is locked/),
    });
  });

  it('keeps a sentinel answer when adaptive retrieval is off', async () => {
    const { outcome, events } = await runScripted(
      [
        decompose('Which river?'),
        {
          role: 'plan',
          output: js('const d = await retrieve("river");\nreturn await answer("Which river?", d);'),
        },
        answer('unknown', 'Nothing here.'),
      ],
      { adaptiveRetrieval: false },
    );
    expect(ofType(events, 'retrieval-boosted')).toEqual([]);
    expect(outcome).toMatchObject({ answer: 'unknown', failure: null });
    expect(outcome.metrics.strategy.boosts).toBe(0);
  });

  it('answers with the value the program returns, not the last answer() to finish', async () => {
    const { outcome } = await runScripted([
      decompose('Which river?'),
      {
        role: 'plan',
        output: js(
          'const [first, second] = await Promise.all([answer("Which river?"), answer("Which sea?")]);\nreturn first;',
        ),
      },
      answer('Seine', 'The river is the Seine.'),
      answer('English Channel', 'The sea is the Channel.'),
    ]);
    expect(outcome).toMatchObject({ answer: 'Seine', reasoning: 'The river is the Seine.' });
  });

  it('maps documents passed as strings back to the retrieve() that produced them', async () => {
    const { outcome, events } = await runScripted([
      decompose('Which river?'),
      {
        role: 'plan',
        output: js(
          'const d = await retrieve("Seine Paris");\nreturn await answer("Which river?", d.map((doc) => doc.text));',
        ),
      },
      answer('unknown', 'No.'),
      answer('Seine', 'Document [1] says the Seine flows through Paris.'),
    ]);
    expect(ofType(events, 'retrieval-boosted')).toEqual([
      expect.objectContaining({ path: 'sentinel-answer', fromK: 5, toK: 10 }),
    ]);
    expect(outcome.answer).toBe('Seine');
    // The cited string is the chunk it came from.
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([2]);
  });
});

describe('PyRAG with given sub-questions (oracle decomposition)', () => {
  // What `reckon eval --oracle-decomposition` passes for a MuSiQue-style gold decomposition.
  const given = goldSubQuestions([
    { question: 'What is the capital of France?', answers: ['Paris'] },
    { question: 'Which river flows through #1?', answers: ['Seine'] },
  ]);

  it('writes its program over the given sub-questions, earlier gold answers substituted, without decomposing', async () => {
    const { outcome, events, requests } = await runScripted(
      [{ role: 'plan', output: TWO_HOP }, answer('Paris'), answer('Seine'), answer('Seine')],
      { givenSubQuestions: JSON.stringify(given), givenSubQuestionsSource: 'gold-decomposition' },
    );
    // No decomposition call: the first model call writes the program.
    expect(requests.map((request) => request.role)).toEqual(['plan', 'answer', 'answer', 'answer']);
    expect(requests[0]!.messages.at(-1)!.content).toBe(
      `Question: ${SCRIPTED_QUESTION}\nSub-questions: 1. What is the capital of France? 2. Which river flows through Paris?`,
    );
    // The plan's rules are the method's own: one retrieve() and one answer() per sub-question.
    expect(requests[0]!.messages[0]!.content).toMatch(/one retrieve\(\) and one answer\(\) per sub-question/);
    const [step] = ofType(events, 'step').filter((event) => event.kind === 'given-sub-questions');
    expect(step!.title).toMatch(/^2 sub-questions given by the oracle \(the gold decomposition/);
    expect(step!.data).toEqual({ subQuestions: given, source: 'gold-decomposition' });
    expect(ofType(events, 'decomposition')).toEqual([
      { type: 'decomposition', subQuestions: given, attempts: 0, fallback: false },
    ]);
    expect(outcome).toMatchObject({ answer: 'Seine', failure: null });
    expect(outcome.metrics.strategy).toMatchObject({ givenSubQuestions: 2, decompositionFallback: false });
  });

  it('decomposes as the paper does by default, and says a user gave the list when the user did', async () => {
    const own = await runScripted([
      decompose('What river flows through the capital of France?'),
      { role: 'plan', output: js('return await answer("Which river?");') },
      answer('Seine'),
    ]);
    expect(own.outcome.metrics.strategy.givenSubQuestions).toBe(0);
    const user = await runScripted(
      [{ role: 'plan', output: js('return await answer("Which river?");') }, answer('Seine')],
      { givenSubQuestions: '["Which river flows through Paris?"]' },
    );
    const [step] = ofType(user.events, 'step').filter((event) => event.kind === 'given-sub-questions');
    expect(step!.title).toMatch(/^1 sub-question given by the user;/);
  });

  it('refuses a given list that is not a JSON array of 1–10 non-empty strings, saying what to write', () => {
    const parse = (value: unknown) => strategyRegistry.parseOptions('pyrag', { givenSubQuestions: value });
    // The parsed value is canonical JSON text, so recorded options stay plain values; parsing it again
    // gives the same.
    expect(parse('[" a", "b"]')).toMatchObject({ givenSubQuestions: '["a","b"]' });
    expect(parse(parse('["a", "b"]').givenSubQuestions)).toMatchObject({ givenSubQuestions: '["a","b"]' });
    expect(parse(['a'])).toMatchObject({ givenSubQuestions: '["a"]' });
    expect(parse('')).toMatchObject({ givenSubQuestions: '' });
    expect(parse('[]')).toMatchObject({ givenSubQuestions: '' });
    expect(givenSubQuestionsOf('["a","b"]')).toEqual(['a', 'b']);
    expect(givenSubQuestionsOf('')).toEqual([]);
    expect(() => parse('Who? When?')).toThrow(
      /"givenSubQuestions" is not json: write the sub-questions as a json array of strings/,
    );
    expect(() => parse('["a", ""]')).toThrow(/non-empty strings only/);
    expect(() => parse('[1]')).toThrow(/non-empty strings only/);
    expect(() => parse('{"a": 1}')).toThrow(/is not an array/);
    expect(() => parse(JSON.stringify(Array.from({ length: 11 }, (_, i) => `q${i}`)))).toThrow(
      /at most 10 sub-questions; got 11/,
    );
    expect(() => strategyRegistry.parseOptions('pyrag', { givenSubQuestionsSource: 'model' })).toThrow();
  });
});
