/**
 * Every control path of the baselines (Direct, CoT, Vanilla RAG, Self-Ask, IRCoT, ITER-RETGEN),
 * driven by scripted outputs through the real replay backend; retrieval is a small hand-written fake.
 * Each script must be consumed exactly: the strategy asked what the script expected, no more.
 * Covered: stop conditions, caps, forced final answers, distinct document accumulation, empty
 * retrieval, runs without a corpus, options from the registry, and a failing model call ending as a
 * typed error (also through startRun, where the trace keeps the steps before the failure).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { z } from 'zod';
import type { Engine, Retriever } from '../../main/engine/createEngine.ts';
import type { GenerateOptions, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import { startRun } from '../../main/engine/runs/startRun.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import type { SearchResult } from '../../main/engine/corpus/search/searchCorpus.ts';
import type { StrategyDescriptor, StrategyOutcome } from '../../main/engine/strategies/Strategy.ts';
import { directStrategy } from '../../main/engine/strategies/direct/directStrategy.ts';
import { cotStrategy } from '../../main/engine/strategies/cot/cotStrategy.ts';
import { vanillaRagStrategy } from '../../main/engine/strategies/vanilla/vanillaRagStrategy.ts';
import { readMove, selfAskStrategy } from '../../main/engine/strategies/self-ask/selfAskStrategy.ts';
import { firstSentence, ircotStrategy } from '../../main/engine/strategies/ircot/ircotStrategy.ts';
import { iterRetgenStrategy } from '../../main/engine/strategies/iter-retgen/iterRetgenStrategy.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-baselines-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A few passages; a query gets the k sharing most content words with it (ties by id), none with 0. */
const CORPUS: RetrievedDoc[] = [
  ['Paris', 'Paris is the capital of France.'],
  ['Seine', 'The Seine flows through Paris.'],
  ['Seine length', 'The Seine has a length of 777 km.'],
  ['Loire', 'The Loire is the longest river in France.'],
  ['Lyon', 'Lyon lies where the Rhone meets the Saone.'],
].map(([title, text], i) => ({ id: i + 1, title: title!, text: text!, score: 0, source: `doc${i + 1}.md` }));

const STOPWORDS = new Set('the is of a an in what which through how so answer it its'.split(' '));
const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/\W+/)
    .filter((w) => w && !STOPWORDS.has(w));

function search(query: string, k: number): RetrievedDoc[] {
  const wanted = new Set(words(query));
  return CORPUS.map((doc) => ({ ...doc, score: words(doc.text).filter((w) => wanted.has(w)).length }))
    .filter((doc) => doc.score > 0)
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}
const ids = (docs: readonly { id: number }[]): number[] => docs.map((doc) => doc.id);

type Line = { role: string; output: string } | { role: string; error: { status: number; message: string } };
const answer = (text: string, reasoning = 'Document [1] says so.'): Line => ({
  role: 'answer',
  output: `${reasoning}\n<answer>${text}</answer>`,
});
const failure = (role: string, status = 500): Line => ({
  role,
  error: { status, message: 'the model crashed' },
});

interface Scripted {
  outcome: StrategyOutcome;
  events: TraceEventBody[];
  requests: GenerateOptions[];
  retrieves: { query: string; k: number }[];
}

interface ScriptSetup {
  question?: string;
  retrieve?: (query: string, k: number) => RetrievedDoc[];
}

let scriptCount = 0;
async function replayOf(lines: Line[]): Promise<{ llm: LlmBackend; requests: GenerateOptions[] }> {
  const file = path.join(tmp, `script-${++scriptCount}.jsonl`);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  const replay = await createReplayBackend({ file });
  const requests: GenerateOptions[] = [];
  // A hand-written spy: what each call asked (the prompts and stops are part of the method).
  const llm: LlmBackend = {
    id: replay.id,
    parallelism: 1,
    generate: (request) => {
      requests.push(request);
      return replay.generate(request);
    },
    dispose: () => replay.dispose(),
  };
  return { llm, requests };
}

