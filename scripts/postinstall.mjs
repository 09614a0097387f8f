#!/usr/bin/env node
// After `npm install`: build a second copy of better-sqlite3 for Electron, beside the Node one, so
// the desktop app and the Node CLI/tests can both load SQLite (better-sqlite3 is not N-API; one
// build cannot serve both). The copy lives in .electron-native/ and main/engine/util/openSqlite.ts
// hands it to better-sqlite3 (`nativeBinding`) only when running inside Electron.
//
// It needs the Electron binary and Electron's headers from the internet. Where either is missing
// (CI, offline machines) it says so and skips: everything except `npm start` still works, and
// `npm run rebuild:electron` retries later. It never fails the install.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const target = path.join(root, '.electron-native', 'better-sqlite3');
const force = process.argv.includes('--force');

function skip(reason) {
  console.log(
    `reckon: skipping the Electron build of better-sqlite3: ${reason}. \`npm start\` needs it; run \`npm run rebuild:electron\` on a machine with internet access.`,
  );
  process.exit(0);
}

if (!force && (process.env.CI || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD)) {
  skip(process.env.CI ? 'CI (no Electron binary or headers here)' : 'ELECTRON_SKIP_BINARY_DOWNLOAD is set');
}
let electronVersion;
try {
  const electronDir = path.dirname(require.resolve('electron/package.json'));
  if (!fs.existsSync(path.join(electronDir, 'path.txt'))) skip('the Electron binary is not installed');
  electronVersion = JSON.parse(fs.readFileSync(path.join(electronDir, 'package.json'), 'utf8')).version;
} catch {
  skip('the electron package is not installed (it is optional; offline installs leave it out)');
}

/**
 * The environment for node-gyp without `nodedir` (set in .npmrc for the Node build of better-sqlite3):
 * with it node-gyp would compile against Node's headers instead of fetching Electron's.
 */
function electronBuildEnv() {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.toLowerCase() === 'npm_config_nodedir') delete env[key];
  return env;
}

const source = path.dirname(require.resolve('better-sqlite3/package.json'));
const built = path.join(target, 'build', 'Release', 'better_sqlite3.node');
const stamp = path.join(target, '.electron-version');
if (
  !force &&
  fs.existsSync(built) &&
  fs.existsSync(stamp) &&
  fs.readFileSync(stamp, 'utf8') === electronVersion
) {
  console.log(`reckon: better-sqlite3 for Electron ${electronVersion} is already built.`);
  process.exit(0);
}

fs.rmSync(target, { recursive: true, force: true });
fs.mkdirSync(path.dirname(target), { recursive: true });
fs.cpSync(source, target, {
  recursive: true,
  filter: (file) => !file.includes(`${path.sep}build${path.sep}`) && !file.endsWith(`${path.sep}build`),
});
console.log(
  `reckon: building better-sqlite3 for Electron ${electronVersion} in ${path.relative(root, target)} …`,
);
const nodeGyp =
  process.env.npm_config_node_gyp ??
  require.resolve('node-gyp/bin/node-gyp.js', {
    paths: [path.dirname(process.execPath), '/usr/lib/node_modules/npm/node_modules'],
  });
const result = spawnSync(
  process.execPath,
  [
    nodeGyp,
    'rebuild',
    '--release',
    `--target=${electronVersion}`,
    '--runtime=electron',
    '--dist-url=https://electronjs.org/headers',
  ],
  { cwd: target, stdio: 'inherit', env: electronBuildEnv() },
);
if (result.status !== 0 || !fs.existsSync(built)) {
  fs.rmSync(target, { recursive: true, force: true });
  skip("the build failed (are Electron's headers reachable?)");
}
fs.writeFileSync(stamp, electronVersion);
console.log('reckon: better-sqlite3 for Electron is ready.');
