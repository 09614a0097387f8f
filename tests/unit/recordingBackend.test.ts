import { describe, expect, it } from 'vitest';
import { ModelError } from '../../main/engine/errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend } from '../../main/engine/models/LlmBackend.ts';
import { ModelCallError, withRetry } from '../../main/engine/models/RetryPolicy.ts';
import {
  failedAttemptRecorder,
  recordingBackend,
  retryEventsTo,
} from '../../main/engine/runs/recordingBackend.ts';
import type { ModelFailureInput, ModelOutputInput, RunWriter } from '../../main/engine/runs/RunStore.ts';
import { promptFingerprint } from '../../main/engine/models/ReplayBackend.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';
import { TraceRecorder } from '../../main/engine/runs/TraceRecorder.ts';

type Step = GenerateResult | Error;

/** A backend that answers each call with the next scripted step. */
class ScriptedBackend implements LlmBackend {
  readonly id = 'scripted:test';
  readonly parallelism = 2;
  readonly requests: GenerateOptions[] = [];
  disposed = false;

  constructor(private readonly steps: Step[]) {}

  async generate(request: GenerateOptions): Promise<GenerateResult> {
    this.requests.push(request);
    const step = this.steps[this.requests.length - 1];
    if (step === undefined) throw new Error(`the script has no step ${this.requests.length}`);
    if (step instanceof Error) throw step;
    return step;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }
}

/** A backend whose calls finish only when the test resolves them, in any order. */
class GatedBackend implements LlmBackend {
  readonly id = 'gated';
  readonly parallelism = 4;
  readonly pending: { request: GenerateOptions; resolve: (result: GenerateResult) => void }[] = [];

  generate(request: GenerateOptions): Promise<GenerateResult> {
    return new Promise((resolve) => this.pending.push({ request, resolve }));
  }

  async dispose(): Promise<void> {}
}

class FakeRunWriter implements RunWriter {
  readonly events: TraceEvent[] = [];
  readonly outputs: { runId: string; record: ModelOutputInput }[] = [];

  appendEvent(event: TraceEvent): void {
    this.events.push(event);
  }

  recordModelOutput(runId: string, record: ModelOutputInput): number {
    this.outputs.push({ runId, record });
    return record.callIndex ?? -1;
  }

  readonly failures: { runId: string; record: ModelFailureInput }[] = [];

  recordModelFailure(runId: string, record: ModelFailureInput): void {
    this.failures.push({ runId, record });
  }
}

function steppingClock(start: number, step: number): () => number {
  let time = start - step;
  return () => (time += step);
}

const ask = (role?: string): GenerateOptions => ({ role, messages: [{ role: 'user', content: 'q' }] });
const result = (text: string, promptTokens = 10, completionTokens = 2): GenerateResult => ({
  text,
  promptTokens,
  completionTokens,
});

