import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * File extensions that Node cannot run without a TypeScript loader. A worker for such a module is
 * started through the tsx bootstrap below.
 */
export const TYPESCRIPT_MODULE_EXTENSIONS: readonly string[] = ['.ts', '.mts', '.cts', '.tsx'];

/** The tsx entry point that installs its ESM hooks in the current thread (`register()`). */
const TSX_ESM_API_SPECIFIER = 'tsx/esm/api';

/**
 * Starts a `worker_threads` Worker running the ES module at `moduleUrl`, whether the calling code runs
 * from TypeScript sources or from a built bundle.
 *
 * - A `.js`/`.mjs` (or `data:`) URL is started directly: `new Worker(moduleUrl, options)`. This is the
 *   path of a built app, where the worker is its own bundle entry next to the main bundle.
 * - A `.ts`/`.mts`/`.cts`/`.tsx` URL is started through a tiny ES-module bootstrap given as a `data:`
 *   URL: it imports tsx's ESM API by absolute URL (a `data:` module cannot resolve bare specifiers),
 *   calls `register()` so that TypeScript imports work inside the worker thread, then dynamically
 *   imports the target. This is needed under vitest, which transforms the test's own module graph
 *   but not what a Worker loads, and harmless under the tsx CLI (its hooks may already be inherited
 *   through `execArgv`; registering again only adds a loader that finds nothing left to do).
 *
 * The target sees the usual `parentPort`, `workerData` and `threadId`; `options` (workerData,
 * resourceLimits, env, stdout/stderr, …) are passed to the Worker unchanged. A failure to load the
 * target (missing file, syntax error, tsx not installed) surfaces as the Worker's `error` event.
 * There are no defaults beyond Node's own.
 */
export function createWorker(moduleUrl: URL, options?: WorkerOptions): Worker {
  if (!isTypeScriptModule(moduleUrl)) return new Worker(moduleUrl, options);

  const bootstrap = [
    `import { register } from ${JSON.stringify(resolveTsxEsmApi())};`,
    'register();',
    `await import(${JSON.stringify(moduleUrl.href)});`,
  ].join('\n');
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), options);
}

function isTypeScriptModule(moduleUrl: URL): boolean {
  if (moduleUrl.protocol !== 'file:') return false;
  const path = moduleUrl.pathname.toLowerCase();
  return TYPESCRIPT_MODULE_EXTENSIONS.some((extension) => path.endsWith(extension));
}

function resolveTsxEsmApi(): string {
  try {
    // import.meta.resolve picks the "import" condition; it is missing when this file was loaded as
    // CommonJS (tsx running a project without "type": "module"), so fall back to tsx's exports map.
    if (typeof import.meta.resolve === 'function') return import.meta.resolve(TSX_ESM_API_SPECIFIER);
    const require = createRequire(import.meta.url);
    const packageJsonPath = require.resolve('tsx/package.json');
    const packageJson = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as {
      exports?: Record<string, { import?: { default?: string } } | string>;
    };
    const entry = packageJson.exports?.['./esm/api'];
    const relative = typeof entry === 'string' ? entry : entry?.import?.default;
    if (relative === undefined) throw new Error('tsx/package.json has no "./esm/api" export.');
    return pathToFileURL(join(dirname(packageJsonPath), relative)).href;
  } catch (error) {
    throw new Error(
      'Cannot start a worker from TypeScript sources because the "tsx" package cannot be found. ' +
        'Install dependencies with "npm install", or run the built app.',
      { cause: error },
    );
  }
}
