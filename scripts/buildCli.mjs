#!/usr/bin/env node
// Builds the `reckon` command into dist/cli/ as plain JavaScript (run by `npm install` through the
// postinstall script, and by `npm run build:cli`), so the CLI starts without compiling TypeScript
// on every call. bin/reckon.mjs runs this build while it is up to date with the sources and falls
// back to running the TypeScript through tsx when it is missing or older than any of them — so
// editing a source file never runs stale code.
//
// Like the Electron main build, the worker modules (sandbox, parser, program preparation) are entries
// of their own and every file lands flat in dist/cli, because SandboxHost, ParsePool and
// ProgramPreparer start their workers (`./sandboxWorker.js`, `./parseWorker.js`,
// `./prepareWorker.js`) next to the module they are bundled into. Dependencies stay external and
// load from node_modules (native ones included). dist/cli/sources.json lists the source files the
// build was made from, for bin/reckon.mjs's freshness check.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT_DIR = path.join(root, 'dist', 'cli');

export async function buildCli() {
  const { build } = await import('esbuild');
  const outdir = CLI_OUT_DIR;
  const staging = `${outdir}.building-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      main: 'main/cli/main.ts',
      sandboxWorker: 'main/engine/sandbox/sandboxWorker.ts',
      parseWorker: 'main/engine/corpus/loaders/parseWorker.ts',
      prepareWorker: 'main/engine/programs/prepareWorker.ts',
    },
    outdir: staging,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  const sources = Object.keys(result.metafile.inputs)
    .filter((input) => !input.includes('node_modules/'))
    .sort();
  fs.writeFileSync(
    path.join(staging, 'sources.json'),
    `${JSON.stringify({ builtAt: Date.now(), sources }, null, 2)}\n`,
  );
  // Swap the finished build in whole, so a CLI started meanwhile never sees half of it.
  const old = `${outdir}.old-${process.pid}`;
  if (fs.existsSync(outdir)) fs.renameSync(outdir, old);
  fs.renameSync(staging, outdir);
  fs.rmSync(old, { recursive: true, force: true });
  return { outdir, sources: sources.length };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { outdir, sources } = await buildCli();
    console.log(`reckon: built the CLI from ${sources} source files into ${path.relative(root, outdir)}/.`);
  } catch (error) {
    // Never fail the install: without the build the CLI runs its TypeScript through tsx.
    console.log(
      `reckon: could not build the CLI (${error instanceof Error ? error.message : String(error)}); it will run from its TypeScript sources, which starts more slowly. Retry with \`npm run build:cli\`.`,
    );
  }
}
