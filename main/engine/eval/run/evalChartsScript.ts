/**
 * The browser script that draws the HTML report's charts: renderer/src/eval/evalChartsReport.ts —
 * the Evaluate view's own chart functions — bundled with Observable Plot (and the parts of d3 it
 * uses) into one classic script that report.html inlines, so the report draws offline from
 * file:// with nothing to fetch. The bundle is built with esbuild (the one tsx and Vite run on)
 * the first time a report needs it, and kept in `dist/eval-charts/` with the list of sources it was
 * built from; it is built again when one of them changes, like the CLI's build (bin/reckon.mjs).
 * Where the sources are not shipped (a packaged app), the kept bundle is used as it is.
 */
import type * as Esbuild from 'esbuild';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { APP_ROOT } from '../../config.ts';
import { ReckonError } from '../../errors.ts';
import { atomicWriteFileSync } from '../../util/atomicWrite.ts';

/** The report's chart script, relative to the app root. */
export const EVAL_CHARTS_ENTRY = path.join('renderer', 'src', 'eval', 'evalChartsReport.ts');
/** Where the bundle and its sources list are kept. */
export const EVAL_CHARTS_OUT_DIR = path.join(APP_ROOT, 'dist', 'eval-charts');
const BUNDLE_FILE = 'evalChartsReport.js';
const SOURCES_FILE = 'sources.json';

let cached: string | undefined;

/**
 * The chart script's text, safe to put between `<script>` and `</script>` (it contains neither
 * `</script` nor `<!--`). Throws ReckonError `EVAL_CHARTS_UNAVAILABLE` when there is no bundle and
 * it cannot be built (esbuild or the sources missing); the report then goes without charts.
 */
export function evalChartsScript(): string {
  if (cached !== undefined) return cached;
  const bundle = path.join(EVAL_CHARTS_OUT_DIR, BUNDLE_FILE);
  let text = isFresh() ? fs.readFileSync(bundle, 'utf8') : build();
  text = text.replace(/<\/script/gi, '<\\/script');
  if (/<!--/.test(text))
    throw new ReckonError('EVAL_CHARTS_UNAVAILABLE', 'The chart script cannot be inlined ("<!--" in it).');
  cached = text;
  return text;
}

function isFresh(): boolean {
  let manifest: { builtAt?: unknown; sources?: unknown };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(EVAL_CHARTS_OUT_DIR, SOURCES_FILE), 'utf8')) as {
      builtAt?: unknown;
      sources?: unknown;
    };
  } catch {
    return false;
  }
  if (!fs.existsSync(path.join(EVAL_CHARTS_OUT_DIR, BUNDLE_FILE))) return false;
  // Without the sources (a packaged app) the kept bundle is all there is.
  if (!fs.existsSync(path.join(APP_ROOT, EVAL_CHARTS_ENTRY))) return true;
  if (!Array.isArray(manifest.sources) || typeof manifest.builtAt !== 'number') return false;
  for (const source of manifest.sources as string[]) {
    const stat = fs.statSync(path.join(APP_ROOT, source), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs > manifest.builtAt) return false;
  }
  return true;
}

function build(): string {
  let esbuild: typeof Esbuild;
  try {
    esbuild = createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  } catch (error) {
    throw new ReckonError(
      'EVAL_CHARTS_UNAVAILABLE',
      'The report’s charts need their script, which is not built, and esbuild is not installed to build it. Run `npm install` in the app folder.',
      { cause: error },
    );
  }
  const builtAt = Date.now();
  let result: Esbuild.BuildResult & { metafile: Esbuild.Metafile };
  try {
    result = esbuild.buildSync({
      absWorkingDir: APP_ROOT,
      entryPoints: [EVAL_CHARTS_ENTRY],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      charset: 'utf8',
      metafile: true,
      logLevel: 'silent',
      outfile: path.join(EVAL_CHARTS_OUT_DIR, BUNDLE_FILE),
    });
  } catch (error) {
    throw new ReckonError(
      'EVAL_CHARTS_UNAVAILABLE',
      `The report’s chart script could not be built: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const text = result.outputFiles?.[0]?.text ?? '';
  const sources = Object.keys(result.metafile.inputs).filter((input) => !input.includes('node_modules/'));
  try {
    fs.mkdirSync(EVAL_CHARTS_OUT_DIR, { recursive: true });
    atomicWriteFileSync(path.join(EVAL_CHARTS_OUT_DIR, BUNDLE_FILE), text);
    atomicWriteFileSync(
      path.join(EVAL_CHARTS_OUT_DIR, SOURCES_FILE),
      `${JSON.stringify({ builtAt, sources: sources.sort() }, null, 2)}\n`,
    );
  } catch {
    // A read-only app folder: build again next time, the report is not worse for it.
  }
  return text;
}
