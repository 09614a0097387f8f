/**
 * The main-thread API of the sandbox: run a model-written program in QuickJS, in a worker thread,
 * with retrieve() and answer() bridged to the host tools.
 */
import { SandboxHost, type SandboxRunOptions } from './SandboxHost.ts';
import type { SandboxRunResult } from './SandboxTypes.ts';

export {
  DEFAULT_SANDBOX_WORKER_RESOURCE_LIMITS,
  SandboxHost,
  type SandboxHostOptions,
  type SandboxHostStats,
  type SandboxRunOptions,
} from './SandboxHost.ts';

let defaultHost: SandboxHost | undefined;

/**
 * The SandboxHost that runSandboxedProgram uses when none is given: created on first use with the
 * default options (worker next to this module, 256 MiB V8 old generation), its worker unref'd while
 * idle so that it never keeps the process alive.
 */
export function getDefaultSandboxHost(): SandboxHost {
  if (defaultHost === undefined || defaultHost.closed) defaultHost = new SandboxHost();
  return defaultHost;
}

/** Closes the default host (if one was created); the next runSandboxedProgram call starts a new one. */
export async function closeDefaultSandboxHost(): Promise<void> {
  const host = defaultHost;
  defaultHost = undefined;
  await host?.close();
}

/**
 * Runs one model-written program in a QuickJS sandbox and resolves with its value or a typed failure.
 *
 * **The script** is a classic script evaluated with file name `program.js` (line N of the script is
 * line N of the program) in a fresh QuickJS runtime + context. Its completion value — typically the
 * promise of an async IIFE, or a plain value — is the program's result, read host-side as JSON-like
 * data (20 levels, 100k characters per string, 10k entries per container; functions and getters are
 * left out, `toJSON` is never called, a Proxy fails the run). `import()` fails; there is no module
 * loader. Globals are the standard ECMAScript builtins plus:
 *
 * - `retrieve(query: string, k?: 1..50)` → Promise<RetrievedDoc[]>
 * - `answer(question: string, docs?: RetrievedDoc[] | string[] | string)` → Promise<string>; strings
 *   become `{id: -1, title: '', text, score: 0, source: 'program'}`, at most 50 documents
 * - `console.log/warn/error` → `log` events, at most `limits.maxLogBytes` in all (then one note)
 * - `__reckonBind(name, value, line)` → a `binding` event with a ≤ 200-character preview
 *
 * The program may keep `__reckonLine` (the line being executed: the line of host-call events, and the
 * fallback line of failures) and `__reckonMaxDepth` (reported as `metrics.maxStackDepth`, 0 if absent)
 * as global numbers. Host-call arguments must be plain JSON (no proxies, getters, functions, symbols,
 * cycles; at most `limits.maxArgumentBytes`); results enter the guest as fresh copies.
 *
 * **Failures** are values: SyntaxError, RuntimeError (with errorName, line, column), Timeout,
 * MemoryLimit, StackOverflow, HostCallLimit, InvalidHostArgument and HostError (terminal even when the
 * program catches them), Cancelled (`signal`). Limits default to DEFAULT_SANDBOX_LIMITS.
 *
 * Runs go through `options.host`, by default the shared getDefaultSandboxHost() (one warm worker, runs
 * queued one at a time). Rejects only for misuse (SandboxUsageError) or a sandbox that cannot start
 * (SandboxUnavailableError).
 */
export async function runSandboxedProgram(
  options: SandboxRunOptions & {
    /** The host to run on. Default: getDefaultSandboxHost(). */
    host?: SandboxHost;
  },
): Promise<SandboxRunResult> {
  return (options.host ?? getDefaultSandboxHost()).run(options);
}
