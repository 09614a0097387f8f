import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelledError,
  ModelNotFoundError,
  ReckonError,
  ReplayMismatchError,
} from '../../main/engine/errors.ts';
import {
  REPLAY_SYNC_READ_MAX_BYTES,
  createReplayBackend,
  formatReplayLine,
} from '../../main/engine/models/ReplayBackend.ts';
import type { RetryEvent } from '../../main/engine/models/RetryPolicy.ts';
import { ModelCallError, withRetry } from '../../main/engine/models/RetryPolicy.ts';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reckon-replay-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function replayFile(lines: string[]): Promise<string> {
  const file = path.join(dir, `run-${++counter}.jsonl`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

const ask = (role?: string, content = 'what is the answer') => ({
  role,
  messages: [{ role: 'user' as const, content }],
});

describe('createReplayBackend', () => {
  it('plays outputs back in order and estimates tokens from words', async () => {
    const file = await replayFile([
      formatReplayLine({ output: 'first output here', role: 'plan' }),
      '',
      formatReplayLine({ output: 'second' }),
    ]);
    const backend = await createReplayBackend({ file });
    expect(backend.id).toBe(`replay:${file}`);
    expect(backend.parallelism).toBe(1);
    expect(backend.supportsGrammar).toBe(false);

    expect(await backend.generate(ask('plan'))).toEqual({
      text: 'first output here',
      promptTokens: 4,
      completionTokens: 3,
      tokensEstimated: true,
    });
    // A line without a role matches any role; a grammar changes nothing in a replay.
    expect(await backend.generate({ ...ask('answer', 'x'), grammar: 'root ::= "no"' })).toEqual({
      text: 'second',
      promptTokens: 1,
      completionTokens: 1,
      tokensEstimated: true,
    });
  });

  it('rejects a call whose role differs from the recorded one, naming line and roles', async () => {
    const file = await replayFile([formatReplayLine({ output: 'a', role: 'plan' })]);
    const backend = await createReplayBackend({ file });
    const error = await backend.generate(ask()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayMismatchError);
    expect((error as Error).message).toContain('line 1');
    expect((error as Error).message).toContain('"plan"');
    expect((error as Error).message).toContain('"generate"');
  });

  it('says how many outputs the file has when it runs out', async () => {
    const file = await replayFile([formatReplayLine({ output: 'only one' })]);
    const backend = await createReplayBackend({ file });
    await backend.generate(ask('plan'));
    const error = await backend.generate(ask('answer')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplayMismatchError);
    expect((error as Error).message).toContain(
      `replay file ${file} has 1 outputs; call 2 (role "answer") has none`,
    );
  });

  it('names the line number of a bad line', async () => {
    const notJson = await replayFile([formatReplayLine({ output: 'ok' }), '{"output": "unterminated']);
    await expect(createReplayBackend({ file: notJson })).rejects.toThrow(/line 2 is not valid JSON/);

    const wrongShape = await replayFile([formatReplayLine({ output: 'ok' }), '', '{"output": 42}']);
    const error = await createReplayBackend({ file: wrongShape }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReckonError);
    expect(error).toMatchObject({ code: 'BAD_REPLAY_FILE' });
    expect((error as Error).message).toContain('line 3');
  });

  it('reports a missing file, or a folder, as ModelNotFoundError', async () => {
    await expect(createReplayBackend({ file: path.join(dir, 'missing.jsonl') })).rejects.toBeInstanceOf(
      ModelNotFoundError,
    );
    await expect(createReplayBackend({ file: dir })).rejects.toThrow(/could not be read \(EISDIR\)/);
  });

  it('reads a file past REPLAY_SYNC_READ_MAX_BYTES too (asynchronously), whole', async () => {
    const long = 'x'.repeat(REPLAY_SYNC_READ_MAX_BYTES);
    const file = await replayFile([
      formatReplayLine({ output: long, role: 'plan' }),
      formatReplayLine({ output: 'é' }),
    ]);
    const backend = await createReplayBackend({ file });
    expect((await backend.generate(ask('plan'))).text).toBe(long);
    expect((await backend.generate(ask('answer'))).text).toBe('é');
  });

  it('scripts failures with error lines that the retry policy retries', async () => {
    const file = await replayFile([
      JSON.stringify({ error: { status: 429, message: 'slow down', retryAfterMs: 0 } }),
      JSON.stringify({ error: { status: 503, message: 'loading model' }, role: 'plan' }),
      formatReplayLine({ output: 'finally', role: 'plan' }),
      JSON.stringify({ error: { status: 400, message: 'bad prompt' } }),
    ]);
    const events: RetryEvent[] = [];
    const backend = withRetry(await createReplayBackend({ file }), {
      random: () => 0.5,
      baseDelayMs: 10,
      sleep: async () => undefined,
      onRetry: (event) => events.push(event),
    });

    const result = await backend.generate(ask('plan'));
    expect(result.text).toBe('finally');
    expect(events.map((e) => [e.attempt, e.reason, e.delayMs, e.outcome])).toEqual([
      [1, 'HTTP 429 Too Many Requests', 0, 'retrying'],
      [2, 'HTTP 503 Service Unavailable', 10, 'retrying'],
    ]);

    // 400 is not retryable, exactly like the HTTP backend.
    const error = await backend.generate(ask('plan')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    // A deterministic error is not shown as a retry.
    expect(events).toHaveLength(2);
  });

  it('waits delayMs and can be cancelled meanwhile', async () => {
    const file = await replayFile([JSON.stringify({ output: 'late', delayMs: 5_000 })]);
    const backend = await createReplayBackend({ file });
    const controller = new AbortController();
    const pending = backend.generate({ ...ask(), signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });
});

describe('token probabilities in replay lines', () => {
  it('returns recorded tokens to a call that asks, and fails one served a line without them', async () => {
    const file = await replayFile([
      formatReplayLine({
        output: 'Paris is',
        tokens: [
          { text: 'Paris', probability: 0.9 },
          { text: ' is', probability: 0.3 },
        ],
      }),
      JSON.stringify({ tokens: [{ text: 'Yes', probability: 0.5 }] }),
      JSON.stringify({ output: 'plain' }),
    ]);
    const backend = await createReplayBackend({ file });
    expect(backend.supportsTokenProbabilities).toBe(true);
    const first = await backend.generate({ ...ask(), tokenProbabilities: true });
    expect(first.text).toBe('Paris is');
    expect(first.tokens).toEqual([
      { text: 'Paris', probability: 0.9 },
      { text: ' is', probability: 0.3 },
    ]);
    // Without `output`, the text is the tokens joined; a call that does not ask gets no tokens.
    const second = await backend.generate(ask());
    expect(second).toMatchObject({ text: 'Yes', completionTokens: 1 });
    expect(second.tokens).toBeUndefined();
    const error = await backend.generate({ ...ask(), tokenProbabilities: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReckonError);
    expect(error).toMatchObject({
      code: 'TOKEN_PROBABILITIES_UNSUPPORTED',
      message: expect.stringContaining('line 3 was recorded without token probabilities'),
    });
  });

  it('reports no support when no line has tokens, and rejects probabilities outside 0–1', async () => {
    const plain = await createReplayBackend({ file: await replayFile([formatReplayLine({ output: 'x' })]) });
    expect(plain.supportsTokenProbabilities).toBe(false);
    const bad = await replayFile([JSON.stringify({ output: 'x', tokens: [{ text: 'x', probability: 2 }] })]);
    await expect(createReplayBackend({ file: bad })).rejects.toMatchObject({ code: 'BAD_REPLAY_FILE' });
  });
});

describe('formatReplayLine', () => {
  it('writes output first and role only when given', () => {
    expect(formatReplayLine({ output: 'x "quoted"\nline' })).toBe('{"output":"x \\"quoted\\"\\nline"}');
    expect(formatReplayLine({ output: 'y', role: 'plan' })).toBe('{"output":"y","role":"plan"}');
    expect(formatReplayLine({ output: 'z', tokens: [{ text: 'z', probability: 0.5 }] })).toBe(
      '{"output":"z","tokens":[{"text":"z","probability":0.5}]}',
    );
  });
});
