/**
 * FLARE's control flow, driven by scripted replay lines that carry token probabilities through the
 * real replay backend (retrieval is a small hand-written fake): a confident sentence accepted as it
 * is, a low-confidence sentence that triggers a masked-query retrieval and is regenerated, the
 * sentence cap with the reader call after it, and a backend without probabilities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TokenProbabilitiesUnsupportedError } from '../../main/engine/errors.ts';
import type { GenerateOptions, LlmBackend, TokenProbability } from '../../main/engine/models/LlmBackend.ts';
import { createReplayBackend } from '../../main/engine/models/ReplayBackend.ts';
import type { RetrievedDoc } from '../../main/engine/sandbox/SandboxTypes.ts';
import {
  firstSentence,
  flareOptionsSchema,
  formQuery,
  runFlare,
  type FlareOptions,
} from '../../main/engine/strategies/flare/flare.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import type { StrategyOutcome } from '../../main/engine/strategies/Strategy.ts';
import type { TraceEventBody, TraceEventOf } from '../../preload/TraceEvent.ts';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-flare-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const CORPUS: RetrievedDoc[] = [
  'Paris is the capital of France.',
  'The Seine flows through Paris.',
  'Lyon lies on the Rhône.',
  'The Seine has a length of 777 km.',
].map((text, i) => ({ id: i + 1, title: `Doc ${i + 1}`, text, score: 0, source: `doc${i + 1}.md` }));

/** The k passages with most words in common with the query (ties by id). */
function search(query: string, k: number): RetrievedDoc[] {
  const words = new Set(query.toLowerCase().split(/\W+/).filter(Boolean));
  return CORPUS.map((doc) => ({
    ...doc,
    score: doc.text
      .toLowerCase()
      .split(/\W+/)
      .filter((w) => words.has(w)).length,
  }))
    .sort((a, b) => b.score - a.score || a.id - b.id)
    .slice(0, k);
}

type Line = { role: string; output?: string; tokens?: TokenProbability[] };
/** A look-ahead line: [text, probability] pairs. */
const lookahead = (...pairs: [string, number][]): Line => ({
  role: 'lookahead',
  tokens: pairs.map(([text, probability]) => ({ text, probability })),
});
const regenerate = (output: string): Line => ({ role: 'regenerate', output });

interface Scripted {
  outcome: StrategyOutcome;
  events: TraceEventBody[];
  requests: GenerateOptions[];
  retrieves: string[];
}

let count = 0;
async function runScripted(lines: Line[], options: Partial<FlareOptions> = {}): Promise<Scripted> {
  const file = path.join(tmp, `script-${++count}.jsonl`);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  const replay = await createReplayBackend({ file });
  const requests: GenerateOptions[] = [];
  const llm: LlmBackend = {
    id: replay.id,
    parallelism: 1,
    ...(replay.supportsTokenProbabilities !== undefined
      ? { supportsTokenProbabilities: replay.supportsTokenProbabilities }
      : {}),
    generate: (request) => {
      requests.push(request);
      return replay.generate(request);
    },
    dispose: () => replay.dispose(),
  };
  const events: TraceEventBody[] = [];
  const retrieves: string[] = [];
  const outcome = await runFlare({
    question: 'What river flows through the capital of France?',
    options: flareOptionsSchema.parse(options),
    llm,
    retrieve: async (query, k) => {
      retrieves.push(query);
      return search(query, k);
    },
    hasCorpus: true,
    topK: 2,
    runProgram: () => Promise.reject(new Error('FLARE runs no program')),
    emit: (event) => events.push(event),
    now: () => 0,
    signal: new AbortController().signal,
  });
  const made = [...requests];
  // Every scripted line was used.
  await expect(replay.generate({ role: 'answer', messages: [] })).rejects.toThrow(/has none/);
  return { outcome, events, requests: made, retrieves };
}

function steps(events: TraceEventBody[], kind: string): TraceEventOf<'step'>[] {
  return events.filter(
    (event): event is TraceEventOf<'step'> => event.type === 'step' && event.kind === kind,
  );
}

