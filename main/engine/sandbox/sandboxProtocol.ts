/**
 * Messages between SandboxHost (main thread) and sandboxWorker.ts, and the host-call shapes shared
 * with QuickJsExecutor. Everything here is plain, structured-cloneable data.
 *
 *   worker → host  {type: 'ready'}                                   once, after QuickJS loaded
 *   host → worker  {type: 'run', runId, script, limits, tools}          tools: names and parameter names
 *   worker → host  {type: 'host-call', runId, call, events, logBytes} a tool call with its arguments as JSON text, after the events before it
 *   host → worker  {type: 'host-reply', runId, callIndex, reply}     the tool's result as JSON text, or its error
 *   worker → host  {type: 'events', runId, events, logBytes}         batched 'log'/'binding' events
 *   host → worker  {type: 'cancel', runId}                           also flagged in shared memory
 *   worker → host  {type: 'done', runId, outcome}                    exactly once per run; outcome.events first
 */
import type { SandboxEvent, SandboxFailure, SandboxLimits } from './SandboxTypes.ts';

/** What the worker needs to know of a host tool: its global name and its parameter names. */
export interface GuestToolSpec {
  name: string;
  parameters: readonly string[];
}

/**
 * A host call as read in the worker. The arguments are a JSON array text (a trailing undefined
 * dropped, undefined inside the list null), not yet validated: one string crosses between threads
 * faster than the object graph it describes, and is parsed once, on the host.
 */
export interface HostCallRequest {
  callIndex: number;
  line: number | undefined;
  tool: string;
  argsJson: string;
}

/**
 * What the host sends back for one call: the tool's result as JSON text, or why it failed —
 * `invalid` when the tool's `validate` rejected the arguments (the run ends with
 * InvalidHostArgument), else the tool itself failed (HostError).
 */
export type HostCallReply = { ok: true; json: string } | { ok: false; message: string; invalid?: boolean };

/** How one program run ended inside the executor, plus what only the executor can measure. */
export interface ExecutorOutcome {
  result: { ok: true; value: unknown } | { ok: false; error: SandboxFailure };
  /** The run's last `log` and `binding` events, not sent before (deliver them before the result). */
  events: SandboxEvent[];
  /** `__reckonMaxDepth` as the program left it (0 when absent or not a number). */
  maxStackDepth: number;
  /** Console bytes captured (≤ limits.maxLogBytes). */
  logBytes: number;
  /** Time the program ran (wall time less hostWaitMs). */
  guestMs: number;
  /** Time spent only waiting for host calls. */
  hostWaitMs: number;
  /**
   * Set when disposing the QuickJS runtime failed (a leaked handle) or the executor itself failed.
   * The WebAssembly module may be in a bad state afterwards, so the worker is replaced.
   */
  teardownError?: string;
}

/** Index of the Int32 in the shared control buffer that holds the id of the run to cancel. */
export const CONTROL_CANCEL_RUN_ID = 0;
/** Size in Int32 slots of the shared control buffer given to each worker. */
export const CONTROL_SLOTS = 1;

export interface SandboxWorkerData {
  /** Shared Int32 slots (CONTROL_SLOTS) the host writes and the interrupt handler reads. */
  control: SharedArrayBuffer;
}

/** Messages SandboxHost sends to sandboxWorker.ts (see the table above). */
export type HostToWorkerMessage =
  | { type: 'run'; runId: number; script: string; limits: SandboxLimits; tools: GuestToolSpec[] }
  | { type: 'host-reply'; runId: number; callIndex: number; reply: HostCallReply }
  | { type: 'cancel'; runId: number };

/** Messages sandboxWorker.ts sends to SandboxHost; `poisoned` asks the host to replace the worker. */
export type WorkerToHostMessage =
  | { type: 'ready' }
  | { type: 'host-call'; runId: number; call: HostCallRequest; events: SandboxEvent[]; logBytes: number }
  | { type: 'events'; runId: number; events: SandboxEvent[]; logBytes: number }
  | { type: 'done'; runId: number; outcome: ExecutorOutcome; poisoned: boolean };
