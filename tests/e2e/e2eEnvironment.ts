/**
 * Where the E2E suite finds its browser and puts its artifacts, and what it does without a browser:
 * in CI (CI=true) a missing Chromium is a failure, locally the suite is skipped with a loud notice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Debian's Chromium (`apt-get install chromium`); playwright-core drives it, nothing is downloaded. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** The Chromium to drive: RECKON_E2E_CHROMIUM (another install, e.g. on a developer's Mac), else the default. */
export const CHROMIUM_PATH = process.env.RECKON_E2E_CHROMIUM?.trim() || DEFAULT_CHROMIUM_PATH;

/**
 * Set (to "1") by tests/e2e/runE2e.ts when it runs the suite in a network namespace with no route
 * (`unshare -n`): the offline test then checks that the network really is unreachable.
 */
export const OFFLINE_ENV_VAR = 'RECKON_E2E_OFFLINE';
export const RUNNING_OFFLINE = process.env[OFFLINE_ENV_VAR] === '1';

/** Flags that work in containers and CI (no sandbox, no GPU, no background traffic). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
];

/** Screenshots (the suite's artifacts, git-ignored with test-results/). */
export const ARTIFACTS_DIR = path.join(REPO_ROOT, 'test-results', 'e2e');

/** True when running in CI (CI set to anything but "", "0" or "false"). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.CI?.trim().toLowerCase();
  return value !== undefined && value !== '' && value !== '0' && value !== 'false';
}

/** Whether Chromium is there, and what to tell the user when it is not. */
export function chromiumStatus(): { available: true } | { available: false; message: string } {
  if (fs.existsSync(CHROMIUM_PATH)) return { available: true };
  return {
    available: false,
    message:
      `Chromium is not installed at ${CHROMIUM_PATH}, so the E2E suite cannot drive the UI. ` +
      'Install it with: apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium',
  };
}

/** A banner that stands out in a wall of test output. */
export function loudNotice(message: string): string {
  const bar = '!'.repeat(100);
  return `\n${bar}\n!! ${message}\n${bar}\n`;
}
