/**
 * The one writer of a run's trace. Everything a run does is reported through emit(); the recorder
 * numbers the events, stamps them with its clock, checks them against the schema, persists them
 * and fans them out to listeners (the IPC bridge, the CLI's progress output), so every consumer sees
 * the same events in the same order.
 *
 * Persistence is batched by step (issue 12): a transaction per event was most of a question's
 * framework overhead. Events are held in memory until an event that ends a step (a model call, a
 * program, the final answer… see TRACE_STEP_BOUNDARIES) is emitted, and then written with it in
 * one transaction. Steps that end faster than DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS after the last
 * write (instant model calls: a replay, a cache) are written together once that interval has
 * passed, since each transaction costs a fixed few hundred microseconds of file-system calls; a
 * step of a real model, which takes longer than that, is still written as it ends. A timer
 * (DEFAULT_TRACE_FLUSH_INTERVAL_MS) and the process's 'exit' event write whatever is still held, and
 * 'run-finished' writes everything at once. A process killed outright loses at most the events of
 * its current step, or of the last minWriteIntervalMs when steps end faster; what was written is a
 * consistent prefix of the trace, and the run reads back as interrupted.
 */
import { ReckonError } from '../errors.ts';
import { parseTraceEvent } from './parseTraceEvent.ts';
import { checkModelOutput, type HeldModelOutput, type ModelOutputInput, type RunWriter } from './RunStore.ts';
import type { TraceEvent, TraceEventBody } from '../../../preload/TraceEvent.ts';

/**
 * Whether emit() parses each event with the zod schema by default. On, because a malformed event
 * should fail where it is built, not later in a listener or at a later write. The run store does
 * not parse again what the recorder parsed (parseTraceEventOnce), so this is the one schema pass.
 */
export const DEFAULT_VALIDATE_TRACE_EVENTS = true;

/**
 * Event types that end a step: emitting one writes it and every event held before it in one
 * transaction, before listeners see it. The others (tool calls and results, bindings, logs,
 * retries, warnings…) are held until then. run-started, final-answer and metrics are not on the
 * list: the first model call follows the first at once, and run-finished the other two.
 */
export const TRACE_STEP_BOUNDARIES: ReadonlySet<TraceEvent['type']> = new Set<TraceEvent['type']>([
  'decomposition',
  'llm-call',
  'program-generated',
  'syntax-error',
  'runtime-error',
  'repair-requested',
  'retrieval-boosted',
  'step',
  'run-finished',
]);

/** Longest an event is held in memory before it is written even though no step ended, in ms. */
export const DEFAULT_TRACE_FLUSH_INTERVAL_MS = 200;

/**
 * Least time between two writes of one run's trace, in ms: a step that ends sooner after the last
 * write is written with the next ones once this much time has passed (or at 'run-finished'). Short
 * against a model call on a laptop (a real step is written as it ends), long against a replayed or
 * cached one (a question's dozen steps take two or three transactions instead of a dozen).
 */
export const DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS = 50;

/** Recorders holding events not yet written; the process's 'exit' event writes them. */
const holding = new Set<TraceRecorder>();
let exitHookInstalled = false;

function flushOnExit(): void {
  for (const recorder of holding) {
    try {
      recorder.flush();
    } catch {
      // The store is closed or failing: the process is ending, and the run reads back as interrupted.
    }
  }
}

/** Receives each event once, in seq order, right after it was recorded. */
export type TraceListener = (event: TraceEvent) => void;

export interface TraceRecorderOptions {
  /** The run the events belong to; written into each event. */
  runId: string;
  /** Persists the events, a step at a time (RunStore.appendEvents). Default: none (memory only). */
  store?: RunWriter;
  /** Clock for each event's `at`, epoch ms. Default: Date.now. */
  now?: () => number;
  /** Parse each event with traceEventSchema in emit(). Default: DEFAULT_VALIDATE_TRACE_EVENTS (true). */
  validate?: boolean;
  /** Longest an event waits to be written when no step ends, in ms. Default: DEFAULT_TRACE_FLUSH_INTERVAL_MS (200). */
  flushIntervalMs?: number;
  /**
   * Least time between two writes, in ms; 0 writes every step as it ends. Default:
   * DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS (50).
   */
  minWriteIntervalMs?: number;
}