describe('FLARE', () => {
  it('accepts confident sentences as they are and parses the <answer> the last one closes', async () => {
    const { outcome, events, requests, retrieves } = await runScripted([
      // The look-ahead runs past the sentence; only the first sentence is judged and kept.
      lookahead(['Paris is the capital of France', 0.9], [' [1].', 0.8], [' The', 0.05]),
      lookahead([' The Seine flows through Paris [2].', 0.7]),
      lookahead([' <answer>', 0.99], ['Seine', 0.6], ['</answer>', 0.99]),
    ]);
    expect(retrieves).toEqual(['What river flows through the capital of France?']);
    expect(outcome.answer).toBe('Seine');
    expect(outcome.failure).toBeNull();
    expect(outcome.reasoning).toBe('Paris is the capital of France [1]. The Seine flows through Paris [2].');
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([1, 2]);
    const sentences = steps(events, 'sentence');
    expect(sentences.map((s) => [s.detail, s.data?.triggeredRetrieval])).toEqual([
      ['Paris is the capital of France [1].', false],
      ['The Seine flows through Paris [2].', false],
      ['<answer>Seine</answer>', false],
    ]);
    // The token below θ after the first sentence did not count: it was beyond the sentence.
    expect(sentences[0]!.data?.minProbability).toBe(0.8);
    expect(steps(events, 'retrieval')).toHaveLength(1);
    // Each look-ahead asks for probabilities and continues the answer written so far.
    expect(requests.every((r) => r.tokenProbabilities === true && r.role === 'lookahead')).toBe(true);
    expect(requests[0]!.messages.at(-1)!.role).toBe('user');
    expect(requests[2]!.messages.at(-1)).toEqual({
      role: 'assistant',
      content: 'Paris is the capital of France [1]. The Seine flows through Paris [2].',
    });
    expect(outcome.metrics.strategy).toEqual({
      sentences: 3,
      retrievals: 1,
      triggeredSentences: 0,
      minProbability: 0.6,
      capReached: false,
      answerSource: 'generation',
    });
  });

  it('retrieves with the masked look-ahead when a token is below θ, and regenerates the sentence', async () => {
    const { outcome, events, requests, retrieves } = await runScripted(
      [
        lookahead(['The Seine', 0.9], [' flows through', 0.95], [' Lyon', 0.1], ['.', 0.9]),
        regenerate('The Seine flows through Paris [1]. Extra text.'),
        lookahead([' <answer>Seine</answer>', 0.95]),
      ],
      { initialRetrieval: false },
    );
    // Exactly the low-probability token was masked out of the query.
    expect(retrieves).toEqual(['The Seine flows through.']);
    expect(outcome.answer).toBe('Seine');
    const [first, second] = steps(events, 'sentence');
    expect(first!.detail).toBe('The Seine flows through Paris [1].');
    expect(first!.data).toMatchObject({
      triggeredRetrieval: true,
      minProbability: 0.1,
      lookahead: 'The Seine flows through Lyon.',
      lowConfidenceTokens: [{ text: ' Lyon', probability: 0.1 }],
      query: 'The Seine flows through.',
      retrievedIds: [2, 4],
    });
    expect(second!.data?.triggeredRetrieval).toBe(false);
    // The regeneration sees the new documents; the next look-ahead keeps them.
    expect(requests.map((r) => r.role)).toEqual(['lookahead', 'regenerate', 'lookahead']);
    expect(requests[1]!.messages[1]!.content).toContain('The Seine flows through Paris.');
    expect(requests[2]!.messages[1]!.content).toContain('The Seine flows through Paris.');
    expect(requests[1]!.tokenProbabilities).toBeUndefined();
    expect(outcome.citations.map((c) => c.chunkId)).toEqual([2]);
    expect(outcome.metrics.strategy).toMatchObject({ retrievals: 1, triggeredSentences: 1, sentences: 2 });
  });

  it('uses the whole sentence as the query with query=sentence, and θ decides what triggers', async () => {
    const { retrieves, outcome } = await runScripted(
      [
        lookahead(['The Seine', 0.9], [' flows', 0.3], ['.', 0.9]),
        regenerate('The Seine flows through Paris.'),
        lookahead(['<answer>Seine</answer>', 0.5]),
      ],
      { initialRetrieval: false, query: 'sentence', threshold: 0.35 },
    );
    expect(retrieves).toEqual(['The Seine flows.']);
    // 0.5 is above θ = 0.35: the answer sentence was accepted.
    expect(outcome.metrics.strategy).toMatchObject({ triggeredSentences: 1 });
  });

  it('stops at the sentence cap and answers with one reader call over the text and documents', async () => {
    const { outcome, events, requests } = await runScripted(
      [
        lookahead(['Paris is the capital of France.', 0.9]),
        lookahead([' It is a city.', 0.9]),
        { role: 'answer', output: 'Document [1] says so.\n<answer>Seine</answer>' },
      ],
      { maxSentences: 2 },
    );
    expect(steps(events, 'sentence')).toHaveLength(2);
    expect(outcome.answer).toBe('Seine');
    expect(outcome.metrics.strategy).toMatchObject({
      capReached: true,
      answerSource: 'reader',
      sentences: 2,
    });
    const reader = requests.at(-1)!;
    expect(reader.role).toBe('answer');
    expect(reader.messages[1]!.content).toContain(
      'Notes so far: Paris is the capital of France. It is a city.',
    );
  });

  it('ends the answer when the model stops, even without an <answer>', async () => {
    const { outcome } = await runScripted([
      lookahead(['Paris.', 0.9]),
      lookahead(),
      { role: 'answer', output: '<answer>unknown</answer>' },
    ]);
    expect(outcome.answer).toBe('unknown');
    expect(outcome.metrics.strategy).toMatchObject({
      sentences: 1,
      capReached: false,
      answerSource: 'reader',
    });
  });

  it('fails with a typed error, before any model call, on a backend without token probabilities', async () => {
    const error = await runScripted([{ role: 'lookahead', output: 'Paris.' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenProbabilitiesUnsupportedError);
    expect(error).toMatchObject({
      code: 'TOKEN_PROBABILITIES_UNSUPPORTED',
      message: expect.stringMatching(/FLARE.*node-llama-cpp.*logprobs/s),
    });
  });

  it('fails with the same error when a replay line lacks the probabilities a look-ahead needs', async () => {
    const error = await runScripted([
      lookahead(['Paris is the capital of France.', 0.9]),
      { role: 'lookahead', output: ' More.' },
    ]).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'TOKEN_PROBABILITIES_UNSUPPORTED',
      message: expect.stringContaining('line 2 was recorded without token probabilities'),
    });
  });
});

