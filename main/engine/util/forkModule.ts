import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TYPESCRIPT_MODULE_EXTENSIONS } from './createWorker.ts';

/** The tsx entry that, given to `node --import`, lets the child load TypeScript modules. */
const TSX_LOADER_SPECIFIER = 'tsx';

export interface ForkModuleOptions {
  /**
   * V8 old-generation limit of the child, in MiB (`--max-old-space-size`). A child that needs more
   * dies alone (V8 aborts it) instead of taking its parent down. Default: Node's own limit.
   */
  maxOldSpaceMb?: number;
  /** Passed to fork unchanged (stdio, env, serialization…); execArgv is built here. */
  fork?: Omit<ForkOptions, 'execArgv'>;
}

/**
 * Starts the ES module at `moduleUrl` (a `file:` URL) in a child Node process with an IPC channel,
 * whether the calling code runs from TypeScript sources or from a built bundle: a `.ts` module is
 * started with `--import tsx`, a `.js`/`.mjs` one directly. Inside Electron (the engine's utility
 * process) the child runs the same executable with ELECTRON_RUN_AS_NODE=1, i.e. as plain Node.
 * The child does not inherit the parent's execArgv (a debugger or a loader flag meant for the
 * parent). No defaults beyond Node's own apart from `maxOldSpaceMb`.
 */
export function forkModule(moduleUrl: URL, options: ForkModuleOptions = {}): ChildProcess {
  if (moduleUrl.protocol !== 'file:') {
    throw new Error(`A child process can only run a file: module, not ${moduleUrl.protocol} URLs.`);
  }
  const modulePath = fileURLToPath(moduleUrl);
  const execArgv: string[] = [];
  if (TYPESCRIPT_MODULE_EXTENSIONS.some((extension) => modulePath.toLowerCase().endsWith(extension))) {
    execArgv.push('--import', resolveTsxLoader());
  }
  if (options.maxOldSpaceMb !== undefined) {
    execArgv.push(`--max-old-space-size=${Math.max(16, Math.floor(options.maxOldSpaceMb))}`);
  }
  const forkOptions: ForkOptions = { ...options.fork, execArgv };
  if (process.versions.electron) {
    forkOptions.env = { ...(options.fork?.env ?? process.env), ELECTRON_RUN_AS_NODE: '1' };
  }
  return fork(modulePath, [], forkOptions);
}

function resolveTsxLoader(): string {
  try {
    if (typeof import.meta.resolve === 'function') return import.meta.resolve(TSX_LOADER_SPECIFIER);
    const require = createRequire(import.meta.url);
    const packageJsonPath = require.resolve('tsx/package.json');
    const packageJson = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
      exports?: Record<string, { import?: { default?: string } | string } | string>;
    };
    const entry = packageJson.exports?.['.'];
    const relative =
      typeof entry === 'string'
        ? entry
        : typeof entry?.import === 'string'
          ? entry.import
          : entry?.import?.default;
    if (relative === undefined) throw new Error('tsx/package.json has no "." export.');
    return pathToFileURL(join(dirname(packageJsonPath), relative)).href;
  } catch (error) {
    throw new Error(
      'Cannot start a child process from TypeScript sources because the "tsx" package cannot be found. ' +
        'Install dependencies with "npm install", or run the built app.',
      { cause: error },
    );
  }
}
