/**
 * The only errors the sandbox throws. Anything a guest program does comes back as a
 * SandboxRunResult value; these are for the caller's own mistakes and for a broken installation.
 */
import { ReckonError } from '../errors.ts';

/**
 * The sandbox was called wrongly: a script that is not a string, tools without `retrieve`/`answer`,
 * a limit out of range (for example `stackBytes` above 256 KiB, which would let runaway recursion
 * crash the whole process), or a run on a host that was closed. Code `SANDBOX_INVALID_OPTIONS` or
 * `SANDBOX_CLOSED`.
 */
export class SandboxUsageError extends ReckonError {
  override name = 'SandboxUsageError';
  constructor(code: 'SANDBOX_INVALID_OPTIONS' | 'SANDBOX_CLOSED', message: string) {
    super(code, message);
  }
}

/**
 * The sandbox worker could not start (the QuickJS WebAssembly module or the worker script failed to
 * load). Code `SANDBOX_UNAVAILABLE`; the cause is kept. Reinstalling dependencies usually fixes it.
 */
export class SandboxUnavailableError extends ReckonError {
  override name = 'SandboxUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('SANDBOX_UNAVAILABLE', message, options);
  }
}

/**
 * Thrown by a host tool's `validate` when a program called it with arguments it cannot take; the
 * message says what is wrong ("k must be a whole number from 1 to 50, not a string") and the run
 * ends with `InvalidHostArgument`, the message and the tool's usage line going back to the model.
 */
export class HostArgumentError extends Error {
  override name = 'HostArgumentError';
}
