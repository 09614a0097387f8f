import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReckonError } from '../../main/engine/errors.ts';
import type { HeldModelOutput, ModelOutputInput, RunWriter } from '../../main/engine/runs/RunStore.ts';
import type { TraceEvent, TraceEventBody } from '../../preload/TraceEvent.ts';
import { TRACE_STEP_BOUNDARIES, TraceRecorder } from '../../main/engine/runs/TraceRecorder.ts';

/** A clock that advances by `step` ms on every read. */
function steppingClock(start = 1_000, step = 5): () => number {
  let time = start - step;
  return () => (time += step);
}

/** A store that keeps what it is given, and can be told to fail. */
class FakeRunWriter implements RunWriter {
  readonly events: TraceEvent[] = [];
  readonly outputs: { runId: string; record: ModelOutputInput }[] = [];
  failNext: Error | undefined;

  appendEvent(event: TraceEvent): void {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.events.push(event);
  }

  recordModelOutput(runId: string, record: ModelOutputInput): number {
    this.outputs.push({ runId, record });
    return record.callIndex ?? this.outputs.length - 1;
  }
}

const started: TraceEventBody = {
  type: 'run-started',
  question: 'Who wrote it?',
  corpus: 'notes',
  strategy: 'pyrag',
  model: 'replay:a.jsonl',
};
const finished: TraceEventBody = { type: 'run-finished', status: 'succeeded', error: null };
/** An event held until the step ends. */
const toolCall = (callIndex: number): TraceEventBody => ({
  type: 'tool-call',
  execution: 1,
  callIndex,
  tool: 'retrieve',
  args: ['q'],
  line: callIndex + 1,
});
const llmCall: TraceEventBody = {
  type: 'llm-call',
  callIndex: 0,
  role: 'answer',
  promptTokens: 3,
  completionTokens: 2,
  durationMs: 1,
};

/** A store with appendEvents, keeping each batch it was given. */
class FakeBatchWriter extends FakeRunWriter {
  readonly batches: number[][] = [];
  /** The model outputs written with each batch. */
  readonly outputBatches: string[][] = [];

  appendEvents(events: readonly TraceEvent[], outputs: readonly HeldModelOutput[] = []): void {
    if (this.failNext) {
      const error = this.failNext;
      this.failNext = undefined;
      throw error;
    }
    this.batches.push(events.map((event) => event.seq));
    this.outputBatches.push(outputs.map(({ record }) => record.output));
    this.events.push(...events);
    this.outputs.push(...outputs);
  }
}

const output = (text: string): ModelOutputInput => ({
  role: 'answer',
  output: text,
  promptTokens: 3,
  completionTokens: 2,
});

