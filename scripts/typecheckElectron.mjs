#!/usr/bin/env node
// Type-checks the Electron adapter. Electron is an optional dependency (its installer downloads a
// binary, which fails offline; npm then drops the package), so without it this check is skipped
// with a notice — except in CI, which installs it with ELECTRON_SKIP_BINARY_DOWNLOAD=1 and must check.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';

const require = createRequire(import.meta.url);
let hasElectron = true;
try {
  require.resolve('electron/package.json');
} catch {
  hasElectron = false;
}
if (!hasElectron) {
  if (process.env.CI) {
    console.error(
      'typecheck: the electron package is missing; CI installs it with ELECTRON_SKIP_BINARY_DOWNLOAD=1.',
    );
    process.exit(1);
  }
  console.error(
    'typecheck: skipped main/electron — the electron package is not installed (install with ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm install to check it without the binary).',
  );
  process.exit(0);
}
const result = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.electron.json', '--noEmit'],
  {
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
