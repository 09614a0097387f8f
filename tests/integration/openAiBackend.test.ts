import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CancelledError } from '../../main/engine/errors.ts';
import { createOpenAiBackend } from '../../main/engine/models/OpenAiBackend.ts';
import { parseRetryAfterMs } from '../../main/engine/models/OpenAiBackend.ts';
import type { RetryEvent } from '../../main/engine/models/RetryPolicy.ts';
import { ModelCallError, withRetry } from '../../main/engine/models/RetryPolicy.ts';

interface ScriptedReply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** Hold the answer this long (to test cancellation). */
  delayMs?: number;
}

interface ReceivedRequest {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: Record<string, unknown>;
}

const MAX_REQUESTS = 50;
let server: http.Server;
let baseUrl: string;
let script: ScriptedReply[] = [];
const received: ReceivedRequest[] = [];

const completion = (text: string, usage = true) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
  ...(usage ? { usage: { prompt_tokens: 11, completion_tokens: 2, total_tokens: 13 } } : {}),
});

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      // Bounded: a runaway client loop cannot keep this server busy.
      if (received.length >= MAX_REQUESTS) {
        res.writeHead(500).end('too many requests in one test run');
        return;
      }
      received.push({
        method: req.method,
        url: req.url,
        authorization: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      const reply = script.shift() ?? { status: 500, body: { error: { message: 'script exhausted' } } };
      const send = (): void => {
        res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
        res.end(JSON.stringify(reply.body));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  script = [];
  received.length = 0;
});

const messages = [
  { role: 'system' as const, content: 'You write programs.' },
  { role: 'user' as const, content: 'Sum 1 and 2.' },
];

describe('createOpenAiBackend behind withRetry', () => {
  it('rides out a 429 and a 503 and records both retries', async () => {
    script = [
      { status: 429, headers: { 'retry-after': '0' }, body: { error: { message: 'rate limited' } } },
      { status: 503, body: { error: { message: 'Loading model' } } },
      { status: 200, body: completion('3') },
    ];
    const events: RetryEvent[] = [];
    const backend = withRetry(createOpenAiBackend({ baseUrl, model: 'qwen2.5-coder', apiKey: 'secret' }), {
      baseDelayMs: 5,
      random: () => 1,
      onRetry: (event) => events.push(event),
    });

    const result = await backend.generate({ role: 'answer', messages, maxTokens: 32, stop: ['```'] });

    expect(result).toEqual({ text: '3', promptTokens: 11, completionTokens: 2 });
    expect(received).toHaveLength(3);
    expect(events.map((e) => [e.attempt, e.delayMs, e.outcome, e.role])).toEqual([
      [1, 0, 'retrying', 'answer'], // Retry-After: 0 wins over the jitter
      [2, 10, 'retrying', 'answer'], // 1 × min(20 000, 5 × 2^1)
    ]);
    expect(events[0]?.reason).toContain('429');
    expect(events[1]?.reason).toContain('503');

    const first = received[0];
    expect(first?.method).toBe('POST');
    expect(first?.url).toBe('/v1/chat/completions');
    expect(first?.authorization).toBe('Bearer secret');
    expect(first?.body).toMatchObject({
      model: 'qwen2.5-coder',
      messages,
      max_tokens: 32,
      temperature: 0,
      stop: ['```'],
    });
    expect(first?.body).not.toHaveProperty('response_format');
  });

  it('does not retry a 400 and reports the server message', async () => {
    script = [
      { status: 400, body: { error: { message: 'context length exceeded' } } },
      { status: 200, body: completion('never') },
    ];
    const events: RetryEvent[] = [];
    const backend = withRetry(createOpenAiBackend({ baseUrl, model: 'm' }), {
      baseDelayMs: 5,
      onRetry: (event) => events.push(event),
    });
    const error = await backend.generate({ messages }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelCallError);
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect((error as Error).message).toContain('400');
    expect((error as Error).message).toContain('context length exceeded');
    expect(received).toHaveLength(1);
    expect(received[0]?.authorization).toBeUndefined();
    // A deterministic error is not a retry: no retry event.
    expect(events).toEqual([]);
  });

  it('sends response_format for a JSON schema and estimates usage when the server omits it', async () => {
    script = [{ status: 200, body: completion('{"answer":"3"}', false) }];
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const backend = createOpenAiBackend({ baseUrl: `${baseUrl}/`, model: 'm' });
    const result = await backend.generate({ messages, jsonSchema: schema, temperature: 0.2 });

    expect(received[0]?.body).toMatchObject({
      temperature: 0.2,
      max_tokens: 512,
      response_format: { type: 'json_schema', json_schema: { name: 'output', schema, strict: true } },
    });
    expect(received[0]?.body).not.toHaveProperty('stop');
    // (19 + 12) characters / 4 → 8; 14 characters / 4 → 4.
    expect(result).toEqual({ text: '{"answer":"3"}', promptTokens: 8, completionTokens: 4 });
  });

  it('sends a grammar only to a server said to take one, and not together with a schema', async () => {
    const grammar = 'root ::= "yes" | "no"';
    script = [
      { status: 200, body: completion('yes') },
      { status: 200, body: completion('maybe') },
    ];

    const plain = createOpenAiBackend({ baseUrl, model: 'm' });
    expect(plain.supportsGrammar).toBe(false);
    expect((await plain.generate({ messages, grammar })).text).toBe('yes');
    expect(received[0]?.body).not.toHaveProperty('grammar');

    const llamaServer = createOpenAiBackend({ baseUrl, model: 'm', supportsGrammar: true });
    expect(llamaServer.supportsGrammar).toBe(true);
    await llamaServer.generate({ messages, grammar });
    expect(received[1]?.body).toMatchObject({ grammar });

    const schema = { type: 'object' };
    await expect(llamaServer.generate({ messages, grammar, jsonSchema: schema })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    expect(received).toHaveLength(2);
  });

  it('asks for logprobs and returns each token with its probability, or says the server gave none', async () => {
    const withLogprobs = {
      ...completion('Paris is'),
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Paris is' },
          logprobs: {
            content: [
              { token: 'Paris', logprob: Math.log(0.9), bytes: [80], top_logprobs: [] },
              { token: ' is', logprob: Math.log(0.25), bytes: [32], top_logprobs: [] },
            ],
          },
          finish_reason: 'stop',
        },
      ],
    };
    script = [
      { status: 200, body: withLogprobs },
      { status: 200, body: completion('Paris is') },
    ];
    const backend = withRetry(createOpenAiBackend({ baseUrl, model: 'm' }));
    expect(backend.supportsTokenProbabilities).toBe(true);
    const result = await backend.generate({ messages, tokenProbabilities: true });
    expect(received[0]?.body).toMatchObject({ logprobs: true });
    expect(result.tokens!.map((token) => token.text)).toEqual(['Paris', ' is']);
    expect(result.tokens![0]!.probability).toBeCloseTo(0.9, 6);
    expect(result.tokens![1]!.probability).toBeCloseTo(0.25, 6);

    // A server that ignores `logprobs`: a typed error naming the backends that can, never retried.
    await expect(backend.generate({ messages, tokenProbabilities: true })).rejects.toMatchObject({
      name: 'TokenProbabilitiesUnsupportedError',
      code: 'TOKEN_PROBABILITIES_UNSUPPORTED',
      message: expect.stringMatching(/without logprobs.*node-llama-cpp/s),
    });
    expect(received).toHaveLength(2);
    expect(received[1]?.body).toMatchObject({ logprobs: true });
  });

  it('gives up after maxAttempts of 503 with MODEL_UNAVAILABLE', async () => {
    script = [0, 1, 2].map(() => ({ status: 503, body: { error: { message: 'busy' } } }));
    const backend = withRetry(createOpenAiBackend({ baseUrl, model: 'm' }), {
      baseDelayMs: 1,
      maxAttempts: 3,
    });
    const error = await backend.generate({ messages }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect((error as Error).message).toContain('failed 3 times');
    expect(received).toHaveLength(3);
  });

  it('aborts the request when the signal fires', async () => {
    script = [{ status: 200, body: completion('late'), delayMs: 2_000 }];
    const backend = createOpenAiBackend({ baseUrl, model: 'm' });
    const controller = new AbortController();
    const pending = backend.generate({ messages, signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toBeInstanceOf(CancelledError);
  });

  it('makes an unreachable server a retryable error naming the code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const backend = createOpenAiBackend({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'm' });
    const error = await backend.generate({ messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelCallError);
    expect(error).toMatchObject({ retryable: true, reason: 'ECONNREFUSED' });
  });
});

describe('parseRetryAfterMs', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfterMs('0', now)).toBe(0);
    expect(parseRetryAfterMs('7', now)).toBe(7_000);
    expect(parseRetryAfterMs('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfterMs('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});
