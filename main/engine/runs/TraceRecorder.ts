/**
 * The one writer of a run's trace. Everything a run does is reported through emit(); the recorder
 * numbers the events, stamps them with its clock, checks them against the schema, persists them
 * and fans them out to listeners (the IPC bridge, the CLI's progress output), so every consumer sees
 * the same events in the same order.
 */
import { ReckonError } from '../errors.ts';
import { parseTraceEvent } from './parseTraceEvent.ts';
import type { RunWriter } from './RunStore.ts';
import type { TraceEvent, TraceEventBody } from '../../../preload/TraceEvent.ts';

/**
 * Whether emit() parses each event with the zod schema by default. On, because a malformed event
 * should fail where it is built, not later in a listener; the run store validates what it writes
 * regardless, so production wiring with a store may turn this off to parse once.
 */
export const DEFAULT_VALIDATE_TRACE_EVENTS = true;

/** Receives each event once, in seq order, right after it was recorded. */
export type TraceListener = (event: TraceEvent) => void;

export interface TraceRecorderOptions {
  /** The run the events belong to; written into each event. */
  runId: string;
  /** Persists every event (RunStore.appendEvent) before listeners see it. Default: none (memory only). */
  store?: RunWriter;
  /** Clock for each event's `at`, epoch ms. Default: Date.now. */
  now?: () => number;
  /** Parse each event with traceEventSchema in emit(). Default: DEFAULT_VALIDATE_TRACE_EVENTS (true). */
  validate?: boolean;
}

/**
 * Records the trace of one run (create one per run). emit() assigns `seq` (0, 1, 2, …) and `at`
 * (from `now`, default Date.now), validates the event (default on), appends it to the store when
 * there is one, buffers it, and then calls every listener. With an injected clock the trace is
 * fully deterministic. The 'run-finished' event closes the trace: any later emit() is a bug and
 * throws ReckonError 'TRACE_FINISHED'.
 */
export class TraceRecorder {
  readonly runId: string;
  /** The store events are persisted to, if any; recordingBackend keeps model outputs there too. */
  readonly store: RunWriter | undefined;
  private readonly now: () => number;
  private readonly validate: boolean;
  private readonly buffer: TraceEvent[] = [];
  private readonly listeners = new Set<TraceListener>();
  private finishedBy: TraceEvent | undefined;

  constructor(options: TraceRecorderOptions) {
    this.runId = options.runId;
    this.store = options.store;
    this.now = options.now ?? Date.now;
    this.validate = options.validate ?? DEFAULT_VALIDATE_TRACE_EVENTS;
  }

  /** True once a 'run-finished' event has been emitted. */
  get finished(): boolean {
    return this.finishedBy !== undefined;
  }

  /**
   * Records one event and returns it with its runId, seq and at. Throws before anything is recorded
   * (and without using up a seq) when the trace is finished ('TRACE_FINISHED'), the event is
   * invalid ('INVALID_TRACE_EVENT') or the store fails. A listener that throws does not stop the
   * others; after all were called, the first listener error is rethrown (the event stays recorded).
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
    this.store?.appendEvent(event);
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

  /** A copy of every event recorded so far, in seq order (the CLI's --json output). */
  events(): TraceEvent[] {
    return [...this.buffer];
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