/** Every scripted output was used: one more call finds none. */
async function expectConsumed(llm: LlmBackend): Promise<void> {
  await expect(llm.generate({ role: 'answer', messages: [] })).rejects.toThrow(/has none/);
}

async function runScripted<S extends z.ZodObject>(
  strategy: StrategyDescriptor<S>,
  lines: Line[],
  options: Partial<z.input<S>> = {},
  setup: ScriptSetup = {},
): Promise<Scripted> {
  const { llm, requests } = await replayOf(lines);
  const events: TraceEventBody[] = [];
  const retrieves: { query: string; k: number }[] = [];
  const outcome = await strategy.run({
    question: setup.question ?? 'Which river flows through the capital of France?',
    // Options go through the registry, as a run's would.
    options: strategyRegistry.parseOptions(strategy.id, options) as z.output<S>,
    llm,
    retrieve: async (query, k) => {
      retrieves.push({ query, k });
      return (setup.retrieve ?? search)(query, k);
    },
    hasCorpus: true,
    topK: 5,
    runProgram: () => Promise.reject(new Error('baselines run no programs')),
    emit: (event) => events.push(event),
    now: () => 0,
    signal: new AbortController().signal,
  });
  const asked = [...requests];
  await expectConsumed(llm);
  return { outcome, events, requests: asked, retrieves };
}

/** A run whose script ends in a failing call: rejects with the typed model error, script consumed. */
async function expectModelFailure<S extends z.ZodObject>(
  strategy: StrategyDescriptor<S>,
  lines: Line[],
  options: Partial<z.input<S>> = {},
): Promise<void> {
  const { llm } = await replayOf(lines);
  await expect(
    strategy.run({
      question: 'Which river flows through the capital of France?',
      options: strategyRegistry.parseOptions(strategy.id, options) as z.output<S>,
      llm,
      retrieve: async (query, k) => search(query, k),
      hasCorpus: true,
      topK: 5,
      runProgram: () => Promise.reject(new Error('baselines run no programs')),
      emit: () => {},
      now: () => 0,
      signal: new AbortController().signal,
    }),
  ).rejects.toMatchObject({ name: 'ModelCallError', code: 'MODEL_CALL_FAILED', status: 500 });
  await expectConsumed(llm);
}

function steps(events: TraceEventBody[], kind?: string): TraceEventOf<'step'>[] {
  return events.filter(
    (event): event is TraceEventOf<'step'> =>
      event.type === 'step' && (kind === undefined || event.kind === kind),
  );
}
const lastMessage = (request: GenerateOptions | undefined) => request!.messages.at(-1)!;

describe('direct', () => {
  it('answers from the model alone in one call of the shared format, retrieving nothing', async () => {
    const { outcome, requests, retrieves, events } = await runScripted(
      directStrategy,
      [answer('the Seine', 'The Seine flows through Paris, the capital.')],
      { answerMaxTokens: 64 },
    );
    expect(outcome).toMatchObject({
      answer: 'the Seine',
      reasoning: 'The Seine flows through Paris, the capital.',
      citations: [],
      failure: null,
    });
    expect(retrieves).toEqual([]);
    expect(events).toEqual([]);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ role: 'answer', maxTokens: 64 });
    expect(requests[0]!.messages[0]!.content).toMatch(/own knowledge.*<answer><\/answer>/s);
    expect(lastMessage(requests[0])).toEqual({
      role: 'user',
      content: 'Question: Which river flows through the capital of France?',
    });
  });

  it('ends in the typed model error when its call fails', async () => {
    await expectModelFailure(directStrategy, [failure('answer')]);
  });
});

