import { CancelledError } from '../errors.ts';

/**
 * Settles like `promise`, but rejects as soon as `signal` fires, even when the work behind the
 * promise ignores the signal (it keeps running; its eventual rejection is swallowed). The rejection
 * is `signal.reason` when `reason` is 'signal' (so a timeout stays a timeout), else CancelledError.
 * Default: 'cancelled'.
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  options: { reason?: 'signal' | 'cancelled' } = {},
): Promise<T> {
  const abortError = (): unknown => (options.reason === 'signal' ? signal.reason : new CancelledError());
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => undefined);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
