#!/usr/bin/env node
/**
 * `npm run scan:electron`: Electronegativity (Doyensec's scanner for Electron misconfigurations and
 * security anti-patterns) over the built app in `out/` (main, preload and renderer, as `npm run build`
 * writes them). Prints every finding as a table and the counts per severity; exits 1 when there is any
 * HIGH finding or when a file could not be scanned, 2 when there is nothing to scan.
 *
 * Usage: node scripts/electronegativity.mjs [dir]   (default: out/ of this checkout)
 *
 * Why not its CLI: the CLI requires `commander` and gets our hoisted commander 14, whose API it
 * predates, so it crashes; its programmatic API (the package's main export) works. Three more
 * adjustments keep the scan complete and deterministic, each explained where it is made:
 * - files are scanned from a staged copy where `.cjs`/`.mjs` become `.js` (the scanner only lists
 *   `.js .jsx .ts .tsx .html .htm`, so the preload bundle `out/preload/index.cjs` would be skipped);
 * - its Babel fallback parser is asked for ESTree class nodes (see patchParser);
 * - the one check that needs the network and a package.json is left out (see EXCLUDED_CHECKS).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Severity names from the scanner, most severe first. */
const SEVERITIES = ['HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];
/**
 * AVAILABLE_SECURITY_FIXES_GLOBAL_CHECK downloads Electron's release list from GitHub (no timeout, so
 * it can hang offline) and only reports on Electron versions found in a package.json; the built
 * `out/` has none, so it could never report anything here. The Electron version is pinned in
 * package.json / package-lock.json and reviewed there.
 */
const EXCLUDED_CHECKS = ['availablesecurityfixesglobalcheck'];
/** Extensions the scanner does not list but which hold JavaScript, staged under a `.js` name. */
const RENAMED_EXTENSIONS = new Set(['.cjs', '.mjs']);

function main() {
  const input = path.resolve(process.argv[2] ?? path.join(repoRoot, 'out'));
  const missing = ['main', 'preload', 'renderer'].filter((part) => !fs.existsSync(path.join(input, part)));
  if (!fs.existsSync(input) || missing.length > 0) {
    console.error(
      `electronegativity: ${input} is not a built app (missing: ${missing.join(', ') || input}). ` +
        'Run "npm run build" first.',
    );
    return Promise.resolve(2);
  }
  return scan(input);
}

async function scan(input) {
  const electronVersion = findElectronVersion();
  const staged = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-electronegativity-'));
  try {
    /** staged relative path → original relative path */
    const originalNames = stageFiles(input, staged);
    patchParser();
    const run = require('@doyensec/electronegativity');
    console.log(
      `Electronegativity over ${path.relative(process.cwd(), input) || '.'} ` +
        `(${originalNames.size} files, Electron ${electronVersion})`,
    );
    const result = await run({
      input: staged,
      isRelative: true,
      electronVersionOverride: electronVersion,
      excludeFromScan: EXCLUDED_CHECKS,
    });
    const original = (file) => originalNames.get(toPosix(file)) ?? toPosix(file);
    const issues = result.issues
      .map((issue) => ({ ...issue, file: original(issue.file) }))
      .sort(
        (a, b) =>
          SEVERITIES.indexOf(a.severity.name) - SEVERITIES.indexOf(b.severity.name) ||
          a.file.localeCompare(b.file) ||
          a.location.line - b.location.line,
      );
    console.log(`${result.globalChecks} global and ${result.atomicChecks} atomic checks ran.\n`);
    printTable(issues);

    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0]));
    for (const issue of issues) counts[issue.severity.name] = (counts[issue.severity.name] ?? 0) + 1;
    console.log(`\nFindings by severity: ${SEVERITIES.map((s) => `${s} ${counts[s]}`).join(' · ')}`);

    let failed = false;
    // A file the scanner could not parse was not scanned at all: a clean report would be a lie.
    const unscanned = result.errors.filter((e) => !e.tolerable);
    for (const error of result.errors) {
      const where = original(path.relative(staged, error.file));
      console[error.tolerable ? 'log' : 'error'](
        `${error.tolerable ? 'warning' : 'error'}: could not fully parse ${where}: ${error.message}`,
      );
    }
    if (unscanned.length > 0) {
      console.error(`FAILED: ${unscanned.length} file(s) could not be scanned (see above).`);
      failed = true;
    }
    if (counts.HIGH > 0) {
      console.error(`FAILED: ${counts.HIGH} HIGH severity finding(s).`);
      failed = true;
    }
    if (!failed) console.log('OK: no HIGH severity findings; every file was scanned.');
    return failed ? 1 : 0;
  } finally {
    fs.rmSync(staged, { recursive: true, force: true });
  }
}