describe('recordingBackend', () => {
  it('emits one llm-call per successful call and keeps the output for replay', async () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-a', now: () => 50 });
    const inner = new ScriptedBackend([result('plan code', 30, 12), result('Paris', 8, 1)]);
    const backend = recordingBackend(inner, recorder, { store, now: steppingClock(100, 25) });

    expect(await backend.generate(ask('plan'))).toEqual(result('plan code', 30, 12));
    expect(await backend.generate(ask())).toEqual(result('Paris', 8, 1));

    expect(recorder.events()).toEqual([
      {
        runId: 'run-a',
        seq: 0,
        at: 50,
        type: 'llm-call',
        callIndex: 0,
        role: 'plan',
        promptTokens: 30,
        completionTokens: 12,
        durationMs: 25,
      },
      {
        runId: 'run-a',
        seq: 1,
        at: 50,
        type: 'llm-call',
        callIndex: 1,
        role: 'generate',
        promptTokens: 8,
        completionTokens: 1,
        durationMs: 25,
      },
    ]);
    expect(store.outputs).toEqual([
      {
        runId: 'run-a',
        record: {
          callIndex: 0,
          role: 'plan',
          output: 'plan code',
          promptTokens: 30,
          completionTokens: 12,
          promptSha256: promptFingerprint(ask('plan').messages),
        },
      },
      {
        runId: 'run-a',
        record: {
          callIndex: 1,
          role: 'generate',
          output: 'Paris',
          promptTokens: 8,
          completionTokens: 1,
          promptSha256: promptFingerprint(ask().messages),
        },
      },
    ]);
    expect(backend.stats()).toEqual({ llmCalls: 2, promptTokens: 38, completionTokens: 13 });
    // The request reaches the inner backend as it was given, plus the call's scope under a symbol
    // (for failedAttemptRecorder).
    expect(Object.fromEntries(Object.entries(inner.requests[0]!))).toEqual(ask('plan'));
    expect(Object.getOwnPropertySymbols(inner.requests[0]).map(String)).toEqual([
      'Symbol(reckon.llmCallScope)',
    ]);
  });

  it("records into the recorder's store when no store is given", async () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-b', store, now: () => 1 });
    const backend = recordingBackend(new ScriptedBackend([result('x')]), recorder);
    await backend.generate(ask('answer'));
    expect(store.outputs.map((entry) => entry.record.output)).toEqual(['x']);
    expect(store.events.map((event) => event.type)).toEqual(['llm-call']);
  });

  it('keeps token probabilities for replay, and forwards supportsTokenProbabilities through retry', async () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-t', store, now: () => 1 });
    const tokens = [{ text: 'x', probability: 0.25 }];
    const inner = Object.assign(new ScriptedBackend([{ ...result('x'), tokens }, result('y')]), {
      supportsTokenProbabilities: true,
    });
    const backend = recordingBackend(withRetry(inner), recorder);
    expect(backend.supportsTokenProbabilities).toBe(true);
    expect(recordingBackend(new ScriptedBackend([]), recorder).supportsTokenProbabilities).toBeUndefined();
    await backend.generate({ ...ask('lookahead'), tokenProbabilities: true });
    await backend.generate(ask('answer'));
    expect(store.outputs.map((entry) => entry.record.tokens)).toEqual([tokens, undefined]);
    expect(inner.requests[0]!.tokenProbabilities).toBe(true);
  });

  it('indexes calls in the order they were made, not the order they finished', async () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-c', now: () => 1 });
    const inner = new GatedBackend();
    const backend = recordingBackend(inner, recorder, { store, now: () => 0 });

    const first = backend.generate(ask('answer'));
    const second = backend.generate(ask('answer'));
    expect(inner.pending).toHaveLength(2);
    inner.pending[1]?.resolve(result('second'));
    await second;
    inner.pending[0]?.resolve(result('first'));
    await first;

    expect(recorder.events().map((event) => (event.type === 'llm-call' ? event.callIndex : -1))).toEqual([
      1, 0,
    ]);
    expect(store.outputs.map(({ record }) => [record.callIndex, record.output])).toEqual([
      [1, 'second'],
      [0, 'first'],
    ]);
  });

  it('lets failures through unchanged, records nothing for them and keeps their index', async () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-d', now: () => 1 });
    const failure = new Error('backend exploded');
    const backend = recordingBackend(new ScriptedBackend([failure, result('ok')]), recorder, { store });

    await expect(backend.generate(ask('plan'))).rejects.toBe(failure);
    await backend.generate(ask('plan'));

    expect(recorder.events()).toEqual([expect.objectContaining({ type: 'llm-call', callIndex: 1 })]);
    expect(store.outputs.map(({ record }) => record.callIndex)).toEqual([1]);
    expect(backend.stats()).toEqual({ llmCalls: 1, promptTokens: 10, completionTokens: 2 });
  });

  it('passes id, parallelism and dispose through, and stats() returns a copy', async () => {
    const inner = new ScriptedBackend([]);
    const backend = recordingBackend(inner, new TraceRecorder({ runId: 'run-e' }));
    expect(backend.id).toBe('scripted:test');
    expect(backend.parallelism).toBe(2);
    backend.stats().llmCalls = 99;
    expect(backend.stats().llmCalls).toBe(0);
    await backend.dispose();
    expect(inner.disposed).toBe(true);
  });
});

