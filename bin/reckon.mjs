#!/usr/bin/env node
// The `reckon` command. Runs the JavaScript build in dist/cli/ (made by `npm install`, or
// `npm run build:cli`) when it is up to date with every source file it was built from; otherwise —
// no build, or a source edited since — it runs the TypeScript sources through tsx's loader, so
// stack traces point at the real files and an edit never runs stale code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = path.join(root, 'dist', 'cli', 'main.js');

/** True when dist/cli exists and no source it lists changed (or vanished) after it was built. */
function buildIsFresh() {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, 'dist', 'cli', 'sources.json'), 'utf8'));
  } catch {
    return false;
  }
  if (!fs.existsSync(built) || !Array.isArray(manifest.sources)) return false;
  for (const source of manifest.sources) {
    const stat = fs.statSync(path.join(root, source), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs > manifest.builtAt) return false;
  }
  return true;
}

let main;
if (process.env.RECKON_FROM_SOURCE !== '1' && buildIsFresh()) {
  ({ main } = await import(pathToFileURL(built).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../main/cli/main.ts'));
}
process.exitCode = await main(process.argv);
