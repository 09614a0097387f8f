/**
 * The one door into the AppService for anything that arrives from outside the process: the
 * Electron IPC handler and the browser host's WebSocket both call dispatchCommand with whatever
 * they received. It refuses unknown commands, parses the input with the contract's schema, runs the
 * command and turns every outcome into an InvokeResult — a value, or an error as {name, code,
 * message} that the UI can branch on and show. Nothing thrown ever escapes, and no error is ever
 * stringified wholesale.
 */
import {
  commands,
  isCommandName,
  type CommandName,
  type ErrorPayload,
  type InvokeResult,
} from '../../../preload/contract.ts';
import { ReckonError, toReckonError } from '../errors.ts';
import { formatZodIssues } from '../runs/parseTraceEvent.ts';
import type { AppService, ServiceInput } from './AppService.ts';

/** Options of dispatchCommand; all optional. */
export interface DispatchOptions {
  /**
   * Check every result against the contract's output schema; a mismatch becomes an INTERNAL error
   * (a bug to fix, caught in tests and development). Default: false.
   */
  validateOutput?: boolean;
  /** Told about each unexpected (non-Reckon) error, with the original. Default: console.error. */
  onUnexpectedError?: (error: unknown, command: string) => void;
}

/**
 * Runs the command `name` with `input` on `service`. An unknown name gives code 'UNKNOWN_COMMAND';
 * an input that does not match the contract gives code 'BAD_INPUT' with a message naming each
 * failing field (a missing input counts as `{}`); a ReckonError thrown by the command keeps its
 * name, code and message; anything else gives name 'ReckonError', code 'INTERNAL' and a generic
 * message that includes the original one. Defaults: see DispatchOptions.
 */
export async function dispatchCommand(
  service: Pick<AppService, 'handle'>,
  name: unknown,
  input: unknown,
  options: DispatchOptions = {},
): Promise<InvokeResult> {
  if (!isCommandName(name)) {
    const shown = typeof name === 'string' ? `"${name.slice(0, 80)}"` : `a ${typeof name}`;
    return failure({
      name: 'ReckonError',
      code: 'UNKNOWN_COMMAND',
      message: `Reckon has no command ${shown}. The app and its interface may be from different versions; reload or reinstall it.`,
    });
  }
  const parsed = commands[name].input.safeParse(input ?? {});
  if (!parsed.success) {
    return failure({
      name: 'ReckonError',
      code: 'BAD_INPUT',
      message: `Invalid input for ${name}: ${formatZodIssues(parsed.error)}.`,
    });
  }
  let value: unknown;
  try {
    value = await service.handle(name, parsed.data as ServiceInput<CommandName>);
  } catch (error) {
    return failure(describeError(error, name, options));
  }
  if (options.validateOutput) {
    const checked = commands[name].output.safeParse(value);
    if (!checked.success) {
      return failure(
        describeError(
          new Error(
            `${name} returned a result that does not match the contract (${formatZodIssues(checked.error)})`,
          ),
          name,
          options,
        ),
      );
    }
    value = checked.data;
  }
  return { ok: true, value };
}

function describeError(error: unknown, command: string, options: DispatchOptions): ErrorPayload {
  const known = error instanceof ReckonError ? error : toReckonError(error);
  // toReckonError keeps ReckonErrors and turns AbortErrors into CancelledError: both are expected.
  if (error instanceof ReckonError || known.code === 'CANCELLED') {
    return { name: known.name, code: known.code, message: known.message };
  }
  (options.onUnexpectedError ?? defaultUnexpected)(error, command);
  return {
    name: 'ReckonError',
    code: 'INTERNAL',
    message: `Something unexpected went wrong while running ${command} (${known.message}). Try again; if it keeps happening, report this message.`,
  };
}

function defaultUnexpected(error: unknown, command: string): void {
  console.error(`Unexpected error in ${command}:`, error);
}

function failure(error: ErrorPayload): InvokeResult {
  return { ok: false, error };
}
