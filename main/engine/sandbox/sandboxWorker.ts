/**
 * Worker-thread entry of SandboxHost: loads the QuickJS WebAssembly module once, then runs one program
 * at a time with QuickJsExecutor. Host calls go to the main thread as messages (models and search never
 * run here); see sandboxProtocol.ts for the protocol. Started through createWorker; never imported.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant } from 'quickjs-emscripten-core';
import { QuickJsExecutor } from './QuickJsExecutor.ts';
import {
  CONTROL_CANCEL_RUN_ID,
  type HostCallReply,
  type HostToWorkerMessage,
  type SandboxWorkerData,
  type WorkerToHostMessage,
} from './sandboxProtocol.ts';

const port = parentPort;
if (port === null) throw new Error('sandboxWorker.ts must run in a worker thread (use SandboxHost).');
const control = new Int32Array((workerData as SandboxWorkerData).control);

// The variant is passed as a module promise: the core unwraps its default export whichever way the
// package resolves (its type declarations are CommonJS-flavoured).
const executor = new QuickJsExecutor(
  await newQuickJSWASMModuleFromVariant(import('@jitl/quickjs-wasmfile-release-sync')),
);

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
  void executor
    .execute(
      {
        script: message.script,
        limits: message.limits,
        tools: message.tools,
        signal: run.controller.signal,
        isCancelRequested: () => Atomics.load(control, CONTROL_CANCEL_RUN_ID) === run.runId,
      },
      {
        hostCall(call, respond) {
          run.replies.set(call.callIndex, respond);
          post({ type: 'host-call', runId: run.runId, call });
        },
        emit(events, logBytes) {
          post({ type: 'events', runId: run.runId, events, logBytes });
        },
      },
    )
    .then((outcome) => {
      if (active === run) active = undefined;
      post({ type: 'done', runId: run.runId, outcome, poisoned: outcome.teardownError !== undefined });
    });
});

post({ type: 'ready' });