/**
 * Records the trace of one run (create one per run). emit() assigns `seq` (0, 1, 2, …) and `at`
 * (from `now`, default Date.now), validates the event (default on), keeps it, and then calls every
 * listener. With a store, an event that ends a step (TRACE_STEP_BOUNDARIES) is written together
 * with the events held before it, before its listeners are called, unless the last write was less
 * than minWriteIntervalMs (default 50 ms) ago: then the step is written when that interval has
 * passed. Other events are held until a step is written, or until flushIntervalMs (default 200 ms)
 * has passed, or the process exits (see the module comment). 'run-finished' is always written at
 * once, with everything held. With an injected clock the trace is fully deterministic (when it is
 * written is not: that follows performance.now). The 'run-finished' event closes the trace: any
 * later emit() is a bug and throws ReckonError 'TRACE_FINISHED'.
 */
export class TraceRecorder {
  readonly runId: string;
  /** The store events are persisted to, if any; recordingBackend keeps model outputs there too. */
  readonly store: RunWriter | undefined;
  private readonly now: () => number;
  private readonly validate: boolean;
  private readonly flushIntervalMs: number;
  private readonly minWriteIntervalMs: number;
  /** performance.now() of the last write; -Infinity before the first. */
  private lastWriteAt = -Infinity;
  /** When the armed timer fires (performance.now() ms). */
  private flushDueAt = Infinity;
  private readonly buffer: TraceEvent[] = [];
  /** Recorded events not yet written to the store, in seq order. */
  private pending: TraceEvent[] = [];
  /** Model outputs to write with the next step (a store with appendEvents only). */
  private pendingOutputs: HeldModelOutput[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  /** Why a timer's flush failed; the next emit() throws it. */
  private flushFailure: { error: unknown } | undefined;
  private readonly listeners = new Set<TraceListener>();
  private finishedBy: TraceEvent | undefined;

  constructor(options: TraceRecorderOptions) {
    this.runId = options.runId;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.validate = options.validate ?? DEFAULT_VALIDATE_TRACE_EVENTS;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_TRACE_FLUSH_INTERVAL_MS;
    this.minWriteIntervalMs = Math.max(0, options.minWriteIntervalMs ?? DEFAULT_TRACE_MIN_WRITE_INTERVAL_MS);
  }

  /** True once a 'run-finished' event has been emitted. */
  get finished(): boolean {
    return this.finishedBy !== undefined;
  }

  /**
   * Records one event and returns it with its runId, seq and at. Throws before anything is recorded
   * (and without using up a seq) when the trace is finished ('TRACE_FINISHED'), the event is
   * invalid ('INVALID_TRACE_EVENT'), the store refuses the step this event ends, or an earlier
   * timed write failed (that error; the held events are tried again with the next write). A step
   * held for minWriteIntervalMs is refused, if at all, through that last case. A listener that
   * throws does not stop the others; after all were called, the first listener error is rethrown
   * (the event stays recorded).
   */
  emit(body: TraceEventBody): TraceEvent {
    if (this.finishedBy !== undefined) {
      throw new ReckonError(
        'TRACE_FINISHED',
        `Run ${this.runId} already reported run-finished (seq ${this.finishedBy.seq}); a "${body.type}" ` +
          `event cannot follow it. This is a bug: a run's work must stop before it finishes its trace.`,
      );
    }
    const candidate: TraceEvent = { runId: this.runId, seq: this.buffer.length, at: this.now(), ...body };
    const event = this.validate ? parseTraceEvent(candidate) : candidate;
    if (this.flushFailure !== undefined) {
      const { error } = this.flushFailure;
      this.flushFailure = undefined;
      throw error;
    }
    if (this.store !== undefined) {
      this.pending.push(event);
      const endsStep = TRACE_STEP_BOUNDARIES.has(event.type);
      const sinceWrite = performance.now() - this.lastWriteAt;
      if (endsStep && (event.type === 'run-finished' || sinceWrite >= this.minWriteIntervalMs)) {
        try {
          this.flush();
        } catch (error) {
          // Not written, so not recorded: the held events before it stay held.
          if (this.pending[this.pending.length - 1] === event) this.pending.pop();
          throw error;
        }
      } else if (endsStep) {
        this.holdPending(this.minWriteIntervalMs - sinceWrite);
      } else {
        this.holdPending(this.flushIntervalMs);
      }
    }
    this.buffer.push(event);
    if (event.type === 'run-finished') this.finishedBy = event;
    this.notify(event);
    return event;
  }

  /**
   * Calls `listener` for every event emitted from now on (not for earlier ones: read events() for
   * those). Returns the function that removes it. Adding the same function twice has no effect.
   */
  on(listener: TraceListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Writes the events held so far to the store, in one transaction when the store has
   * appendEvents (else one appendEvent each). Throws what the store throws; what was not written
   * stays held. Nothing to do without a store or held events.
   */
  flush(): void {
    if (this.flushTimer !== undefined) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
      this.flushDueAt = Infinity;
    }
    const store = this.store;
    if (store === undefined || (this.pending.length === 0 && this.pendingOutputs.length === 0)) {
      holding.delete(this);
      return;
    }
    if (store.appendEvents !== undefined) {
      store.appendEvents(this.pending, this.pendingOutputs);
      this.pending = [];
      this.pendingOutputs = [];
    } else {
      while (this.pending.length > 0) {
        store.appendEvent(this.pending[0]!);
        this.pending.shift();
      }
    }
    this.lastWriteAt = performance.now();
    holding.delete(this);
  }

  /**
   * Keeps a model output of this run for replay (RunStore.recordModelOutput). With a store that
   * has appendEvents, it is checked now (ReckonError 'INVALID_ARGUMENT') and written in the
   * transaction of the next step, which the call's llm-call event ends at once (issue 12: a
   * transaction of its own per model call was a large part of persisting a run); else it is written
   * now. Nothing without a store.
   */
  recordModelOutput(record: ModelOutputInput): void {
    const store = this.store;
    if (store === undefined) return;
    if (store.appendEvents === undefined) {
      store.recordModelOutput(this.runId, record);
      return;
    }
    this.pendingOutputs.push({ runId: this.runId, record: checkModelOutput(record) });
    this.holdPending(this.flushIntervalMs);
  }

  /** A copy of every event recorded so far, in seq order (the CLI's --json output). */
  events(): TraceEvent[] {
    return [...this.buffer];
  }

  /** Arms the timer that writes held events within `delayMs` (unless it fires sooner), and the process-exit hook. */
  private holdPending(delayMs: number): void {
    holding.add(this);
    if (!exitHookInstalled) {
      process.on('exit', flushOnExit);
      exitHookInstalled = true;
    }
    const dueAt = performance.now() + Math.max(0, delayMs);
    if (this.flushTimer !== undefined) {
      if (this.flushDueAt <= dueAt) return;
      clearTimeout(this.flushTimer);
    }
    this.flushDueAt = dueAt;
    this.flushTimer = setTimeout(
      () => {
        this.flushTimer = undefined;
        this.flushDueAt = Infinity;
        try {
          this.flush();
        } catch (error) {
          this.flushFailure ??= { error };
        }
      },
      Math.max(0, delayMs),
    );
    // A held write never keeps the process alive: the 'exit' hook writes it.
    this.flushTimer.unref();
  }

  private notify(event: TraceEvent): void {
    let failure: { error: unknown } | undefined;
    // A snapshot, so listeners may unsubscribe (or subscribe others) while being called.
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure !== undefined) throw failure.error;
  }
}
