/**
 * `npm run test:e2e`, and so the E2E step of `npm test` (CI runs the same command): prepares what the
 * E2E suite needs from the system, then runs it.
 *
 * 1. **Chromium** at CHROMIUM_PATH. Missing at the default path, as root with apt-get (a fresh Debian
 *    machine, CI), it is installed: `apt-get update && apt-get install -y chromium`. Otherwise the run
 *    fails and says exactly what to install.
 * 2. **Offline.** Where `unshare -n` is permitted (root), the suite runs in a new network namespace
 *    whose only interface is loopback, brought up with `ip` (iproute2, installed like Chromium when
 *    missing): anything in Reckon that reaches the network fails the suite instead of passing quietly.
 *    Where it is not permitted the suite runs with the network and a note says the offline check was
 *    skipped; in CI that is a failure, since CI runs as root and must prove it.
 *
 * Arguments are passed on to vitest (`npm run test:e2e -- -t "History"`).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CHROMIUM_PATH,
  DEFAULT_CHROMIUM_PATH,
  isCi,
  loudNotice,
  OFFLINE_ENV_VAR,
  REPO_ROOT,
} from './e2eEnvironment.ts';

/** What the plans below are decided from; gathered by inspectSystem(). */
export interface SystemFacts {
  chromiumPath: string;
  chromiumPresent: boolean;
  isRoot: boolean;
  hasAptGet: boolean;
  /** `unshare -n true` succeeded. */
  canUnshareNetwork: boolean;
  /** Where `ip` (iproute2) is, to bring loopback up inside the namespace; null when missing. */
  ipPath: string | null;
  ci: boolean;
}

export type ChromiumPlan =
  | { action: 'use' }
  | { action: 'install'; packages: string[] }
  | { action: 'fail'; message: string };

export type OfflinePlan =
  | { action: 'offline'; install: string[] }
  | { action: 'online'; note: string }
  | { action: 'fail'; message: string };

/** Use Chromium when present; install Debian's package when that can and may be done; else fail. */
export function planChromium(facts: SystemFacts): ChromiumPlan {
  if (facts.chromiumPresent) return { action: 'use' };
  const where = `Chromium is not installed at ${facts.chromiumPath}, and the E2E tests drive the UI in it.`;
  if (facts.chromiumPath !== DEFAULT_CHROMIUM_PATH) {
    return {
      action: 'fail',
      message: `${where} RECKON_E2E_CHROMIUM names that path: point it at a Chromium that exists, or unset it to use ${DEFAULT_CHROMIUM_PATH}.`,
    };
  }
  if (!facts.hasAptGet) {
    return {
      action: 'fail',
      message: `${where} Install Chromium with your system's package manager and set RECKON_E2E_CHROMIUM to its executable, then run the tests again.`,
    };
  }
  if (!facts.isRoot) {
    return {
      action: 'fail',
      message: `${where} Installing it needs root: run "sudo apt-get update && sudo apt-get install -y chromium" (or run the tests as root, which installs it), then run the tests again.`,
    };
  }
  return { action: 'install', packages: ['chromium'] };
}

/** Run offline when a network namespace can be made (installing iproute2 if needed); else say why not. */
export function planOffline(facts: SystemFacts): OfflinePlan {
  const skipped = (why: string): OfflinePlan =>
    facts.ci
      ? { action: 'fail', message: `The offline E2E run is required in CI, but ${why}.` }
      : {
          action: 'online',
          note: `Offline check SKIPPED: ${why}, so the E2E suite runs with the network. Run the tests as root to prove Reckon works with no network.`,
        };
  if (!facts.canUnshareNetwork)
    return skipped('"unshare -n" is not permitted here (it needs root, or CAP_SYS_ADMIN)');
  if (facts.ipPath) return { action: 'offline', install: [] };
  if (facts.isRoot && facts.hasAptGet) return { action: 'offline', install: ['iproute2'] };
  return skipped('"ip" (iproute2) is missing, so loopback cannot be brought up in the namespace');
}

/** Looks the facts up on this machine. */
export function inspectSystem(): SystemFacts {
  return {
    chromiumPath: CHROMIUM_PATH,
    chromiumPresent: fs.existsSync(CHROMIUM_PATH),
    isRoot: process.getuid?.() === 0,
    hasAptGet: findCommand('apt-get') !== null,
    canUnshareNetwork: findCommand('unshare') !== null && spawnSync('unshare', ['-n', 'true']).status === 0,
    ipPath: findCommand('ip'),
    ci: isCi(),
  };
}

/** The executable `command` on PATH, or in /usr/sbin or /sbin (where `ip` lives, often not on PATH). */
function findCommand(command: string): string | null {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/sbin', '/sbin']) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** Runs a command with its output shown, echoing it first; exits the process when it fails. */
function step(command: string, args: string[], options: SpawnSyncOptions = {}): void {
  console.log(`e2e: + ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`e2e: "${command} ${args.join(' ')}" failed (${result.status ?? result.signal}).`);
    process.exit(1);
  }
}

function installDebianPackages(packages: string[]): void {
  console.log(`e2e: installing Debian's ${packages.join(', ')} for the E2E suite:`);
  step('apt-get', ['update']);
  step('apt-get', ['install', '-y', ...packages], {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
}

function main(vitestArgs: string[]): number {
  const facts = inspectSystem();
  const chromium = planChromium(facts);
  if (chromium.action === 'fail') {
    console.error(loudNotice(`E2E tests cannot run: ${chromium.message}`));
    return 1;
  }
  if (chromium.action === 'install') {
    installDebianPackages(chromium.packages);
    if (!fs.existsSync(facts.chromiumPath)) {
      console.error(
        `e2e: installed ${chromium.packages.join(', ')}, yet ${facts.chromiumPath} is still missing.`,
      );
      return 1;
    }
  }
  const version = spawnSync(facts.chromiumPath, ['--version'], { encoding: 'utf8' }).stdout?.trim();
  console.log(`e2e: browser: ${version || 'Chromium'} at ${facts.chromiumPath}`);

  const offline = planOffline(facts);
  if (offline.action === 'fail') {
    console.error(loudNotice(offline.message));
    return 1;
  }
  const vitest = [
    path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
    'run',
    '--config',
    path.join(REPO_ROOT, 'vitest.e2e.config.ts'),
    ...vitestArgs,
  ];
  let result;
  if (offline.action === 'offline') {
    if (offline.install.length > 0) installDebianPackages(offline.install);
    const ip = facts.ipPath ?? findCommand('ip') ?? 'ip';
    console.log('e2e: running offline: a new network namespace with only loopback (unshare -n)');
    result = spawnSync(
      'unshare',
      ['-n', '--', 'sh', '-c', '"$0" link set lo up && exec "$@"', ip, process.execPath, ...vitest],
      { cwd: REPO_ROOT, stdio: 'inherit', env: { ...process.env, [OFFLINE_ENV_VAR]: '1' } },
    );
  } else {
    console.warn(loudNotice(offline.note));
    result = spawnSync(process.execPath, vitest, {
      cwd: REPO_ROOT,
      stdio: 'inherit',
      env: { ...process.env, [OFFLINE_ENV_VAR]: '0' },
    });
  }
  return result.status ?? 1;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = main(process.argv.slice(2));
}
