import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CancelledError, ModelError, ReplayMismatchError } from '../../main/engine/errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import type { RetryEvent, RetryPolicyOptions } from '../../main/engine/models/RetryPolicy.ts';
import {
  CallTimeoutError,
  ModelCallError,
  describeFailure,
  isRetryable,
  withRetry,
} from '../../main/engine/models/RetryPolicy.ts';

type Step = GenerateResult | Error | ((request: GenerateOptions) => Promise<GenerateResult>);

/** A backend that plays a script of results and failures, one step per call. */
class ScriptedBackend implements LlmBackend {
  readonly id = 'scripted';
  readonly parallelism = 3;
  readonly requests: GenerateOptions[] = [];
  disposed = false;

  constructor(private readonly steps: Step[]) {}

  async generate(request: GenerateOptions): Promise<GenerateResult> {
    this.requests.push(request);
    const step = this.steps[this.requests.length - 1];
    if (step === undefined) throw new Error(`script has no step ${this.requests.length}`);
    if (step instanceof Error) throw step;
    if (typeof step === 'function') return step(request);
    return step;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

const OK: GenerateResult = { text: 'done', promptTokens: 3, completionTokens: 1 };
const REQUEST: GenerateOptions = { role: 'plan', messages: [{ role: 'user', content: 'hi' }] };

function httpError(status: number, statusText: string, retryAfterMs?: number): ModelCallError {
  return new ModelCallError(`server said ${status}`, {
    status,
    retryable: status === 429 || status >= 500,
    retryAfterMs,
    reason: `HTTP ${status} ${statusText}`,
  });
}

/** Deterministic policy: no real waiting, jitter fixed, clock frozen. */
function policy(overrides: Partial<RetryPolicyOptions> = {}) {
  const sleeps: number[] = [];
  const events: RetryEvent[] = [];
  const options = {
    baseDelayMs: 100,
    maxDelayMs: 10_000,
    random: () => 0.5,
    now: () => 1_000,
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
    onRetry: (event: RetryEvent) => events.push(event),
    ...overrides,
  };
  return { options, sleeps, events };
}

describe('withRetry', () => {
  it('forwards the grammar capability and the request (grammar included) unchanged', async () => {
    const inner = new ScriptedBackend([OK]);
    expect(withRetry(inner, policy().options).supportsGrammar).toBeUndefined();
    const capable = Object.assign(new ScriptedBackend([OK]), { supportsGrammar: true });
    const wrapped = withRetry(capable, policy().options);
    expect(wrapped.supportsGrammar).toBe(true);
    await wrapped.generate({ ...REQUEST, grammar: 'root ::= "x"' });
    expect(capable.requests[0]?.grammar).toBe('root ::= "x"');
  });

  it('succeeds after two retryable failures, with full-jitter delays and one event per failure', async () => {
    const backend = new ScriptedBackend([
      httpError(429, 'Too Many Requests'),
      httpError(503, 'Service Unavailable'),
      OK,
    ]);
    const { options, sleeps, events } = policy();
    const result = await withRetry(backend, options).generate(REQUEST);

    expect(result).toEqual(OK);
    expect(backend.requests).toHaveLength(3);
    // delay = random() * min(maxDelay, base * 2^(attempt-1)) = 0.5 * 100, then 0.5 * 200.
    expect(sleeps).toEqual([50, 100]);
    expect(events).toEqual([
      {
        type: 'retry',
        attempt: 1,
        maxAttempts: 4,
        delayMs: 50,
        reason: 'HTTP 429 Too Many Requests',
        role: 'plan',
        outcome: 'retrying',
        elapsedMs: 0,
      },
      {
        type: 'retry',
        attempt: 2,
        maxAttempts: 4,
        delayMs: 100,
        reason: 'HTTP 503 Service Unavailable',
        role: 'plan',
        outcome: 'retrying',
        elapsedMs: 0,
      },
    ]);
  });

  it('doubles the jitter ceiling per attempt up to maxDelayMs', async () => {
    const failure = httpError(503, 'Service Unavailable');
    const backend = new ScriptedBackend([failure, failure, failure, OK]);
    const { options, sleeps } = policy({ baseDelayMs: 500, maxDelayMs: 1_500, random: () => 1 });
    await withRetry(backend, options).generate(REQUEST);
    expect(sleeps).toEqual([500, 1_000, 1_500]);
  });

  it("honours the server's Retry-After, capped at maxDelayMs, instead of jitter", async () => {
    const backend = new ScriptedBackend([
      httpError(429, 'Too Many Requests', 0),
      httpError(429, 'Too Many Requests', 60_000),
      OK,
    ]);
    const { options, sleeps, events } = policy({ maxDelayMs: 20_000 });
    await withRetry(backend, options).generate(REQUEST);
    expect(sleeps).toEqual([0, 20_000]);
    expect(events.map((e) => e.delayMs)).toEqual([0, 20_000]);
  });

  it('fails at once on a non-retryable error, rethrows it unchanged and reports no retry', async () => {
    const badRequest = httpError(400, 'Bad Request');
    const backend = new ScriptedBackend([badRequest, OK]);
    const { options, sleeps, events } = policy();
    await expect(withRetry(backend, options).generate(REQUEST)).rejects.toBe(badRequest);
    expect(backend.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    // A deterministic error is not a retry.
    expect(events).toEqual([]);
  });

  it('ends a retried call that then fails deterministically with a giving-up event', async () => {
    const backend = new ScriptedBackend([
      httpError(503, 'Service Unavailable'),
      httpError(400, 'Bad Request'),
    ]);
    const { options, events } = policy();
    await expect(withRetry(backend, options).generate(REQUEST)).rejects.toMatchObject({ status: 400 });
    expect(events.map((e) => [e.attempt, e.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'giving-up'],
    ]);
  });

  it('never retries a replay mismatch', async () => {
    const mismatch = new ReplayMismatchError('line 3 was recorded for role "plan"');
    const backend = new ScriptedBackend([mismatch, OK]);
    const { options } = policy();
    await expect(withRetry(backend, options).generate(REQUEST)).rejects.toBe(mismatch);
    expect(backend.requests).toHaveLength(1);
  });

  it('gives up after maxAttempts with MODEL_UNAVAILABLE carrying the last error', async () => {
    const last = httpError(503, 'Service Unavailable');
    const backend = new ScriptedBackend([
      httpError(502, 'Bad Gateway'),
      httpError(500, 'Internal Server Error'),
      last,
      OK,
    ]);
    const { options, sleeps, events } = policy({ maxAttempts: 3 });
    const error = await withRetry(backend, options)
      .generate(REQUEST)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'MODEL_UNAVAILABLE', cause: last });
    expect((error as Error).message).toContain('failed 3 times');
    expect((error as Error).message).toContain('HTTP 503 Service Unavailable');
    expect(backend.requests).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(events.map((e) => [e.attempt, e.outcome, e.delayMs])).toEqual([
      [1, 'retrying', 50],
      [2, 'retrying', 100],
      [3, 'giving-up', 0],
    ]);
  });

  it('aborts an attempt that exceeds the per-call timeout and retries it', async () => {
    const seenSignals: AbortSignal[] = [];
    const hangs = (request: GenerateOptions): Promise<GenerateResult> =>
      new Promise((_, reject) => {
        const signal = request.signal;
        if (!signal) throw new Error('no signal passed to the backend');
        seenSignals.push(signal);
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    const backend = new ScriptedBackend([hangs, OK]);
    const { options, events } = policy({ timeoutMs: 20 });
    const result = await withRetry(backend, options).generate(REQUEST);

    expect(result).toEqual(OK);
    expect(seenSignals[0]?.aborted).toBe(true);
    expect(seenSignals[0]?.reason).toBeInstanceOf(CallTimeoutError);
    expect(events).toEqual([
      expect.objectContaining({ attempt: 1, reason: 'timeout after 20 ms', outcome: 'retrying' }),
    ]);
  });

  it('times out even a backend that ignores its signal', async () => {
    const ignoresSignal = (): Promise<GenerateResult> => new Promise(() => undefined);
    const backend = new ScriptedBackend([ignoresSignal, ignoresSignal]);
    const { options } = policy({ timeoutMs: 10, maxAttempts: 2 });
    const error = await withRetry(backend, options)
      .generate(REQUEST)
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_UNAVAILABLE' });
    expect((error as Error).message).toContain('timeout after 10 ms');
    expect((error as Error).cause).toBeInstanceOf(CallTimeoutError);
  });

  it('turns an abort during the backoff sleep into CancelledError without another attempt', async () => {
    const controller = new AbortController();
    const backend = new ScriptedBackend([httpError(503, 'Service Unavailable'), OK]);
    const { options, events } = policy({
      sleep: (_ms, signal) =>
        new Promise<void>((_, reject) => {
          signal?.addEventListener('abort', () => reject(new CancelledError()));
          controller.abort();
        }),
    });
    await expect(
      withRetry(backend, options).generate({ ...REQUEST, signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(backend.requests).toHaveLength(1);
    expect(events).toHaveLength(1);
  });

  it('stops even when an injected sleep ignores the abort', async () => {
    const controller = new AbortController();
    const backend = new ScriptedBackend([httpError(503, 'Service Unavailable'), OK]);
    const { options } = policy({
      sleep: async () => {
        controller.abort();
      },
    });
    await expect(
      withRetry(backend, options).generate({ ...REQUEST, signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(backend.requests).toHaveLength(1);
  });

  it('turns a caller abort during a call into CancelledError at once, with no retry event', async () => {
    const controller = new AbortController();
    const abortsMidCall = (request: GenerateOptions): Promise<GenerateResult> =>
      new Promise((_, reject) => {
        request.signal?.addEventListener('abort', () => reject(httpError(503, 'Service Unavailable')));
        controller.abort();
      });
    const backend = new ScriptedBackend([abortsMidCall, OK]);
    const { options, events } = policy();
    await expect(
      withRetry(backend, options).generate({ ...REQUEST, signal: controller.signal }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(backend.requests).toHaveLength(1);
    expect(events).toEqual([]);
  });

  it('leaves no listener on the caller signal after its calls, whatever their outcome', async () => {
    const controller = new AbortController();
    const backend = new ScriptedBackend([httpError(503, 'Service Unavailable'), OK, OK]);
    const { options } = policy();
    const retried = withRetry(backend, options);
    await retried.generate({ ...REQUEST, signal: controller.signal });
    await retried.generate({ ...REQUEST, signal: controller.signal });
    expect(backend.requests).toHaveLength(3);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // Each attempt had a signal of its own.
    expect(new Set(backend.requests.map((request) => request.signal)).size).toBe(3);
  });

  it('rejects an already-aborted call without calling the backend', async () => {
    const backend = new ScriptedBackend([OK]);
    const { options } = policy();
    await expect(
      withRetry(backend, options).generate({ ...REQUEST, signal: AbortSignal.abort() }),
    ).rejects.toBeInstanceOf(CancelledError);
    expect(backend.requests).toHaveLength(0);
  });

  it('retries network errors and names their code', async () => {
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    });
    const backend = new ScriptedBackend([reset, OK]);
    const { options, events } = policy();
    await withRetry(backend, options).generate({ messages: REQUEST.messages });
    expect(events).toEqual([
      expect.objectContaining({ reason: 'ECONNRESET', role: 'generate', outcome: 'retrying' }),
    ]);
  });

  it('keeps the inner backend identity and disposes it', async () => {
    const backend = new ScriptedBackend([]);
    const wrapped = withRetry(backend, policy().options);
    expect(wrapped.id).toBe('scripted');
    expect(wrapped.parallelism).toBe(3);
    await wrapped.dispose();
    expect(backend.disposed).toBe(true);
  });
});

describe('isRetryable', () => {
  it.each([
    [{ status: 408 }, true],
    [{ status: 409 }, true],
    [{ status: 425 }, true],
    [{ status: 429 }, true],
    [{ status: 500 }, true],
    [{ status: 503 }, true],
    [{ status: 400 }, false],
    [{ status: 401 }, false],
    [{ status: 404 }, false],
    [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), true],
    [Object.assign(new Error('x'), { code: 'ETIMEDOUT' }), true],
    [new TypeError('fetch failed'), true],
    [new Error('something else'), false],
    [Object.assign(new Error('forced'), { retryable: true }), true],
    [Object.assign(new Error('forced'), { retryable: false, status: 503 }), false],
    [new CancelledError(), false],
    ['a string', false],
  ])('%o → %s', (error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });

  it('describes failures briefly', () => {
    expect(describeFailure(new CallTimeoutError(120_000))).toBe('timeout after 120000 ms');
    expect(describeFailure({ status: 502 })).toBe('HTTP 502');
    expect(describeFailure(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }))).toBe(
      'ECONNREFUSED',
    );
  });
});
