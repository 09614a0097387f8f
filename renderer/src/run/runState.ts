/**
 * The run view's state, built from the stream of trace events of one run. `reduceRun` is a pure
 * reducer over TraceEvent deltas: the live stream (onDidRecordTraceStep) and a saved run's events
 * (getRun) go through the same function, so a run looks the same live and from History.
 *
 * Events carry `seq` (0, 1, 2, … per run). Duplicates are dropped; an event that arrives ahead of a
 * gap waits in `pending` until the gap fills (a run opened from History while it is still running
 * gets live events before the saved ones), so the order events are applied in is always seq order.
 *
 * Pure: no DOM, no React, no bridge — only the contract's types.
 */
import type { ErrorPayload, EventPayload } from '../../../preload/contract.ts';

export type TraceEvent = EventPayload<'onDidRecordTraceStep'>;
export type TraceEventType = TraceEvent['type'];
/** One event type with its envelope, e.g. TraceEventOf<'binding'>. */
export type TraceEventOf<T extends TraceEventType> = Extract<TraceEvent, { type: T }>;
export type RunMetrics = TraceEventOf<'metrics'>['metrics'];
export type Citation = TraceEventOf<'final-answer'>['citations'][number];
export type RetrievedChunk = NonNullable<TraceEventOf<'tool-result'>['chunks']>[number];
export type SandboxFailureKind = TraceEventOf<'runtime-error'>['kind'];
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'cancelled';

/**
 * Events held back while an earlier seq is missing. Past this many the gap is given up on and the
 * held events are applied in order, so a lost event can never freeze a run view. Default 2000.
 */
export const MAX_PENDING_EVENTS = 2000;

export interface SyntaxErrorInfo {
  message: string;
  line: number | null;
  column: number | null;
}

/** One program the run produced: written by the model (plan / repair), given by the user, or the built-in fallback. */
export interface ProgramAttempt {
  attempt: number;
  purpose: TraceEventOf<'program-generated'>['purpose'];
  code: string;
  at: number;
  /** Set when this attempt did not parse (it was never executed). */
  syntaxError: SyntaxErrorInfo | null;
}

export interface ToolResult {
  durationMs: number;
  summary: string;
  /** Served from an earlier execution of the run (its call had identical inputs), not run again. */
  cached: boolean;
  chunks: RetrievedChunk[] | null;
  answer: string | null;
  error: string | null;
}

export interface ToolCallEntry {
  execution: number;
  callIndex: number;
  /** Any host tool a strategy offers (retrieve, answer, search, …). */
  tool: string;
  args: unknown[];
  line: number | null;
  at: number;
  /** null while the call is in flight. */
  result: ToolResult | null;
}

export interface BindingEntry {
  name: string;
  preview: string;
  line: number;
  seq: number;
}

export interface LogEntry {
  level: 'log' | 'warn' | 'error';
  message: string;
  seq: number;
}

export interface RuntimeErrorInfo {
  kind: SandboxFailureKind;
  errorName: string | null;
  message: string;
  line: number | null;
}

export interface ExecutionEntry {
  execution: number;
  /** The program attempt this execution ran (the latest one that parsed when it started). */
  programAttempt: number | null;
  /** Retrieve calls whose k was raised for this execution. */
  boosted: { callIndex: number; k: number }[];
  at: number;
  toolCalls: ToolCallEntry[];
  bindings: BindingEntry[];
  logs: LogEntry[];
  runtimeError: RuntimeErrorInfo | null;
}

/** A strategy's own step (a `step` event): what the generic step list shows. */
export interface StrategyStep {
  seq: number;
  at: number;
  kind: string;
  title: string;
  detail: string | null;
  /** The step's structured content; null when it has none. */
  data: Record<string, unknown> | null;
}

/** One adaptive-retrieval boost: which tool call was re-run at which k, and why. */
export type BoostEntry = Omit<TraceEventOf<'retrieval-boosted'>, 'runId' | 'type'>;

