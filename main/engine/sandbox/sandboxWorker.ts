/**
 * Worker-thread entry of SandboxHost: runs one program at a time with QuickJsExecutor, in a QuickJS
 * WebAssembly module whose memory is fixed for the run's memoryBytes (newSandboxQuickJsModule; the
 * module is kept while runs ask for the same size and replaced, its memory released, when not).
 * Host calls go to the main thread as messages (models and search never run here); see
 * sandboxProtocol.ts for the protocol. Started through createWorker; never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newSandboxQuickJsModule, sandboxWasmMemoryBytes } from './newSandboxQuickJsModule.ts';
import { QuickJsExecutor } from './QuickJsExecutor.ts';
import { DEFAULT_SANDBOX_LIMITS } from './SandboxTypes.ts';
import {
  CONTROL_CANCEL_RUN_ID,
  type ExecutorOutcome,
  type HostCallReply,
  type HostToWorkerMessage,
  type SandboxWorkerData,
  type WorkerToHostMessage,
} from './sandboxProtocol.ts';

const port = parentPort;
if (port === null) throw new Error('sandboxWorker.ts must run in a worker thread (use SandboxHost).');
const control = new Int32Array((workerData as SandboxWorkerData).control);

/** The executor over the current module, and that module's memory size. */
let current: { wasmBytes: number; executor: QuickJsExecutor } | undefined;

async function executorFor(memoryBytes: number): Promise<QuickJsExecutor> {
  const wasmBytes = sandboxWasmMemoryBytes(memoryBytes);
  if (current?.wasmBytes !== wasmBytes) {
    current = undefined; // the old module and its whole memory become garbage
    const { module, memoryFullCount } = await newSandboxQuickJsModule(memoryBytes);
    current = { wasmBytes, executor: new QuickJsExecutor(module, { memoryFullCount }) };
  }
  return current.executor;
}

/**
 * Makes the next run's runtime and context while nothing else is to be done (see
 * QuickJsExecutor.prepareNext); a module that could not free them is dropped, so the next run loads
 * a new one.
 */
function prepareNext(): void {
  if (active !== undefined || current === undefined) return;
  if (!current.executor.prepareNext()) {
    current = undefined;
    return;
  }
  // One at a time, so that a run asked for meanwhile does not wait for all of them.
  if (current.executor.wantsPreparation) setImmediate(prepareNext);
}

// Load the module for the default limits now, so that the first run does not wait for it.
await executorFor(DEFAULT_SANDBOX_LIMITS.memoryBytes);

interface ActiveRun {
  runId: number;
  controller: AbortController;
  replies: Map<number, (reply: HostCallReply) => void>;
}
let active: ActiveRun | undefined;

function post(message: WorkerToHostMessage): void {
  port!.postMessage(message);
}

port.on('message', (message: HostToWorkerMessage) => {
  if (message.type === 'host-reply') {
    if (active?.runId !== message.runId) return;
    const respond = active.replies.get(message.callIndex);
    active.replies.delete(message.callIndex);
    respond?.(message.reply);
    return;
  }
  if (message.type === 'cancel') {
    if (active?.runId === message.runId) active.controller.abort();
    return;
  }
  const run: ActiveRun = { runId: message.runId, controller: new AbortController(), replies: new Map() };
  active = run;
  void execute(message, run).then((outcome) => {
    if (active === run) active = undefined;
    const poisoned = outcome.teardownError !== undefined;
    post({ type: 'done', runId: run.runId, outcome, poisoned });
    // After the host has its result: the next run's context is made while the host works.
    if (!poisoned) setImmediate(prepareNext);
  });
});

async function execute(
  message: Extract<HostToWorkerMessage, { type: 'run' }>,
  run: ActiveRun,
): Promise<ExecutorOutcome> {
  let executor: QuickJsExecutor;
  try {
    executor = await executorFor(message.limits.memoryBytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'unknown error';
    // Nothing ran, so the worker is sound; the next run tries to load a module again.
    const text = `The sandbox could not set up memory for the program (${detail}). Lower memoryBytes or free some memory.`;
    return {
      result: { ok: false, error: { kind: 'MemoryLimit', message: text } },
      events: [],
      maxStackDepth: 0,
      logBytes: 0,
      guestMs: 0,
      hostWaitMs: 0,
    };
  }
  return executor.execute(
    {
      script: message.script,
      limits: message.limits,
      tools: message.tools,
      signal: run.controller.signal,
      isCancelRequested: () => Atomics.load(control, CONTROL_CANCEL_RUN_ID) === run.runId,
    },
    {
      hostCall(call, respond, events, logBytes) {
        run.replies.set(call.callIndex, respond);
        post({ type: 'host-call', runId: run.runId, call, events, logBytes });
      },
      emit(events, logBytes) {
        post({ type: 'events', runId: run.runId, events, logBytes });
      },
    },
  );
}

prepareNext();
post({ type: 'ready' });