/** The Electron version the app is built for: the installed package, else the one package.json pins. */
function findElectronVersion() {
  try {
    return require('electron/package.json').version;
  } catch {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    const range =
      pkg.dependencies?.electron ?? pkg.devDependencies?.electron ?? pkg.optionalDependencies?.electron;
    if (!range) throw new Error('package.json does not name an Electron version.');
    return range.replace(/^[^\d]*/, '');
  }
}

/** Copies the files to scan into `staged`, renaming .cjs/.mjs to .js; returns staged → original names. */
function stageFiles(input, staged) {
  const names = new Map();
  for (const entry of fs.readdirSync(input, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const from = path.join(entry.parentPath, entry.name);
    const relative = path.relative(input, from);
    const ext = path.extname(relative);
    const stagedRelative = RENAMED_EXTENSIONS.has(ext) ? `${relative.slice(0, -ext.length)}.js` : relative;
    if (names.has(toPosix(stagedRelative))) {
      throw new Error(`${relative} and another file would both be scanned as ${stagedRelative}.`);
    }
    fs.mkdirSync(path.dirname(path.join(staged, stagedRelative)), { recursive: true });
    fs.copyFileSync(from, path.join(staged, stagedRelative));
    names.set(toPosix(stagedRelative), toPosix(relative));
  }
  return names;
}

/**
 * The scanner parses JavaScript with esprima and falls back to @babel/parser with its "estree"
 * plugin, whose default still emits Babel's ClassPrivateProperty / ClassProperty nodes for class
 * fields; the scanner's tree walker (estraverse) does not know them and gives up on the whole file
 * ("Unknown node type ClassPrivateProperty"). With `classFeatures: true` Babel emits the standard
 * ESTree nodes (PropertyDefinition, PrivateIdentifier) that estraverse walks, values included.
 */
function patchParser() {
  const { Parser } = require('@doyensec/electronegativity/dist/parser');
  if (Parser.prototype.reckonPatched) return;
  const parseBabel = Parser.prototype.parseBabel;
  Parser.prototype.parseBabel = function (content) {
    this.babelPlugins = this.babelPlugins.map((p) =>
      p === 'estree' ? ['estree', { classFeatures: true }] : p,
    );
    return parseBabel.call(this, content);
  };
  Parser.prototype.reckonPatched = true;
}

function printTable(issues) {
  if (issues.length === 0) {
    console.log('No findings.');
    return;
  }
  const rows = issues.map((i) => [
    i.severity.name,
    i.confidence.name,
    i.id + (i.manualReview ? ' (review)' : ''),
    `${i.file}:${i.location.line}:${i.location.column}`,
    `${i.description} ${i.shortenedURL}`,
  ]);
  const head = ['SEVERITY', 'CONFIDENCE', 'CHECK', 'WHERE', 'DESCRIPTION'];
  const widths = head.map((h, c) =>
    Math.max(h.length, ...rows.slice().map((r) => (c === 4 ? 0 : r[c].length))),
  );
  const line = (cells) => cells.map((cell, c) => (c === 4 ? cell : cell.padEnd(widths[c]))).join('  ');
  console.log(line(head));
  console.log(line(widths.map((w, c) => '-'.repeat(c === 4 ? 11 : w))));
  for (const row of rows) console.log(line(row));
}

function toPosix(p) {
  return p.split(path.sep).join('/');
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`electronegativity: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