/** Events shown in the run's step timeline (tool calls and bindings have their own views). */
export type TimelineEvent = Exclude<
  TraceEvent,
  { type: 'tool-call' } | { type: 'tool-result' } | { type: 'binding' } | { type: 'metrics' }
>;

export interface RunState {
  runId: string;
  question: string | null;
  corpus: string | null;
  strategy: string | null;
  model: string | null;
  /** The run whose program this run's was edited from (an edited program re-run). */
  parentRunId: string | null;
  status: RunStatus;
  error: ErrorPayload | null;
  /** `at` of the first and of the run-finished event (ms since epoch). */
  startedAt: number | null;
  finishedAt: number | null;
  /** `at` of the latest applied event. */
  lastEventAt: number | null;
  /** The seq the reducer expects next. */
  nextSeq: number;
  /** Events that arrived ahead of a gap, sorted by seq. */
  pending: TraceEvent[];
  decomposition: { subQuestions: string[]; attempts: number; fallback: boolean } | null;
  programs: ProgramAttempt[];
  executions: ExecutionEntry[];
  /** Retrieval boosts, in order (a run may boost several retrieve calls before one re-run). */
  boosts: BoostEntry[];
  /** Steps of strategies that have no events of their own, in order. */
  steps: StrategyStep[];
  llmCalls: TraceEventOf<'llm-call'>[];
  retries: TraceEventOf<'retry'>[];
  timeline: TimelineEvent[];
  warnings: string[];
  answer: { answer: string; reasoning: string | null; citations: Citation[] } | null;
  metrics: RunMetrics | null;
  /** The most recent tool call, for marking the line being executed. */
  lastToolCall: { execution: number; callIndex: number; line: number | null } | null;
}

/** The state of a run before any of its events has been applied. */
export function createRunState(runId: string): RunState {
  return {
    runId,
    question: null,
    corpus: null,
    strategy: null,
    model: null,
    parentRunId: null,
    status: 'running',
    error: null,
    startedAt: null,
    finishedAt: null,
    lastEventAt: null,
    nextSeq: 0,
    pending: [],
    decomposition: null,
    programs: [],
    executions: [],
    boosts: [],
    steps: [],
    llmCalls: [],
    retries: [],
    timeline: [],
    warnings: [],
    answer: null,
    metrics: null,
    lastToolCall: null,
  };
}

/**
 * Applies one trace event to a run's state and returns the new state (the old one is not changed).
 * `state` undefined starts a new run from the event's runId. Events of another run are ignored,
 * duplicates (seq already applied) are dropped, and events ahead of a gap are held in `pending`
 * until it fills (at most MAX_PENDING_EVENTS, then they are applied anyway).
 */
export function reduceRun(state: RunState | undefined, event: TraceEvent): RunState {
  const current = state ?? createRunState(event.runId);
  if (event.runId !== current.runId || event.seq < current.nextSeq) return current;
  if (event.seq > current.nextSeq) {
    if (current.pending.some((held) => held.seq === event.seq)) return current;
    const pending = [...current.pending, event].sort((a, b) => a.seq - b.seq);
    if (pending.length <= MAX_PENDING_EVENTS) return { ...current, pending };
    // Give up on the gap: apply what we hold, in order.
    let next: RunState = { ...current, pending: [] };
    for (const held of pending) next = { ...applyEvent(next, held), nextSeq: held.seq + 1 };
    return next;
  }
  let next = { ...applyEvent(current, event), nextSeq: event.seq + 1 };
  while (next.pending.length > 0) {
    const [head, ...rest] = next.pending;
    if (!head) break;
    if (head.seq < next.nextSeq) {
      next = { ...next, pending: rest };
      continue;
    }
    if (head.seq > next.nextSeq) break;
    next = { ...applyEvent({ ...next, pending: rest }, head), nextSeq: head.seq + 1 };
  }
  return next;
}

