import { ExitCode } from './ExitCode.ts';
import type { ReckonError } from '../engine/errors.ts';

/**
 * Error codes that mean a value on the command line was wrong — a corpus, file, model, run or
 * catalog id that does not exist, a malformed model spec, an empty question — rather than that the
 * work itself failed. The CLI exits with ExitCode.USAGE (2) for them, as it does for an unknown
 * option or an invalid number, so scripts can tell "fix the command" from "it broke".
 */
export const USAGE_ERROR_CODES: ReadonlySet<string> = new Set([
  'BAD_CORPUS_NAME',
  'BAD_MODEL_SPEC',
  'CONFLICTING_OPTIONS',
  'CORPUS_REQUIRED',
  'CORPUS_NOT_FOUND',
  'DENSE_UNAVAILABLE',
  'EMPTY_PROGRAM',
  'EMPTY_QUESTION',
  'EXECUTION_NOT_FOUND',
  'FILE_NOT_FOUND',
  'INVALID_STRATEGY_OPTIONS',
  'MODEL_NOT_FOUND',
  'OUTSIDE_MODELS_DIR',
  'PATH_NOT_FOUND',
  'RUN_NOT_FOUND',
  'UNKNOWN_MODEL',
  'UNKNOWN_STRATEGY',
]);

/** The exit code for an error that ended a command: USAGE, CANCELLED or ERROR. */
export function exitCodeForError(error: ReckonError): number {
  if (error.code === 'CANCELLED') return ExitCode.CANCELLED;
  return USAGE_ERROR_CODES.has(error.code) ? ExitCode.USAGE : ExitCode.ERROR;
}
