/**
 * Runs once before the E2E suite: refuses to go on in CI without Chromium (a skipped E2E suite in CI
 * would be a green build that tested nothing), then builds the app (`npm run build`, a few seconds)
 * so `reckon serve` serves a renderer that matches the sources — always, rather than guessing
 * staleness from timestamps, since the renderer bundles code from renderer/, preload/ and main/.
 * It also empties test-results/e2e/, so the screenshots there are all from this run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ARTIFACTS_DIR, chromiumStatus, isCi, loudNotice, REPO_ROOT } from './e2eEnvironment.ts';

export default function setup(): void {
  const chromium = chromiumStatus();
  if (!chromium.available) {
    if (isCi()) throw new Error(`E2E suite FAILED in CI: ${chromium.message}`);
    console.warn(loudNotice(`E2E tests SKIPPED: ${chromium.message}`));
  }

  fs.rmSync(ARTIFACTS_DIR, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });

  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build'], { cwd: REPO_ROOT, encoding: 'utf8', env: process.env });
  if (build.status !== 0) {
    throw new Error(
      `"npm run build" failed (exit ${build.status ?? build.signal}), so the UI cannot be served:\n` +
        `${build.stdout}\n${build.stderr}`,
    );
  }
  const index = path.join(REPO_ROOT, 'out', 'renderer', 'index.html');
  if (!fs.existsSync(index)) throw new Error(`"npm run build" succeeded but wrote no ${index}.`);
  console.log(`e2e: built the app in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