describe('cot', () => {
  it('thinks step by step and reads the answer from the same call', async () => {
    const { outcome, requests, events } = await runScripted(cotStrategy, [
      {
        role: 'cot',
        output:
          'The capital of France is Paris. The river through Paris is the Seine.\n<answer>the Seine</answer>',
      },
    ]);
    expect(lastMessage(requests[0]).content).toMatch(/Question: .*\n\nLet's think step by step\.$/);
    expect(outcome).toMatchObject({ answer: 'the Seine', failure: null, citations: [] });
    expect(outcome.metrics.strategy).toEqual({ reasoningSteps: 2, answerExtracted: false });
    expect(steps(events).map((s) => s.kind)).toEqual(['reasoning']);
  });

  it('asks for the answer alone when the reasoning ends without <answer> (answer extraction)', async () => {
    const reasoning = 'The capital of France is Paris. The Seine flows through Paris. So the river is';
    const { outcome, requests, events } = await runScripted(cotStrategy, [
      { role: 'cot', output: reasoning },
      { role: 'extract-answer', output: '<answer>the Seine</answer>' },
    ]);
    expect(requests[1]!.messages.at(-2)).toEqual({ role: 'assistant', content: reasoning });
    expect(lastMessage(requests[1]).content).toMatch(/^Therefore, the answer is/);
    expect(outcome).toMatchObject({ answer: 'the Seine', reasoning });
    expect(outcome.metrics.strategy).toEqual({ reasoningSteps: 3, answerExtracted: true });
    expect(steps(events).map((s) => s.kind)).toEqual(['reasoning', 'answer-extraction']);
  });

  it('takes the last line as the answer when extraction is switched off', async () => {
    const { outcome, requests } = await runScripted(
      cotStrategy,
      [{ role: 'cot', output: 'Paris is the capital.\nThe Seine.' }],
      { extractAnswer: false },
    );
    expect(requests).toHaveLength(1);
    expect(outcome).toMatchObject({ answer: 'The Seine' });
    expect(outcome.metrics.strategy.answerExtracted).toBe(false);
  });

  it('ends in the typed model error when the extraction call fails', async () => {
    await expectModelFailure(cotStrategy, [
      { role: 'cot', output: 'No tag here.' },
      failure('extract-answer'),
    ]);
  });
});

describe('vanilla', () => {
  it('retrieves once with the question at the run k and answers over those passages, citing them', async () => {
    const { outcome, requests, retrieves, events } = await runScripted(vanillaRagStrategy, [
      answer('unknown', 'Document [1] names the capital, not its river.'),
    ]);
    const question = 'Which river flows through the capital of France?';
    expect(retrieves).toEqual([{ query: question, k: 5 }]);
    const found = search(question, 5);
    const [retrieval] = steps(events, 'retrieval');
    expect(retrieval).toMatchObject({
      detail: question,
      data: { query: question, k: 5, docs: expect.any(Array) },
    });
    expect(ids(retrieval!.data!.docs as { id: number }[])).toEqual(ids(found));
    expect(retrieval!.title).toBe('Retrieved 3 passages for the query');
    expect(lastMessage(requests[0]).content).toContain(`[1] Paris\n${CORPUS[0]!.text}`);
    // A sentinel answer relied on nothing: no citations.
    expect(outcome).toMatchObject({ answer: 'unknown', citations: [] });
    expect(outcome.metrics.strategy).toEqual({ documentsRetrieved: 3 });
  });

  it('cites the passages the answer cites', async () => {
    const { outcome } = await runScripted(vanillaRagStrategy, [
      answer('the Seine', 'Document [3] says the Seine flows through Paris, which [1] calls the capital.'),
    ]);
    expect(outcome.answer).toBe('the Seine');
    expect(outcome.citations.map((c) => c.title)).toEqual(['Seine', 'Paris']);
  });

  it('answers without documents when retrieval finds nothing', async () => {
    const { outcome, requests, events } = await runScripted(
      vanillaRagStrategy,
      [answer('unknown', 'No documents.')],
      {},
      { retrieve: () => [] },
    );
    expect(lastMessage(requests[0]).content).toBe(
      'Question: Which river flows through the capital of France?',
    );
    expect(steps(events, 'retrieval')[0]).toMatchObject({
      title: 'Retrieved 0 passages for the query',
      data: { docs: [] },
    });
    expect(outcome).toMatchObject({ answer: 'unknown', citations: [] });
    expect(outcome.metrics.strategy).toEqual({ documentsRetrieved: 0 });
  });

  it('ends in the typed model error when the answer call fails', async () => {
    await expectModelFailure(vanillaRagStrategy, [failure('answer')]);
  });
});

describe('self-ask', () => {
  const intro = 'Are follow up questions needed here:';

  it('answers each follow-up over its own retrieval until "So the final answer is"', async () => {
    const { outcome, requests, retrieves, events } = await runScripted(selfAskStrategy, [
      // Past the stop sequence the model made up an answer: it must never reach the scratchpad.
      {
        role: 'self-ask',
        output: ' Yes.\nFollow up: What is the capital of France?\nIntermediate answer: Lyon.',
      },
      answer('Paris', 'Document [1] says Paris is the capital of France.'),
      { role: 'self-ask', output: '\nFollow up: Which river flows through Paris?' },
      answer('the Seine', 'Document [1] says the Seine flows through Paris.'),
      { role: 'self-ask', output: '\nSo the final answer is: the Seine.\n\nQuestion: Another one?' },
    ]);
    expect(retrieves).toEqual([
      { query: 'What is the capital of France?', k: 5 },
      { query: 'Which river flows through Paris?', k: 5 },
    ]);
    expect(requests.map((r) => r.role)).toEqual(['self-ask', 'answer', 'self-ask', 'answer', 'self-ask']);
    expect(requests[0]!.stop).toEqual(['Intermediate answer:', '\nQuestion:']);
    expect(lastMessage(requests[0])).toEqual({ role: 'assistant', content: intro });
    // The follow-up is answered over its passages with the shared answer call.
    expect(lastMessage(requests[1]).content).toMatch(
      /\[1\] Paris\n.*\n\nQuestion: What is the capital of France\?$/s,
    );
    const scratchpad = `${intro} Yes.\nFollow up: What is the capital of France?\nIntermediate answer: Paris.`;
    expect(lastMessage(requests[2])).toEqual({ role: 'assistant', content: scratchpad });
    expect(lastMessage(requests[4]).content).toBe(
      `${scratchpad}\nFollow up: Which river flows through Paris?\nIntermediate answer: the Seine.`,
    );
    expect(steps(events).map((s) => [s.kind, s.title])).toEqual([
      ['follow-up', 'Follow-up 1'],
      ['follow-up', 'Follow-up 2'],
      ['final-answer', 'So the final answer is: the Seine'],
    ]);
    const [first] = steps(events, 'follow-up');
    expect(first).toMatchObject({
      detail: 'What is the capital of France? → Paris',
      data: { step: 1, intermediateAnswer: 'Paris', sentinel: false, newDocIds: [1, 4] },
    });
    expect(ids(first!.data!.docs as { id: number }[])).toEqual([1, 4]);
    expect(outcome).toMatchObject({ answer: 'the Seine', failure: null });
    expect(outcome.reasoning).toMatch(/So the final answer is: the Seine\.$/);
    expect(outcome.citations.map((c) => c.title)).toEqual(['Paris', 'Seine']);
    // Passages found by both follow-ups count once.
    expect(outcome.metrics.strategy).toEqual({
      followUps: 2,
      documentsCollected: 3,
      capHit: false,
      forcedFinalAnswer: false,
      stopReason: 'final-answer',
    });
  });

  it('answers at once when no follow-up is needed', async () => {
    const { outcome, retrieves } = await runScripted(selfAskStrategy, [
      { role: 'self-ask', output: ' No.\nSo the final answer is: "the Seine"' },
    ]);
    expect(retrieves).toEqual([]);
    expect(outcome).toMatchObject({ answer: 'the Seine', citations: [] });
    expect(outcome.metrics.strategy).toMatchObject({ followUps: 0, stopReason: 'final-answer' });
  });

  it('forces the final answer at the follow-up cap', async () => {
    const { outcome, requests, events } = await runScripted(
      selfAskStrategy,
      [
        { role: 'self-ask', output: ' Yes.\nFollow up: What is the capital of France?' },
        answer('Paris'),
        { role: 'self-ask', output: '\nFollow up: Which river flows through Paris?' },
        answer('the Seine'),
        // The cap is 2: the next generation is the forced final answer, cut at its first line.
        { role: 'self-ask-final', output: ' the Seine\nFollow up: And its length?' },
      ],
      { maxFollowUps: 2, finalMaxTokens: 16 },
    );
    expect(requests[4]).toMatchObject({ role: 'self-ask-final', maxTokens: 16, stop: ['\n'] });
    expect(lastMessage(requests[4]).content).toMatch(
      /Intermediate answer: the Seine\.\nSo the final answer is:$/,
    );
    expect(outcome.answer).toBe('the Seine');
    expect(outcome.metrics.strategy).toEqual({
      followUps: 2,
      documentsCollected: 3,
      capHit: true,
      forcedFinalAnswer: true,
      stopReason: 'cap',
    });
    expect(steps(events, 'final-answer')[0]).toMatchObject({
      title: 'So the final answer is: the Seine (forced: cap of 2 follow-ups)',
      data: { forced: true, stopReason: 'cap' },
    });
  });

  it('forces the final answer when a generation holds neither a follow-up nor an answer', async () => {
    const { outcome, requests } = await runScripted(selfAskStrategy, [
      { role: 'self-ask', output: ' Maybe. I am not sure what to do.' },
      { role: 'self-ask-final', output: ' unknown' },
    ]);
    expect(lastMessage(requests[1]).content).toBe(
      `${intro} Maybe. I am not sure what to do.\nSo the final answer is:`,
    );
    expect(outcome.answer).toBe('unknown');
    expect(outcome.metrics.strategy).toMatchObject({
      followUps: 0,
      capHit: false,
      forcedFinalAnswer: true,
      stopReason: 'no-follow-up',
    });
  });

  it('passes "unknown" on as the intermediate answer when retrieval finds nothing', async () => {
    const { outcome, requests, events } = await runScripted(
      selfAskStrategy,
      [
        { role: 'self-ask', output: ' Yes.\nFollow up: What is the capital of France?' },
        answer('unknown', 'There are no documents.'),
        { role: 'self-ask', output: '\nSo the final answer is: unknown' },
      ],
      {},
      { retrieve: () => [] },
    );
    expect(lastMessage(requests[1]).content).toBe('Question: What is the capital of France?');
    expect(lastMessage(requests[2]).content).toMatch(/Intermediate answer: unknown\.$/);
    expect(steps(events, 'follow-up')[0]!.data).toMatchObject({ sentinel: true, docs: [] });
    expect(outcome).toMatchObject({ answer: 'unknown', citations: [] });
    expect(outcome.metrics.strategy.documentsCollected).toBe(0);
  });

  it('ends in the typed model error when an intermediate answer fails', async () => {
    await expectModelFailure(selfAskStrategy, [
      { role: 'self-ask', output: ' Yes.\nFollow up: What is the capital of France?' },
      failure('answer'),
    ]);
  });

  it('reads follow-ups and final answers as small models write them', () => {
    expect(readMove(' Yes.\nFollow-up: Who?\nIntermediate answer: me')).toEqual({
      kind: 'follow-up',
      question: 'Who?',
      text: ' Yes.\nFollow-up: Who?',
    });
    expect(readMove('\nFollow up: A?\nFollow up: B?')).toMatchObject({ kind: 'follow-up', question: 'B?' });
    expect(readMove('\nso the final answer is Paris')).toMatchObject({ kind: 'final', answer: 'Paris' });
    expect(readMove('\nFollow up:   \n')).toMatchObject({ kind: 'none' });
  });
});

describe('ircot', () => {
  const question = 'How long is the river that flows through the capital of France?';

  it('interleaves one sentence and one retrieval until "the answer is", then reads every distinct passage', async () => {
    const { outcome, requests, retrieves, events } = await runScripted(
      ircotStrategy,
      [
        // Only the first sentence of a step counts.
        { role: 'ircot-thought', output: ' The Seine flows through Paris. The capital of France is Paris.' },
        { role: 'ircot-thought', output: ' So the answer is: 777 km.' },
        answer('777 km', 'Document [4] gives the length of the Seine.'),
      ],
      {},
      { question },
    );
    expect(retrieves.map((r) => r.query)).toEqual([question, 'The Seine flows through Paris.']);
    expect(requests.map((r) => r.role)).toEqual(['ircot-thought', 'ircot-thought', 'answer']);
    expect(lastMessage(requests[0])).toEqual({ role: 'assistant', content: 'Reasoning:' });
    expect(lastMessage(requests[1])).toEqual({
      role: 'assistant',
      content: 'Reasoning: The Seine flows through Paris.',
    });
    // The second step sees the passage the first sentence found.
    expect(requests[0]!.messages[1]!.content).not.toContain('Seine length');
    expect(requests[1]!.messages[1]!.content).toContain('[4] Seine length');
    expect(steps(events).map((s) => s.kind)).toEqual([
      'retrieval',
      'thought',
      'retrieval',
      'thought',
      'reader',
    ]);
    const retrievals = steps(events, 'retrieval');
    expect(retrievals.map((s) => s.data!.newDocIds)).toEqual([[1, 4, 2], [3]]);
    expect(ids(retrievals[1]!.data!.docs as { id: number }[])).toEqual([2, 1, 3]);
    expect(steps(events, 'thought').map((s) => [s.detail, s.data!.answerSentence])).toEqual([
      ['The Seine flows through Paris.', false],
      ['So the answer is: 777 km.', true],
    ]);
    expect(lastMessage(requests[2]).content).toMatch(/^Documents:\n\[1\] Paris\n.*\[4\] Seine length\n/s);
    expect(outcome).toMatchObject({ answer: '777 km', failure: null });
    expect(outcome.citations.map((c) => c.title)).toEqual(['Seine length']);
    expect(outcome.metrics.strategy).toEqual({
      steps: 2,
      retrievals: 2,
      documentsCollected: 4,
      documentsRead: 4,
      capHit: false,
      stopReason: 'answer-sentence',
    });
  });

  it('stops at the step cap, the last sentence still retrieving, and hands the reader at most maxReaderDocs', async () => {
    const { outcome, requests, retrieves, events } = await runScripted(
      ircotStrategy,
      [
        { role: 'ircot-thought', output: ' The Seine flows through Paris.' },
        { role: 'ircot-thought', output: ' Lyon lies on the Rhone.' },
        answer('unknown', 'The passages do not say.'),
      ],
      { maxSteps: 2, maxReaderDocs: 4 },
      { question },
    );
    expect(retrieves.map((r) => r.query)).toEqual([
      question,
      'The Seine flows through Paris.',
      'Lyon lies on the Rhone.',
    ]);
    expect(steps(events, 'retrieval').map((s) => s.data!.newDocIds)).toEqual([[1, 4, 2], [3], [5]]);
    // Five passages collected, four read: the first four found.
    const reader = lastMessage(requests[2]).content;
    expect(reader).toContain('[4] Seine length');
    expect(reader).not.toContain('Lyon');
    expect(steps(events, 'reader')[0]).toMatchObject({ title: 'Reading 4 of 5 collected passages' });
    expect(outcome.metrics.strategy).toEqual({
      steps: 2,
      retrievals: 3,
      documentsCollected: 5,
      documentsRead: 4,
      capHit: true,
      stopReason: 'cap',
    });
  });

  it('goes to the reader when a step writes nothing, and reads without documents when retrieval finds none', async () => {
    const { outcome, requests, retrieves } = await runScripted(
      ircotStrategy,
      [{ role: 'ircot-thought', output: '\n\n' }, answer('unknown', 'Nothing to go on.')],
      {},
      { question, retrieve: () => [] },
    );
    expect(retrieves).toHaveLength(1);
    expect(requests[0]!.messages[1]!.content).toContain('(no documents found)');
    expect(lastMessage(requests[1]).content).toBe(`Question: ${question}`);
    expect(outcome).toMatchObject({ answer: 'unknown', citations: [] });
    expect(outcome.metrics.strategy).toMatchObject({
      steps: 0,
      documentsCollected: 0,
      capHit: false,
      stopReason: 'empty-sentence',
    });
  });

  it('ends in the typed model error when a reasoning step fails', async () => {
    await expectModelFailure(ircotStrategy, [
      { role: 'ircot-thought', output: ' The Seine flows through Paris.' },
      failure('ircot-thought'),
    ]);
  });

  it('keeps the first sentence, not the first period', () => {
    expect(firstSentence(' He moved to the U.S. in 1950. Then he left.')).toBe(
      'He moved to the U.S. in 1950.',
    );
    expect(firstSentence('Reasoning: J. R. R. Tolkien wrote it. Next.')).toBe('J. R. R. Tolkien wrote it.');
    expect(firstSentence(' The river is 3.5 km long')).toBe('The river is 3.5 km long');
    expect(firstSentence('\n  \n')).toBe('');
  });
});

describe('iter-retgen', () => {
  const question = 'Which river flows through the capital of France?';

  it('runs T rounds, each retrieving with the question and the previous generation; the last answer wins', async () => {
    const { outcome, retrieves, requests, events } = await runScripted(iterRetgenStrategy, [
      answer('the Loire', 'Document [2] names the Loire as a river of France.'),
      answer('the Seine', 'The Seine flows through Paris [3].'),
      answer('the Seine', 'Document [1] says the Seine flows through Paris.'),
    ]);
    const round2 = `${question} Document names the Loire as a river of France. the Loire`;
    const round3 = `${question} The Seine flows through Paris. the Seine`;
    expect(retrieves).toEqual([
      { query: question, k: 5 },
      { query: round2, k: 5 },
      { query: round3, k: 5 },
    ]);
    // Every round answers the original question over its own passages.
    for (const request of requests)
      expect(lastMessage(request).content.endsWith(`Question: ${question}`)).toBe(true);
    expect(lastMessage(requests[2]).content).toContain(`[1] ${search(round3, 5)[0]!.title}\n`);
    const rounds = steps(events, 'round');
    expect(rounds.map((s) => [s.data!.round, s.data!.answer, s.data!.query])).toEqual([
      [1, 'the Loire', question],
      [2, 'the Seine', round2],
      [3, 'the Seine', round3],
    ]);
    expect(rounds[0]!).toMatchObject({ title: 'Round 1', detail: `the Loire (query: ${question})` });
    expect(outcome).toMatchObject({
      answer: 'the Seine',
      reasoning: 'Document [1] says the Seine flows through Paris.',
    });
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([search(round3, 5)[0]!.id]);
    const all = new Set([question, round2, round3].flatMap((q) => ids(search(q, 5))));
    expect(outcome.metrics.strategy).toEqual({ rounds: 3, documentsCollected: all.size, answerChanges: 1 });
  });

  it('honours T and a query built from the answer alone', async () => {
    const { retrieves, outcome } = await runScripted(
      iterRetgenStrategy,
      [answer('Paris', 'Document [1] is about Paris.'), answer('the Seine')],
      { rounds: 2, queryFromGeneration: 'answer' },
    );
    expect(retrieves.map((r) => r.query)).toEqual([question, `${question} Paris`]);
    expect(outcome.metrics.strategy).toMatchObject({ rounds: 2, answerChanges: 1 });
  });

  it('still generates each round when retrieval finds nothing', async () => {
    const { outcome, requests } = await runScripted(
      iterRetgenStrategy,
      [answer('unknown', 'None.'), answer('unknown', 'None.')],
      { rounds: 2 },
      { retrieve: () => [] },
    );
    for (const request of requests) expect(lastMessage(request).content).toBe(`Question: ${question}`);
    expect(outcome).toMatchObject({ answer: 'unknown', citations: [] });
    expect(outcome.metrics.strategy).toEqual({ rounds: 2, documentsCollected: 0, answerChanges: 0 });
  });

  it('ends in the typed model error when a round fails', async () => {
    await expectModelFailure(iterRetgenStrategy, [answer('Paris'), failure('answer')]);
  });
});

describe('baselines through startRun', () => {
  /** An engine whose only corpus is the fake one above. */
  const engine = {
    openRetriever: (corpus: string): Retriever => ({
      corpus,
      search: async (query, options) => {
        const docs = search(query, options?.k ?? 5);
        return {
          requestedMode: 'bm25',
          mode: 'bm25',
          warnings: [],
          hits: docs.map((doc) => ({
            chunkId: doc.id,
            documentId: doc.id,
            path: doc.source,
            title: doc.title,
            text: doc.text,
            start: 0,
            end: doc.text.length,
            page: null,
            score: doc.score,
            ranks: { bm25: 1 },
          })),
        } satisfies SearchResult;
      },
      close: () => {},
    }),
  } as unknown as Engine;

  it('refuses a retrieval baseline without a corpus before the run starts', () => {
    for (const strategy of ['vanilla', 'self-ask', 'ircot', 'iter-retgen']) {
      expect(() =>
        startRun(
          { kind: 'question', question: 'q', strategy, model: 'replay:x', corpus: null },
          { engine, llm: () => Promise.reject(new Error('not reached')) },
        ),
      ).toThrow(expect.objectContaining({ code: 'CORPUS_REQUIRED' }));
    }
  });

  it('records a failing model call as a typed run error, keeping the steps before it', async () => {
    const { llm } = await replayOf([
      { role: 'self-ask', output: ' Yes.\nFollow up: What is the capital of France?' },
      answer('Paris'),
      // Not retryable: the run's retry policy rethrows it as it is.
      failure('self-ask', 400),
    ]);
    const handle = startRun(
      {
        kind: 'question',
        question: 'Which river flows through the capital of France?',
        strategy: 'self-ask',
        model: 'replay:script',
        corpus: 'fake',
        retry: { maxAttempts: 1 },
      },
      { engine, llm: async () => ({ backend: llm, release: async () => {} }) },
    );
    const result = await handle.done;
    expect(result).toMatchObject({
      status: 'failed',
      answer: null,
      error: { name: 'ModelCallError', code: 'MODEL_CALL_FAILED' },
    });
    expect(result.error!.message).toMatch(/the model crashed/);
    expect(
      result.events.filter((e) => e.type === 'step').map((e) => (e as TraceEventOf<'step'>).kind),
    ).toEqual(['follow-up']);
    expect(result.metrics.llmCalls).toBe(3);
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: 'failed' });
    await expectConsumed(llm);
  });

  it('runs direct with no corpus and no retrieval', async () => {
    const { llm } = await replayOf([answer('Paris', 'It is the capital.')]);
    const result = await startRun(
      {
        kind: 'question',
        question: 'What is the capital of France?',
        strategy: 'direct',
        model: 'replay:x',
        corpus: null,
      },
      { engine, llm: async () => ({ backend: llm, release: async () => {} }) },
    ).done;
    expect(result).toMatchObject({
      status: 'succeeded',
      answer: 'Paris',
      metrics: { llmCalls: 1, program: null },
    });
  });
});