/** Folds a list of events (e.g. a saved run's) into a state with reduceRun. */
export function reduceRunEvents(
  state: RunState | undefined,
  events: readonly TraceEvent[],
): RunState | undefined {
  let next = state;
  for (const event of events) next = reduceRun(next, event);
  return next;
}

function applyEvent(state: RunState, event: TraceEvent): RunState {
  const s: RunState = {
    ...state,
    lastEventAt: event.at,
    startedAt: state.startedAt ?? event.at,
  };
  switch (event.type) {
    case 'run-started':
      return {
        ...s,
        question: event.question,
        corpus: event.corpus,
        strategy: event.strategy,
        model: event.model,
        parentRunId: event.parentRunId ?? null,
        startedAt: event.at,
        timeline: [...s.timeline, event],
      };
    case 'decomposition':
      return {
        ...s,
        decomposition: {
          subQuestions: event.subQuestions,
          attempts: event.attempts,
          fallback: event.fallback,
        },
        timeline: [...s.timeline, event],
      };
    case 'llm-call':
      return { ...s, llmCalls: [...s.llmCalls, event], timeline: [...s.timeline, event] };
    case 'retry':
      return { ...s, retries: [...s.retries, event], timeline: [...s.timeline, event] };
    case 'program-generated':
      return {
        ...s,
        programs: [
          ...s.programs,
          {
            attempt: event.attempt,
            purpose: event.purpose,
            code: event.code,
            at: event.at,
            syntaxError: null,
          },
        ],
        timeline: [...s.timeline, event],
      };
    case 'syntax-error': {
      const info: SyntaxErrorInfo = { message: event.message, line: event.line, column: event.column };
      return {
        ...s,
        programs: s.programs.map((p) => (p.attempt === event.attempt ? { ...p, syntaxError: info } : p)),
        timeline: [...s.timeline, event],
      };
    }
    case 'execution-started': {
      const parsed = s.programs.filter((p) => p.syntaxError === null);
      const program = parsed.at(-1) ?? s.programs.at(-1);
      const entry: ExecutionEntry = {
        ...emptyExecution(event.execution, event.at),
        programAttempt: program?.attempt ?? null,
        boosted: event.boosted,
      };
      const exists = s.executions.some((e) => e.execution === event.execution);
      return {
        ...s,
        executions: exists
          ? s.executions.map((e) =>
              e.execution === event.execution
                ? { ...e, programAttempt: entry.programAttempt, boosted: entry.boosted, at: entry.at }
                : e,
            )
          : [...s.executions, entry],
        timeline: [...s.timeline, event],
      };
    }
    case 'tool-call': {
      const call: ToolCallEntry = {
        execution: event.execution,
        callIndex: event.callIndex,
        tool: event.tool,
        args: event.args,
        line: event.line,
        at: event.at,
        result: null,
      };
      return {
        ...updateExecution(s, event.execution, event.at, (e) => ({
          ...e,
          toolCalls: [...e.toolCalls, call],
        })),
        lastToolCall: { execution: event.execution, callIndex: event.callIndex, line: event.line },
      };
    }
    case 'tool-result': {
      const result: ToolResult = {
        durationMs: event.durationMs,
        summary: event.summary,
        cached: event.cached === true,
        chunks: event.chunks ?? null,
        answer: event.answer ?? null,
        error: event.error ?? null,
      };
      return updateExecution(s, event.execution, event.at, (e) => {
        const known = e.toolCalls.some((c) => c.callIndex === event.callIndex);
        const toolCalls = known
          ? e.toolCalls.map((c) => (c.callIndex === event.callIndex ? { ...c, result } : c))
          : [
              ...e.toolCalls,
              {
                execution: event.execution,
                callIndex: event.callIndex,
                tool: event.tool,
                args: [],
                line: null,
                at: event.at,
                result,
              },
            ];
        return { ...e, toolCalls };
      });
    }
    case 'binding': {
      const binding: BindingEntry = {
        name: event.name,
        preview: event.preview,
        line: event.line,
        seq: event.seq,
      };
      return updateExecution(s, event.execution, event.at, (e) => ({
        ...e,
        bindings: [...e.bindings, binding],
      }));
    }
    case 'log': {
      const log: LogEntry = { level: event.level, message: event.message, seq: event.seq };
      return {
        ...updateExecution(s, event.execution, event.at, (e) => ({ ...e, logs: [...e.logs, log] })),
        timeline: [...s.timeline, event],
      };
    }
    case 'runtime-error': {
      const info: RuntimeErrorInfo = {
        kind: event.kind,
        errorName: event.errorName,
        message: event.message,
        line: event.line,
      };
      return {
        ...updateExecution(s, event.execution, event.at, (e) => ({ ...e, runtimeError: info })),
        timeline: [...s.timeline, event],
      };
    }
    case 'repair-requested':
      return { ...s, timeline: [...s.timeline, event] };
    case 'retrieval-boosted': {
      const { runId: _runId, type: _type, ...boost } = event;
      return { ...s, boosts: [...s.boosts, boost], timeline: [...s.timeline, event] };
    }
    case 'step': {
      const step: StrategyStep = {
        seq: event.seq,
        at: event.at,
        kind: event.kind,
        title: event.title,
        detail: event.detail,
        data: event.data ?? null,
      };
      return { ...s, steps: [...s.steps, step], timeline: [...s.timeline, event] };
    }
    case 'warning':
      return { ...s, warnings: [...s.warnings, event.message], timeline: [...s.timeline, event] };
    case 'final-answer':
      return {
        ...s,
        answer: { answer: event.answer, reasoning: event.reasoning, citations: event.citations },
        timeline: [...s.timeline, event],
      };
    case 'metrics':
      return { ...s, metrics: event.metrics };
    case 'run-finished':
      return {
        ...s,
        status: event.status,
        error: event.error,
        finishedAt: event.at,
        timeline: [...s.timeline, event],
      };
  }
}

