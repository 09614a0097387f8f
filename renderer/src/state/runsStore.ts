/**
 * Every run the UI has seen, by runId, each built by reduceRun from its trace events. Live events
 * are applied whatever view is showing (a run keeps streaming while the user looks at Library), in
 * small batches so a fast stream costs one render per batch, not one per event.
 */
import type { ReckonBridge } from '../../../preload/contract.ts';
import {
  createRunState,
  reduceRun,
  reduceRunEvents,
  type RunState,
  type TraceEvent,
} from '../run/runState.ts';
import { createStore } from './createStore.ts';
import type { RunSummary, StartRunInput } from './types.ts';

/** How long live trace events are collected before one render applies them. Default 30 ms. */
export const TRACE_BATCH_MS = 30;

export interface RunsState {
  runs: Record<string, RunState>;
  /** Saved-run summaries (from getRun), for runs opened from History. */
  summaries: Record<string, RunSummary>;
  /** The runs made from a saved run (its edited program re-runs), from getRun, oldest first. */
  children: Record<string, string[]>;
}

export type RunsStore = ReturnType<typeof createRunsStore>;

export function createRunsStore(bridge: ReckonBridge, onRunFinished: (runId: string) => void) {
  const store = createStore<RunsState>({ runs: {}, summaries: {}, children: {} });
  let queue: TraceEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;

  function apply(events: readonly TraceEvent[]): void {
    if (events.length === 0) return;
    const finished: string[] = [];
    store.set((s) => {
      const runs = { ...s.runs };
      for (const event of events) {
        const before = runs[event.runId];
        const after = reduceRun(before, event);
        runs[event.runId] = after;
        if (after.status !== 'running' && before?.status === 'running') finished.push(event.runId);
      }
      return { ...s, runs };
    });
    for (const runId of finished) onRunFinished(runId);
  }

  function flush(): void {
    timer = null;
    const events = queue;
    queue = [];
    apply(events);
  }

  function onTraceEvent(event: TraceEvent): void {
    queue.push(event);
    timer ??= setTimeout(flush, TRACE_BATCH_MS);
  }

  /** Shows a run that has just started (its events may already be streaming in). */
  function track(runId: string): string {
    store.set((s) => (s.runs[runId] ? s : { ...s, runs: { ...s.runs, [runId]: createRunState(runId) } }));
    return runId;
  }

  /** Starts a run; its events stream in through onTraceEvent. Throws the bridge's error. */
  async function start(input: StartRunInput): Promise<string> {
    const { runId } = await bridge.invoke('startRun', input);
    return track(runId);
  }

  /**
   * Runs a saved run again with the model outputs it recorded; returns the new run's id, whose
   * events stream in like any run's. Throws the bridge's error.
   */
  async function replay(runId: string): Promise<string> {
    const { runId: newRunId } = await bridge.invoke('replayRun', { runId });
    return track(newRunId);
  }

  /**
   * Runs an edited version of a saved run's program, reusing the results the run recorded for
   * unchanged calls (of `execution`, default its last successful one); returns the new run's id,
   * whose events stream in like any run's. Throws the bridge's error.
   */
  async function rerunProgram(input: {
    fromRunId: string;
    program: string;
    execution?: number;
  }): Promise<string> {
    const { runId: newRunId } = await bridge.invoke('rerunProgram', input);
    store.set((s) => ({
      ...s,
      children: { ...s.children, [input.fromRunId]: [...(s.children[input.fromRunId] ?? []), newRunId] },
    }));
    return track(newRunId);
  }

  /** Loads a saved run and feeds its events through the same reducer as the live stream. */
  async function load(runId: string): Promise<void> {
    const { run, events, childRunIds } = await bridge.invoke('getRun', { runId });
    store.set((s) => {
      const current = reduceRunEvents(s.runs[runId], events);
      return {
        runs: current ? { ...s.runs, [runId]: current } : s.runs,
        summaries: { ...s.summaries, [runId]: run },
        children: { ...s.children, [runId]: childRunIds ?? [] },
      };
    });
  }

  async function cancel(runId: string): Promise<void> {
    await bridge.invoke('cancelRun', { runId });
  }

  return { store, start, replay, rerunProgram, load, cancel, onTraceEvent, flush };
}