describe('retry composition', () => {
  const httpError = (status: number): ModelCallError =>
    new ModelCallError(`server said ${status}`, {
      status,
      retryable: true,
      reason: `HTTP ${status}`,
    });

  function compose(steps: Step[]) {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-r', store, now: steppingClock(0, 1) });
    const sleeps: number[] = [];
    const inner = new ScriptedBackend(steps);
    const backend = recordingBackend(
      withRetry(failedAttemptRecorder(inner), {
        maxAttempts: 3,
        baseDelayMs: 100,
        random: () => 0.5,
        now: () => 0,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        onRetry: retryEventsTo(recorder),
      }),
      recorder,
      { now: () => 0 },
    );
    return { store, recorder, sleeps, inner, backend };
  }

  it('traces each failed attempt as a retry event and the success as one llm-call', async () => {
    const { recorder, store, sleeps, inner, backend } = compose([
      httpError(503),
      httpError(429),
      result('finally'),
    ]);
    expect((await backend.generate(ask('decompose'))).text).toBe('finally');

    expect(inner.requests).toHaveLength(3);
    expect(sleeps).toEqual([50, 100]);
    expect(recorder.events()).toEqual([
      {
        runId: 'run-r',
        seq: 0,
        at: 0,
        type: 'retry',
        role: 'decompose',
        attempt: 1,
        maxAttempts: 3,
        delayMs: 50,
        reason: 'HTTP 503',
        outcome: 'retrying',
      },
      {
        runId: 'run-r',
        seq: 1,
        at: 1,
        type: 'retry',
        role: 'decompose',
        attempt: 2,
        maxAttempts: 3,
        delayMs: 100,
        reason: 'HTTP 429',
        outcome: 'retrying',
      },
      {
        runId: 'run-r',
        seq: 2,
        at: 2,
        type: 'llm-call',
        callIndex: 0,
        role: 'decompose',
        promptTokens: 10,
        completionTokens: 2,
        durationMs: 0,
      },
    ]);
    expect(store.outputs.map(({ record }) => record.output)).toEqual(['finally']);
    expect(backend.stats().llmCalls).toBe(1);
  });

  it('ends with a giving-up retry event and the policy error, without an llm-call', async () => {
    const { recorder, store, backend } = compose([httpError(503), httpError(503), httpError(502)]);
    const error = await backend.generate(ask('plan')).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ModelError);
    expect((error as ModelError).code).toBe('MODEL_UNAVAILABLE');
    expect(
      recorder
        .events()
        .map((event) => (event.type === 'retry' ? [event.attempt, event.outcome] : event.type)),
    ).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'giving-up'],
    ]);
    expect(store.outputs).toEqual([]);
    expect(backend.stats()).toEqual({ llmCalls: 0, promptTokens: 0, completionTokens: 0 });
  });

  it('records each failed attempt with an HTTP status for its own call, so a replay fails the same way', async () => {
    const { store, backend } = compose([httpError(429), result('first'), httpError(503), result('second')]);
    expect((await backend.generate(ask('plan'))).text).toBe('first');
    expect((await backend.generate(ask('answer'))).text).toBe('second');
    expect(
      store.failures.map(({ record }) => [record.callIndex, record.attempt, record.role, record.status]),
    ).toEqual([
      [0, 1, 'plan', 429],
      [1, 1, 'answer', 503],
    ]);
    expect(store.failures[0]?.record.promptSha256).toBe(promptFingerprint(ask('plan').messages));
  });

  it('records nothing for a failure without an HTTP status', async () => {
    const { store, backend } = compose([new Error('socket hang up'), result('x')]);
    await backend.generate(ask('plan')).catch(() => undefined);
    expect(store.failures).toEqual([]);
  });
});