describe('TraceRecorder', () => {
  it('numbers events from 0, stamps them with the injected clock and buffers them', () => {
    const recorder = new TraceRecorder({ runId: 'run-1', now: steppingClock() });
    const first = recorder.emit(started);
    recorder.emit({ type: 'decomposition', subQuestions: ['Who?'], attempts: 1, fallback: false });
    recorder.emit(finished);

    expect(first).toEqual({ runId: 'run-1', seq: 0, at: 1_000, ...started });
    expect(recorder.events().map(({ type, seq, at }) => ({ type, seq, at }))).toMatchInlineSnapshot(`
      [
        {
          "at": 1000,
          "seq": 0,
          "type": "run-started",
        },
        {
          "at": 1005,
          "seq": 1,
          "type": "decomposition",
        },
        {
          "at": 1010,
          "seq": 2,
          "type": "run-finished",
        },
      ]
    `);
    expect(recorder.finished).toBe(true);
  });

  it('returns a copy from events(), so callers cannot rewrite the trace', () => {
    const recorder = new TraceRecorder({ runId: 'run-1', now: () => 1 });
    recorder.emit(started);
    const snapshot = recorder.events();
    snapshot.pop();
    expect(recorder.events()).toHaveLength(1);
  });

  it('persists each event that ends a step to the store before listeners see it', () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-2', store, now: () => 7 });
    const storedWhenNotified: number[] = [];
    recorder.on(() => storedWhenNotified.push(store.events.length));
    recorder.emit({ type: 'decomposition', subQuestions: ['Who?'], attempts: 1, fallback: false });
    recorder.emit(finished);
    expect(store.events).toEqual(recorder.events());
    expect(storedWhenNotified).toEqual([1, 2]);
    expect(recorder.store).toBe(store);
  });

  it('does not record an event (nor use up its seq) when the store refuses it', () => {
    const store = new FakeRunWriter();
    const recorder = new TraceRecorder({ runId: 'run-3', store, now: () => 7 });
    const seen: TraceEvent[] = [];
    recorder.on((event) => seen.push(event));
    store.failNext = new ReckonError('DISK_FULL', 'disk full');
    expect(() => recorder.emit(llmCall)).toThrow('disk full');
    expect(recorder.events()).toEqual([]);
    expect(seen).toEqual([]);
    expect(recorder.emit(llmCall).seq).toBe(0);
  });

  it('rejects an invalid event with INVALID_TRACE_EVENT and keeps the seq free', () => {
    const recorder = new TraceRecorder({ runId: 'run-4', now: () => 1 });
    const bad = {
      type: 'llm-call',
      callIndex: 0,
      role: 'plan',
      promptTokens: 1.5,
      completionTokens: 2,
      durationMs: 3,
    } as TraceEventBody;
    let error: unknown;
    try {
      recorder.emit(bad);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ReckonError);
    expect((error as ReckonError).code).toBe('INVALID_TRACE_EVENT');
    expect((error as ReckonError).message).toMatch(/"llm-call".*promptTokens/);
    expect(() => recorder.emit({ type: 'no-such-event' } as unknown as TraceEventBody)).toThrow(
      /does not match its schema/,
    );
    expect(recorder.emit(started).seq).toBe(0);
  });

  it('skips the schema check when validate is false', () => {
    const recorder = new TraceRecorder({ runId: 'run-5', now: () => 1, validate: false });
    const odd = { type: 'decomposition', subQuestions: 'not an array' } as unknown as TraceEventBody;
    expect(recorder.emit(odd)).toMatchObject({ seq: 0, subQuestions: 'not an array' });
  });

  it('refuses any event after run-finished', () => {
    const recorder = new TraceRecorder({ runId: 'run-6', now: () => 1 });
    recorder.emit(started);
    recorder.emit({ type: 'run-finished', status: 'cancelled', error: null });
    expect(() => recorder.emit(finished)).toThrow(/already reported run-finished \(seq 1\)/);
    try {
      recorder.emit(started);
    } catch (error) {
      expect((error as ReckonError).code).toBe('TRACE_FINISHED');
    }
    expect(recorder.events()).toHaveLength(2);
  });

  it('notifies listeners in order until they unsubscribe, even from inside a notification', () => {
    const recorder = new TraceRecorder({ runId: 'run-7', now: () => 1 });
    const calls: string[] = [];
    const offA = recorder.on((event) => {
      calls.push(`a${event.seq}`);
      offA();
    });
    const offB = recorder.on((event) => calls.push(`b${event.seq}`));
    recorder.emit(started);
    recorder.emit({ type: 'decomposition', subQuestions: [], attempts: 3, fallback: true });
    offB();
    offB();
    recorder.emit(finished);
    expect(calls).toEqual(['a0', 'b0', 'b1']);
  });

  it('calls every listener even when one throws, then rethrows the first error', () => {
    const recorder = new TraceRecorder({ runId: 'run-8', now: () => 1 });
    const seen: number[] = [];
    recorder.on(() => {
      throw new Error('listener one broke');
    });
    recorder.on(() => {
      throw new Error('listener two broke');
    });
    recorder.on((event) => seen.push(event.seq));
    expect(() => recorder.emit(started)).toThrow('listener one broke');
    expect(seen).toEqual([0]);
    expect(recorder.events()).toHaveLength(1);
  });

  it('lets a listener emit a follow-up event; both get consecutive seqs', () => {
    const recorder = new TraceRecorder({ runId: 'run-9', now: () => 1 });
    recorder.on((event) => {
      if (event.type === 'final-answer') recorder.emit(finished);
    });
    recorder.emit({ type: 'final-answer', answer: '42', reasoning: null, citations: [] });
    expect(recorder.events().map((event) => [event.seq, event.type])).toEqual([
      [0, 'final-answer'],
      [1, 'run-finished'],
    ]);
  });

  describe('writes a step at a time', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('holds events until one that ends a step, then writes them in one batch before listeners see it', () => {
      expect(TRACE_STEP_BOUNDARIES.has('llm-call')).toBe(true);
      expect(TRACE_STEP_BOUNDARIES.has('tool-call')).toBe(false);
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-10', store, now: () => 1, minWriteIntervalMs: 0 });
      const storedWhenNotified: number[] = [];
      recorder.on(() => storedWhenNotified.push(store.events.length));
      recorder.emit(started);
      recorder.emit(toolCall(0));
      recorder.emit(toolCall(1));
      expect(store.events).toHaveLength(0);
      recorder.emit(llmCall);
      recorder.emit({ type: 'final-answer', answer: '42', reasoning: null, citations: [] });
      recorder.emit(finished);
      expect(store.batches).toEqual([
        [0, 1, 2, 3],
        [4, 5],
      ]);
      expect(store.events).toEqual(recorder.events());
      expect(storedWhenNotified).toEqual([0, 0, 0, 4, 4, 6]);
    });

    it('writes held events after flushIntervalMs even when no step ends', () => {
      vi.useFakeTimers();
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-11', store, now: () => 1, flushIntervalMs: 50 });
      recorder.emit(toolCall(0));
      recorder.emit(toolCall(1));
      vi.advanceTimersByTime(49);
      expect(store.batches).toEqual([]);
      vi.advanceTimersByTime(1);
      expect(store.batches).toEqual([[0, 1]]);
      recorder.flush();
      expect(store.batches).toHaveLength(1);
    });

    it('writes steps that end within minWriteIntervalMs of the last write together, once it has passed', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-20', store, now: () => 1, minWriteIntervalMs: 50 });
      const notified: number[] = [];
      recorder.on((event) => notified.push(event.seq));
      recorder.emit(started);
      // The first step is written as it ends.
      recorder.emit(llmCall);
      expect(store.batches).toEqual([[0, 1]]);
      vi.advanceTimersByTime(10);
      recorder.emit(toolCall(0));
      recorder.recordModelOutput(output('held'));
      recorder.emit({ ...llmCall, callIndex: 1 });
      recorder.emit({ ...llmCall, callIndex: 2 });
      // Held, but recorded and seen by listeners in order.
      expect(store.batches).toHaveLength(1);
      expect(notified).toEqual([0, 1, 2, 3, 4]);
      vi.advanceTimersByTime(39);
      expect(store.batches).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(store.batches).toEqual([
        [0, 1],
        [2, 3, 4],
      ]);
      expect(store.outputBatches).toEqual([[], ['held']]);
      // A step that ends after the interval is written at once again.
      vi.advanceTimersByTime(50);
      recorder.emit({ ...llmCall, callIndex: 3 });
      expect(store.batches).toEqual([[0, 1], [2, 3, 4], [5]]);
      expect(store.events).toEqual(recorder.events());
    });

    it('writes everything held at run-finished, inside the interval too, and arms no timer after', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-21', store, now: () => 1, minWriteIntervalMs: 50 });
      recorder.emit(llmCall);
      recorder.emit({ ...llmCall, callIndex: 1 });
      recorder.emit({ type: 'final-answer', answer: '42', reasoning: null, citations: [] });
      recorder.emit(finished);
      expect(store.batches).toEqual([[0], [1, 2, 3]]);
      expect(vi.getTimerCount()).toBe(0);
    });

    it('shortens the timer of held events to the interval when a step ends, never lengthens it', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({
        runId: 'run-22',
        store,
        now: () => 1,
        minWriteIntervalMs: 30,
        flushIntervalMs: 200,
      });
      recorder.emit(llmCall);
      recorder.emit(toolCall(0)); // held for up to 200 ms
      vi.advanceTimersByTime(5);
      recorder.emit({ ...llmCall, callIndex: 1 }); // the write is now due 30 ms after the first
      vi.advanceTimersByTime(24);
      expect(store.batches).toEqual([[0]]);
      vi.advanceTimersByTime(1);
      expect(store.batches).toEqual([[0], [1, 2]]);
      // With a step held first, a later plain event does not push its write back.
      vi.advanceTimersByTime(10);
      recorder.emit({ ...llmCall, callIndex: 2 });
      recorder.emit(toolCall(1));
      vi.advanceTimersByTime(20);
      expect(store.batches).toEqual([[0], [1, 2], [3, 4]]);
    });

    it('rethrows a held step that the store refused from the next emit, and writes it with the next write', () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-23', store, now: () => 1, minWriteIntervalMs: 50 });
      recorder.emit(llmCall);
      recorder.emit({ ...llmCall, callIndex: 1 });
      store.failNext = new ReckonError('DISK_FULL', 'disk full');
      vi.advanceTimersByTime(50);
      expect(store.batches).toEqual([[0]]);
      expect(() => recorder.emit(toolCall(0))).toThrow('disk full');
      expect(recorder.events().map((event) => event.seq)).toEqual([0, 1]);
      recorder.emit(finished);
      expect(store.batches).toEqual([[0], [1, 2]]);
    });

    it('rethrows a failed timed write from the next emit and writes the held events later', () => {
      vi.useFakeTimers();
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-12', store, now: () => 1, flushIntervalMs: 10 });
      recorder.emit(toolCall(0));
      store.failNext = new ReckonError('DISK_FULL', 'disk full');
      vi.advanceTimersByTime(10);
      expect(() => recorder.emit(llmCall)).toThrow('disk full');
      expect(recorder.events().map((event) => event.seq)).toEqual([0]);
      recorder.emit(llmCall);
      expect(store.batches).toEqual([[0, 1]]);
    });

    it('writes a model output with the step its llm-call event ends, in the same batch', () => {
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-14', store, now: () => 1, minWriteIntervalMs: 0 });
      recorder.emit(toolCall(0));
      recorder.recordModelOutput(output('first'));
      expect(store.outputs).toEqual([]);
      recorder.emit(llmCall);
      recorder.recordModelOutput(output('second'));
      recorder.emit({ ...llmCall, callIndex: 1 });
      expect(store.batches).toEqual([[0, 1], [2]]);
      expect(store.outputBatches).toEqual([['first'], ['second']]);
      expect(store.outputs.map(({ runId }) => runId)).toEqual(['run-14', 'run-14']);
    });

    it('refuses an invalid model output at once, holding nothing', () => {
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-15', store, now: () => 1 });
      expect(() => recorder.recordModelOutput({ ...output('x'), role: '' })).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
      recorder.emit(llmCall);
      expect(store.outputBatches).toEqual([[]]);
    });

    it('writes a model output at once to a store without batches, and nowhere without a store', () => {
      const store = new FakeRunWriter();
      new TraceRecorder({ runId: 'run-16', store, now: () => 1 }).recordModelOutput(output('now'));
      expect(store.outputs).toEqual([{ runId: 'run-16', record: output('now') }]);
      expect(() => new TraceRecorder({ runId: 'run-17' }).recordModelOutput(output('x'))).not.toThrow();
    });

    it('keeps a held model output with the held events when the store refuses the step', () => {
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-18', store, now: () => 1 });
      recorder.recordModelOutput(output('kept'));
      store.failNext = new ReckonError('DISK_FULL', 'disk full');
      expect(() => recorder.emit(llmCall)).toThrow('disk full');
      recorder.emit(llmCall);
      expect(store.outputBatches).toEqual([['kept']]);
    });

    it('keeps the held events when the store refuses a step, and drops only the event that ended it', () => {
      const store = new FakeBatchWriter();
      const recorder = new TraceRecorder({ runId: 'run-13', store, now: () => 1 });
      recorder.emit(toolCall(0));
      store.failNext = new ReckonError('DISK_FULL', 'disk full');
      expect(() => recorder.emit(llmCall)).toThrow('disk full');
      expect(recorder.events().map((event) => event.type)).toEqual(['tool-call']);
      expect(recorder.emit(llmCall).seq).toBe(1);
      expect(store.batches).toEqual([[0, 1]]);
    });
  });
});
