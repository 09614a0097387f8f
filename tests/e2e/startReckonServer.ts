/**
 * Starts `reckon serve --json` as a child process — the real command a user runs — and hands back
 * its address once it listens. The port is left to the system (no --port); the data and models
 * folders go in through RECKON_HOME and RECKON_MODELS_DIR, as a user would set them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { z } from 'zod';
import { REPO_ROOT } from './e2eEnvironment.ts';

/** How long `reckon serve` may take to print its address. */
export const DEFAULT_SERVER_START_TIMEOUT_MS = 30_000;
/** How long a stopping server gets after SIGTERM before it is killed. */
export const DEFAULT_SERVER_STOP_TIMEOUT_MS = 10_000;

const serveOutputSchema = z.object({
  url: z.string().url(),
  port: z.number().int(),
  token: z.string().min(1),
  rendererDir: z.string(),
});

export interface StartReckonServerOptions {
  /** RECKON_HOME: corpora, run history and settings. */
  dataDir: string;
  /** RECKON_MODELS_DIR. */
  modelsDir: string;
  /** Default: DEFAULT_SERVER_START_TIMEOUT_MS (30 s). */
  startTimeoutMs?: number;
}

export interface ReckonServer {
  /** `http://127.0.0.1:PORT/?token=…`, the address the user opens. */
  url: string;
  /** `http://127.0.0.1:PORT`, without the token. */
  origin: string;
  port: number;
  token: string;
  /** Everything the server wrote to stderr so far (warnings, unexpected errors). */
  stderr(): string;
  /** SIGTERM (the server closes cleanly), SIGKILL if it has not exited after the stop timeout. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Spawns the server and resolves with its address, or rejects with its stderr when it exits or stays
 * silent for `startTimeoutMs` (default 30 s). The child is also killed if this process exits first.
 */
export async function startReckonServer(options: StartReckonServerOptions): Promise<ReckonServer> {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', 'reckon.mjs'), 'serve', '--json'], {
    cwd: REPO_ROOT,
    env: { ...process.env, RECKON_HOME: options.dataDir, RECKON_MODELS_DIR: options.modelsDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = stopper(child, exited, () => process.off('exit', killOnExit));

  try {
    const output = await readFirstLine(
      child,
      options.startTimeoutMs ?? DEFAULT_SERVER_START_TIMEOUT_MS,
      () => stderr,
    );
    const info = serveOutputSchema.parse(JSON.parse(output));
    return {
      url: info.url,
      origin: new URL(info.url).origin,
      port: info.port,
      token: info.token,
      stderr: () => stderr,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function readFirstLine(child: ChildProcess, timeoutMs: number, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => fail(`"reckon serve" printed no address within ${timeoutMs} ms`),
      timeoutMs,
    );
    const onData = (chunk: string): void => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      resolve(stdout.slice(0, newline));
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(`"reckon serve" exited (${code ?? signal}) before printing its address`);
    function fail(what: string): void {
      cleanup();
      reject(new Error(`${what}.\nstdout:\n${stdout}\nstderr:\n${stderr()}`));
    }
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
    }
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  });
}

function stopper(child: ChildProcess, exited: Promise<void>, done: () => void): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), DEFAULT_SERVER_STOP_TIMEOUT_MS);
        });
        const late = await Promise.race([exited.then(() => false), timedOut]);
        clearTimeout(timer);
        if (late) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      done();
    })());
}