function emptyExecution(execution: number, at: number): ExecutionEntry {
  return {
    execution,
    programAttempt: null,
    boosted: [],
    at,
    toolCalls: [],
    bindings: [],
    logs: [],
    runtimeError: null,
  };
}

/** Updates one execution, creating it if its execution-started was never seen. */
function updateExecution(
  state: RunState,
  execution: number,
  at: number,
  update: (entry: ExecutionEntry) => ExecutionEntry,
): RunState {
  const index = state.executions.findIndex((e) => e.execution === execution);
  if (index === -1) {
    const executions = [...state.executions, update(emptyExecution(execution, at))].sort(
      (a, b) => a.execution - b.execution,
    );
    return { ...state, executions };
  }
  return { ...state, executions: state.executions.map((e, i) => (i === index ? update(e) : e)) };
}

// ---------------------------------------------------------------------------------------------
// Derived values (pure selectors)
// ---------------------------------------------------------------------------------------------

/** Counts available while the run is live, before its metrics event arrives. */
export interface LiveCounts {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  retries: number;
  toolCalls: number;
  /** Tool calls served from an earlier execution instead of being run again. */
  cachedToolCalls: number;
  executions: number;
  programAttempts: number;
  repairs: number;
  boosts: number;
}

export function liveCounts(state: RunState): LiveCounts {
  let promptTokens = 0;
  let completionTokens = 0;
  let toolCalls = 0;
  let cachedToolCalls = 0;
  for (const execution of state.executions) {
    toolCalls += execution.toolCalls.length;
    cachedToolCalls += execution.toolCalls.filter((call) => call.result?.cached === true).length;
  }
  for (const call of state.llmCalls) {
    promptTokens += call.promptTokens;
    completionTokens += call.completionTokens;
  }
  return {
    llmCalls: state.llmCalls.length,
    promptTokens,
    completionTokens,
    retries: state.retries.length,
    toolCalls,
    cachedToolCalls,
    executions: state.executions.length,
    programAttempts: state.programs.length,
    repairs: state.timeline.filter((e) => e.type === 'repair-requested').length,
    boosts: state.boosts.length,
  };
}

