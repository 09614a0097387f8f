import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './SandboxTypes.ts';
import { SandboxUsageError } from './sandboxErrors.ts';

/**
 * Largest accepted `stackBytes`. Above about 256 KiB (or with 0, "no limit") runaway recursion in the
 * guest overflows the WebAssembly stack before QuickJS notices, which kills the whole process
 * instead of failing the program with `StackOverflow`.
 */
export const MAX_SANDBOX_STACK_BYTES = 256 * 1024;
/** Smallest accepted `stackBytes`: below this even the sandbox's own setup code cannot run. */
export const MIN_SANDBOX_STACK_BYTES = 32 * 1024;
/** Smallest accepted `memoryBytes`: a QuickJS context with its builtins needs a few hundred KiB. */
export const MIN_SANDBOX_MEMORY_BYTES = 1024 * 1024;
/** Largest accepted `memoryBytes` (QuickJS runs in 32-bit WebAssembly). */
export const MAX_SANDBOX_MEMORY_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/**
 * Completes `overrides` with DEFAULT_SANDBOX_LIMITS (64 MiB memory, 256 KiB stack, 20 s deadline on
 * guest time, 10 min host-time budget, 2 s watchdog grace, 64 host calls, 32 KiB of arguments per call, 64 KiB of console output) and
 * checks every value. Throws SandboxUsageError (`SANDBOX_INVALID_OPTIONS`) for a value that is not a
 * number in range: memory 1 MiB–2 GiB, stack 32–256 KiB, deadline and host budget > 0, grace ≥ 0, and
 * non-negative integers for the counts and sizes (maxArgumentBytes ≥ 1). Undefined overrides are
 * ignored.
 */
export function resolveSandboxLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  const limits: SandboxLimits = { ...DEFAULT_SANDBOX_LIMITS };
  for (const key of Object.keys(DEFAULT_SANDBOX_LIMITS) as (keyof SandboxLimits)[]) {
    const value = overrides[key];
    if (value !== undefined) limits[key] = value;
  }
  checkInteger('memoryBytes', limits.memoryBytes, MIN_SANDBOX_MEMORY_BYTES, MAX_SANDBOX_MEMORY_BYTES);
  checkInteger('stackBytes', limits.stackBytes, MIN_SANDBOX_STACK_BYTES, MAX_SANDBOX_STACK_BYTES);
  checkNumber('deadlineMs', limits.deadlineMs, Number.MIN_VALUE, 24 * 60 * 60 * 1000);
  checkNumber('hostTimeBudgetMs', limits.hostTimeBudgetMs, Number.MIN_VALUE, 24 * 60 * 60 * 1000);
  checkNumber('watchdogGraceMs', limits.watchdogGraceMs, 0, 60 * 60 * 1000);
  checkInteger('maxHostCalls', limits.maxHostCalls, 0, 1_000_000);
  checkInteger('maxArgumentBytes', limits.maxArgumentBytes, 1, 64 * 1024 * 1024);
  checkInteger('maxLogBytes', limits.maxLogBytes, 0, 64 * 1024 * 1024);
  return limits;
}

function checkNumber(name: keyof SandboxLimits, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SandboxUsageError(
      'SANDBOX_INVALID_OPTIONS',
      `Sandbox limit "${name}" must be a number between ${min} and ${max}; got ${describe(value)}.`,
    );
  }
}

function checkInteger(name: keyof SandboxLimits, value: unknown, min: number, max: number): void {
  checkNumber(name, value, min, max);
  if (!Number.isInteger(value)) {
    throw new SandboxUsageError(
      'SANDBOX_INVALID_OPTIONS',
      `Sandbox limit "${name}" must be a whole number; got ${describe(value)}.`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value;
}