describe('FLARE helpers', () => {
  it('cuts the first sentence at an end mark, a line break or the <answer> tag, with its tokens', () => {
    expect(firstSentence('A b. C d.').text).toBe('A b.');
    expect(firstSentence('It is 3.5 km long. Next').text).toBe('It is 3.5 km long.');
    expect(firstSentence('Reasoning [1] <answer>x</answer>').text).toBe('Reasoning [1] ');
    expect(firstSentence(' <answer>Washington, D.C.</answer> more').text).toBe(
      ' <answer>Washington, D.C.</answer>',
    );
    expect(firstSentence('no end yet').text).toBe('no end yet');
    const tokens = [
      { text: 'A', probability: 1 },
      { text: ' b.', probability: 0.5 },
      { text: ' C', probability: 0.1 },
    ];
    expect(firstSentence('A b. C', tokens).tokens).toEqual(tokens.slice(0, 2));
  });

  it('masks tokens below β and falls back to the question when nothing is left', () => {
    const tokens = [
      { text: 'Born in', probability: 0.9 },
      { text: ' 1912', probability: 0.2 },
      { text: ' [2].', probability: 0.9 },
    ];
    expect(formQuery(tokens, { query: 'masked', maskThreshold: 0.4 }, 'q?')).toBe('Born in .');
    expect(formQuery(tokens, { query: 'sentence', maskThreshold: 0.4 }, 'q?')).toBe('Born in 1912 .');
    expect(
      formQuery([{ text: ' 1912', probability: 0.1 }], { query: 'masked', maskThreshold: 0.4 }, 'q?'),
    ).toBe('q?');
  });

  it('is registered with documented defaults', () => {
    expect(strategyRegistry.parseOptions('flare')).toEqual({
      threshold: 0.4,
      maskThreshold: 0.4,
      query: 'masked',
      initialRetrieval: true,
      maxSentences: 8,
      sentenceMaxTokens: 64,
      answerMaxTokens: 256,
    });
  });
});