/** The executions that ran a given program attempt. */
export function executionsOfProgram(state: RunState, attempt: number): ExecutionEntry[] {
  return state.executions.filter((e) => e.programAttempt === attempt);
}

/** The line being executed: the line of the most recent tool call while the run is live and that call is in flight. */
export function executingLine(
  state: RunState,
): { execution: number; line: number; inFlight: boolean } | null {
  const last = state.lastToolCall;
  if (!last || last.line === null) return null;
  const execution = state.executions.find((e) => e.execution === last.execution);
  const call = execution?.toolCalls.find((c) => c.callIndex === last.callIndex);
  return {
    execution: last.execution,
    line: last.line,
    inFlight: state.status === 'running' && call !== undefined && call.result === null,
  };
}

/** Every passage retrieved anywhere in the run, by chunk id (for citations and passage lookups). */
export function retrievedChunks(state: RunState): Map<number, RetrievedChunk> {
  const chunks = new Map<number, RetrievedChunk>();
  for (const execution of state.executions) {
    for (const call of execution.toolCalls) {
      for (const chunk of call.result?.chunks ?? []) if (!chunks.has(chunk.id)) chunks.set(chunk.id, chunk);
    }
  }
  return chunks;
}

/** One line for the run's live status (read by screen readers through aria-live). */
export function runStatusText(state: RunState): string {
  switch (state.status) {
    case 'succeeded':
      return state.answer ? `Succeeded: ${state.answer.answer}` : 'Succeeded.';
    case 'failed':
      return `Failed: ${state.error?.message ?? 'the run failed.'}`;
    case 'cancelled':
      return 'Cancelled.';
    case 'running':
      break;
  }
  const last = state.timeline.findLast(
    (e) => e.type !== 'llm-call' && e.type !== 'log' && e.type !== 'warning',
  );
  const call = state.lastToolCall;
  const execution = call ? state.executions.find((e) => e.execution === call.execution) : undefined;
  const inFlight = execution?.toolCalls.find((c) => c.callIndex === call?.callIndex && c.result === null);
  switch (last?.type) {
    case undefined:
      return 'Starting…';
    case 'run-started':
      return 'Running: started; waiting for the first step…';
    case 'step':
      return `Running: ${inlineText(last.title)}…`;
    case 'decomposition':
    case 'syntax-error':
      return `Running: writing the program (attempt ${state.programs.length + 1})…`;
    case 'program-generated':
      return `Running: program attempt ${last.attempt} written; checking it…`;
    case 'repair-requested':
      return `Running: repairing the program (round ${last.round})…`;
    case 'retry':
      return last.outcome === 'retrying'
        ? `Running: ${last.role} call failed (attempt ${last.attempt}/${last.maxAttempts}); retrying…`
        : `Running: ${last.role} call gave up after ${last.attempt} attempts.`;
    case 'execution-started':
    case 'retrieval-boosted':
    case 'runtime-error':
      if (inFlight)
        return `Running: execution ${inFlight.execution}, ${inFlight.tool}() on line ${inFlight.line ?? '?'}…`;
      return last.type === 'retrieval-boosted'
        ? `Running: re-running with boosted retrieval (${state.boosts.length} call${state.boosts.length === 1 ? '' : 's'} boosted)…`
        : 'Running: executing the program…';
    case 'final-answer':
      return 'Running: finishing…';
    default:
      return 'Running…';
  }
}

/** One line of a step title for the status (whitespace collapsed, capped at 120 characters). */
function inlineText(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}
