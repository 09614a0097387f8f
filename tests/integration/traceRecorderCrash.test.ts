/**
 * The trace is written a step at a time (TraceRecorder holds the events between step boundaries;
 * these tests write each step as it ends, except the one that checks steps held for the interval),
 * so these tests kill a real process that records a run and check what a later process reads: a
 * run killed at any point reads back as interrupted with a consistent prefix of its trace, losing at
 * most the events of the step it was in; a process that exits normally writes what it held.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { INTERRUPTED_ERROR_CODE, RunStore } from '../../main/engine/runs/RunStore.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const moduleUrl = (file: string): string => pathToFileURL(path.join(REPO_ROOT, file)).href;
/** Tool calls recorded in each step before the step's model call ends it. */
const HELD_PER_STEP = 3;

/**
 * A process that records run `runId` step by step: each step is HELD_PER_STEP tool-call events
 * (held) and an llm-call (a boundary), after which it prints "wrote <seq>" (the boundary's seq,
 * written by then). Modes: `kill-mid-step` SIGKILLs itself after step 2 and half of step 3's held
 * events; `exit` holds step 1's tool calls and calls process.exit(0); `loop` runs steps until killed.
 * These write each step as it ends (minWriteIntervalMs 0); `kill-coalesced` keeps the default
 * interval raised to a minute, so that steps 2 and 3 are held after step 1 was written, and
 * SIGKILLs itself after step 3 (it reports nothing).
 */
const CHILD = `
  import { RunStore } from ${JSON.stringify(moduleUrl('main/engine/runs/RunStore.ts'))};
  import { TraceRecorder } from ${JSON.stringify(moduleUrl('main/engine/runs/TraceRecorder.ts'))};
  import fs from 'node:fs';
  const [dataDir, runId, mode] = process.argv.slice(1);
  const store = RunStore.open(dataDir);
  store.createRun({ id: runId, question: 'q', corpus: null, strategy: 'direct', model: 'fake', createdAt: 1 });
  const recorder = new TraceRecorder({ runId, store, flushIntervalMs: 60_000,
    minWriteIntervalMs: mode === 'kill-coalesced' ? 60_000 : 0 });
  recorder.emit({ type: 'run-started', question: 'q', corpus: null, strategy: 'direct', model: 'fake' });
  const held = (step, i) => recorder.emit({ type: 'tool-call', execution: step, callIndex: i, tool: 'retrieve',
    args: ['step ' + step], line: i + 1 });
  const boundary = (step) => recorder.emit({ type: 'llm-call', callIndex: step, role: 'answer', promptTokens: 1,
    completionTokens: 1, durationMs: 0 });
  const step = (n, heldCount) => {
    for (let i = 0; i < heldCount; i++) held(n, i);
    if (heldCount < ${HELD_PER_STEP}) return;
    const seq = boundary(n).seq;
    if (mode !== 'kill-coalesced') fs.writeSync(1, 'wrote ' + seq + '\\n');
  };
  if (mode === 'kill-mid-step') {
    step(1, ${HELD_PER_STEP});
    step(2, ${HELD_PER_STEP});
    step(3, 2);
    process.kill(process.pid, 'SIGKILL');
  } else if (mode === 'kill-coalesced') {
    step(1, ${HELD_PER_STEP});
    step(2, ${HELD_PER_STEP});
    step(3, ${HELD_PER_STEP});
    process.kill(process.pid, 'SIGKILL');
  } else if (mode === 'exit') {
    step(1, ${HELD_PER_STEP});
    step(2, 2);
    process.exit(0);
  } else {
    let n = 0;
    const next = () => { step(++n, ${HELD_PER_STEP}); setImmediate(next); };
    next();
  }
`;

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-trace-crash-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs the child; resolves with the boundary seqs it reported as written and how it ended. */
function runChild(
  runId: string,
  mode: 'kill-mid-step' | 'exit' | 'loop' | 'kill-coalesced',
  killAfterWrites?: number,
): Promise<{ written: number[]; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', CHILD, dir, runId, mode],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const written: number[] = [];
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop() ?? '';
      for (const line of lines) written.push(Number(line.replace('wrote ', '')));
      if (killAfterWrites !== undefined && written.length >= killAfterWrites) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => resolve({ written, signal, code, stderr }));
  });
}

function readBack(runId: string) {
  const store = RunStore.open(dir);
  try {
    const found = store.getRun(runId);
    if (found === undefined) throw new Error(`run ${runId} was not found`);
    return found;
  } finally {
    store.close();
  }
}

describe('TraceRecorder writes a step at a time and survives a kill', () => {
  it('loses only the held events of the step a killed process was in', async () => {
    const { written, signal, stderr } = await runChild('run-killed', 'kill-mid-step');
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    const lastStepEnd = 1 + 2 * (HELD_PER_STEP + 1) - 1;
    expect(written).toEqual([HELD_PER_STEP + 1, lastStepEnd]);
    const { run, events } = readBack('run-killed');
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe(INTERRUPTED_ERROR_CODE);
    // Everything up to the end of step 2, in order; step 3's two held tool calls are gone.
    expect(events.map((event) => event.seq)).toEqual([...Array(lastStepEnd + 1).keys()]);
    expect(events.at(-1)?.type).toBe('llm-call');
  });

  it('loses the steps held for minWriteIntervalMs when killed, keeping a consistent prefix', async () => {
    const { signal, stderr } = await runChild('run-coalesced', 'kill-coalesced');
    expect(stderr).toBe('');
    expect(signal).toBe('SIGKILL');
    const { run, events } = readBack('run-coalesced');
    expect(run.error?.code).toBe(INTERRUPTED_ERROR_CODE);
    // run-started and step 1, written as the first step ended; steps 2 and 3 were still held.
    expect(events.map((event) => event.seq)).toEqual([...Array(HELD_PER_STEP + 2).keys()]);
    expect(events.at(-1)?.type).toBe('llm-call');
  });

  it('writes the held events when the process exits normally', async () => {
    const { code, stderr } = await runChild('run-exited', 'exit');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const { events } = readBack('run-exited');
    // run-started, step 1 (3 tool calls + llm-call), step 2's 2 held tool calls.
    expect(events.map((event) => event.type)).toEqual([
      'run-started',
      ...Array<string>(HELD_PER_STEP).fill('tool-call'),
      'llm-call',
      'tool-call',
      'tool-call',
    ]);
  });

  it('reads back a consistent prefix after a kill from outside at an arbitrary point', async () => {
    const { written, signal } = await runChild('run-loop', 'loop', 25);
    expect(signal).toBe('SIGKILL');
    const { run, events } = readBack('run-loop');
    expect(run.error?.code).toBe(INTERRUPTED_ERROR_CODE);
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...Array(seqs.length).keys()]);
    // Every step the child reported as written is there; past it, at most one step's held events.
    const lastReported = written.at(-1)!;
    expect(seqs.length).toBeGreaterThan(lastReported);
    const tail = events.slice(events.findLastIndex((event) => event.type === 'llm-call') + 1);
    expect(tail.every((event) => event.type === 'tool-call')).toBe(true);
    expect(tail.length).toBeLessThanOrEqual(HELD_PER_STEP);
  });
});
