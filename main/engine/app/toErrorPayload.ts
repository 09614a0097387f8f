import type { ErrorPayload } from '../../../preload/contract.ts';
import { CancelledError, toReckonError } from '../errors.ts';

/** The {name, code, message} an error crosses the boundary as (a job's or a download's error). */
export function toErrorPayload(error: unknown): ErrorPayload {
  const reckonError = error instanceof CancelledError ? error : toReckonError(error);
  return { name: reckonError.name, code: reckonError.code, message: reckonError.message };
}
