/**
 * The real node-llama-cpp backend on a tiny random GGUF written by the fixture. The model talks
 * nonsense, so these tests check shapes, limits, concurrency and errors — never what it says.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, ModelError, ModelNotFoundError } from '../../main/engine/errors.ts';
import { createLlamaCppBackend } from '../../main/engine/models/LlamaCppBackend.ts';
import type { ChatMessage, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';

const messages: ChatMessage[] = [
  { role: 'system', content: 'Answer from the documents.' },
  { role: 'user', content: 'What is the answer to the question in the document?' },
];

let dir: string;
let modelPath: string;
let backend: LlmBackend;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reckon-llama-'));
  modelPath = await makeTinyGguf({ path: path.join(dir, 'tiny.gguf') });
  backend = await createLlamaCppBackend({ modelPath, threads: 1, sequences: 2 });
});

afterAll(async () => {
  await backend?.dispose();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('makeTinyGguf', () => {
  it('writes a small, deterministic GGUF v3 file', async () => {
    const again = await makeTinyGguf({ path: path.join(dir, 'again.gguf') });
    const [first, second] = await Promise.all([readFile(modelPath), readFile(again)]);
    expect(first.subarray(0, 4).toString('latin1')).toBe('GGUF');
    expect(first.readUInt32LE(4)).toBe(3);
    expect(first.length).toBeGreaterThan(100_000);
    expect(first.length).toBeLessThan(1_000_000);
    expect(second.equals(first)).toBe(true);
  });
});

describe('createLlamaCppBackend', () => {
  it('reports its id and parallelism', () => {
    expect(backend.id).toBe(modelPath);
    expect(backend.parallelism).toBe(2);
  });

  it('generates within maxTokens and counts tokens', async () => {
    const result = await backend.generate({ messages, maxTokens: 8 });
    expect(typeof result.text).toBe('string');
    expect(result.promptTokens).toBeGreaterThan(10);
    expect(result.completionTokens).toBeGreaterThan(0);
    expect(result.completionTokens).toBeLessThanOrEqual(8);
  });

  it('is deterministic at temperature 0', async () => {
    const first = await backend.generate({ messages, maxTokens: 12, temperature: 0 });
    const second = await backend.generate({ messages, maxTokens: 12, temperature: 0 });
    expect(second.text).toBe(first.text);
  });

  it('produces JSON matching a schema', async () => {
    // maxLength makes the grammar's language finite, so even a random model must close the object
    // long before maxTokens (≤ 24 characters, each at most a 6-token \uXXXX escape, plus structure).
    // The string's JS length is not checked: the random model emits raw byte tokens whose sequences
    // the grammar counts as one character but that decode to several U+FFFD characters.
    const jsonSchema = {
      type: 'object',
      properties: { answer: { type: 'string', maxLength: 24 }, confident: { type: 'boolean' } },
      required: ['answer', 'confident'],
    };
    for (const temperature of [0, 1]) {
      const result = await backend.generate({ messages, jsonSchema, maxTokens: 400, temperature });
      expect(result.completionTokens).toBeLessThan(400);
      const parsed = JSON.parse(result.text) as unknown;
      expect(parsed).toEqual({ answer: expect.any(String), confident: expect.any(Boolean) });
    }
  });

  it('runs calls concurrently and queues the ones beyond its sequences', async () => {
    const results = await Promise.all(
      [0, 1, 2, 3].map((i) =>
        backend.generate({ messages: [...messages, { role: 'user', content: `Part ${i}.` }], maxTokens: 16 }),
      ),
    );
    for (const result of results) {
      expect(result.completionTokens).toBeGreaterThan(0);
      expect(result.completionTokens).toBeLessThanOrEqual(16);
    }
  });

  it('stops at a stop string', async () => {
    const free = await backend.generate({ messages, maxTokens: 40 });
    const stop = free.text.slice(10, 13);
    // Only meaningful when the free text has a stop candidate that occurs after its start.
    expect(stop.length).toBe(3);
    const stopped = await backend.generate({ messages, maxTokens: 40, stop: [stop] });
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
  });

  it('returns each token with its probability, and the same greedy text as the normal path', async () => {
    expect(backend.supportsTokenProbabilities).toBe(true);
    const plain = await backend.generate({ messages, maxTokens: 12 });
    const scored = await backend.generate({ messages, maxTokens: 12, tokenProbabilities: true });
    expect(scored.tokens).toBeDefined();
    const tokens = scored.tokens!;
    expect(tokens.length).toBe(scored.completionTokens);
    expect(tokens.length).toBeGreaterThan(0);
    expect(tokens.length).toBeLessThanOrEqual(12);
    expect(tokens.map((token) => token.text).join('')).toBe(scored.text);
    for (const token of tokens) {
      expect(token.probability).toBeGreaterThan(0);
      expect(token.probability).toBeLessThanOrEqual(1);
    }
    // Both paths decode greedily from the same prompt.
    expect(scored.text).toBe(plain.text);
    expect(plain.tokens).toBeUndefined();
  });

  it('cuts token probabilities at a stop string', async () => {
    const free = await backend.generate({ messages, maxTokens: 40, tokenProbabilities: true });
    const stop = free.text.slice(10, 13);
    expect(stop.length).toBe(3);
    const stopped = await backend.generate({
      messages,
      maxTokens: 40,
      stop: [stop],
      tokenProbabilities: true,
    });
    expect(stopped.text).toBe(free.text.slice(0, free.text.indexOf(stop)));
    expect(stopped.tokens!.map((token) => token.text).join('')).toBe(stopped.text);
  });

  it('rejects with CancelledError when aborted mid-generation, and keeps working', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = backend.generate({ messages, maxTokens: 1500, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
    expect(performance.now() - started).toBeLessThan(5_000);

    const after = await backend.generate({ messages, maxTokens: 4 });
    expect(after.completionTokens).toBeGreaterThan(0);
  });

  it('cancels a queued call without disturbing the running ones', async () => {
    const running = [0, 1].map(() => backend.generate({ messages, maxTokens: 200 }));
    const controller = new AbortController();
    const queued = backend.generate({ messages, maxTokens: 200, signal: controller.signal });
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(CancelledError);
    for (const result of await Promise.all(running)) expect(result.completionTokens).toBeGreaterThan(0);
  });

  it('rejects an already aborted signal before doing any work', async () => {
    await expect(backend.generate({ messages, signal: AbortSignal.abort() })).rejects.toBeInstanceOf(
      CancelledError,
    );
  });

  it('names the path and the fix when the model file is missing', async () => {
    const missing = path.join(dir, 'nope.gguf');
    const error = await createLlamaCppBackend({ modelPath: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFoundError);
    expect((error as Error).message).toContain(missing);
    expect((error as Error).message).toContain('--model <path>');
  });

  it('rejects a file that is not a GGUF and one that is cut short, without crashing', async () => {
    const garbage = path.join(dir, 'garbage.gguf');
    await writeFile(garbage, 'This is a text file, not a model.\n');
    const truncated = path.join(dir, 'truncated.gguf');
    await writeFile(truncated, (await readFile(modelPath)).subarray(0, 100_000));
    for (const bad of [garbage, truncated]) {
      const error = await createLlamaCppBackend({ modelPath: bad, threads: 1 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelNotFoundError);
      expect((error as Error).message).toContain(bad);
    }
    // The process (and the backend loaded before) survived.
    expect((await backend.generate({ messages, maxTokens: 2 })).completionTokens).toBeGreaterThan(0);
  });

  it('refuses work after dispose', async () => {
    const other = await createLlamaCppBackend({ modelPath, threads: 1, sequences: 1, contextSize: 256 });
    expect(other.parallelism).toBe(1);
    await other.dispose();
    await expect(other.generate({ messages })).rejects.toBeInstanceOf(ModelError);
  });
});

describe('prompt-prefix reuse and parallel sequences', () => {
  // A shared static part (instructions and documents) and a question after it: the layout every
  // strategy's answer() prompt has. About 600 tokens on the tiny vocabulary.
  const documents = Array.from(
    { length: 12 },
    (_, i) => `Document ${i}: the magazine of the question was started in ${1800 + i} by a publisher.`,
  ).join('\n');
  const asked = (question: string): ChatMessage[] => [
    { role: 'system', content: `Answer the question from the documents.\n${documents}` },
    { role: 'user', content: question },
  ];

  it('serves a shared prefix from the KV cache and answers exactly as a cold call does (greedy)', async () => {
    const warmBackend = await createLlamaCppBackend({ modelPath, threads: 1, sequences: 1 });
    const coldBackend = await createLlamaCppBackend({ modelPath, threads: 1, sequences: 1 });
    try {
      const first = await warmBackend.generate({ messages: asked('Which was first?'), maxTokens: 12 });
      expect(first.cachedPromptTokens).toBe(0);
      for (const tokenProbabilities of [false, true]) {
        const question = tokenProbabilities ? 'Who started it?' : 'When was it started?';
        const warm = await warmBackend.generate({
          messages: asked(question),
          maxTokens: 12,
          tokenProbabilities,
        });
        // Everything up to the question came from the cache; only the question was evaluated.
        expect(warm.cachedPromptTokens).toBeGreaterThan(0.9 * warm.promptTokens);
        expect(warm.cachedPromptTokens).toBeLessThan(warm.promptTokens);

        // The reference: the same prompt on a sequence that holds something else.
        await coldBackend.generate({ messages: [{ role: 'user', content: 'Unrelated.' }], maxTokens: 2 });
        const cold = await coldBackend.generate({
          messages: asked(question),
          maxTokens: 12,
          tokenProbabilities,
        });
        expect(cold.cachedPromptTokens).toBeLessThan(5);
        expect(cold.promptTokens).toBe(warm.promptTokens);
        expect(cold.completionTokens).toBeGreaterThan(0);
        expect(warm.text).toBe(cold.text);
      }
    } finally {
      await Promise.all([warmBackend.dispose(), coldBackend.dispose()]);
    }
  });

  it.each(['merged', 'perSequence'] as const)(
    'decodes four calls in four sequences at once (%s) with the same greedy answers as one after another',
    async (decodeBatching) => {
      const four = await createLlamaCppBackend({
        modelPath,
        threads: 1,
        sequences: 4,
        contextSize: 1024,
        decodeBatching,
      });
      try {
        expect(four.parallelism).toBe(4);
        const questions = ['Which was first?', 'Who started it?', 'When?', 'Where was it printed?'].map(
          (question, i) => [{ role: 'user' as const, content: `Question ${i}: ${question}` }],
        );
        const serial: string[] = [];
        for (const question of questions)
          serial.push((await four.generate({ messages: question, maxTokens: 16 })).text);
        // Evict the cached prompts so the parallel calls evaluate them again, batched.
        await Promise.all(
          questions.map((_, i) =>
            four.generate({ messages: [{ role: 'user', content: `Filler ${i}.` }], maxTokens: 2 }),
          ),
        );
        const parallel = await Promise.all(
          questions.map((question) => four.generate({ messages: question, maxTokens: 16 })),
        );
        expect(parallel.map((result) => result.text)).toEqual(serial);
        for (const result of parallel) expect(result.completionTokens).toBeGreaterThan(0);
      } finally {
        await four.dispose();
      }
    },
  );

  it('rejects an unknown decode batching with a typed error', async () => {
    const error = await createLlamaCppBackend({
      modelPath,
      threads: 1,
      decodeBatching: 'sometimes' as unknown as 'merged',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('INVALID_OPTION');
  });
});
