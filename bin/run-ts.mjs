#!/usr/bin/env node
// Runs a TypeScript module of this repo (fixture generators, benchmarks): node bin/run-ts.mjs <file.ts> [args…]
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [, , file, ...rest] = process.argv;
if (!file) {
  console.error('usage: node bin/run-ts.mjs <file.ts> [args…]');
  process.exit(2);
}
register();
const target = path.resolve(file);
// Present the module as the entry point so its `import.meta.url === argv[1]` check holds.
process.argv = [process.argv[0] ?? 'node', target, ...rest];
await import(pathToFileURL(target).href);
