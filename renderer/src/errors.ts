/**
 * Errors from the bridge arrive as Error objects with `name`, `code` and a `message` that says what
 * to do. The UI shows the message — never `String(err)`, which would prefix the class name.
 */

export interface UiError {
  message: string;
  code: string | null;
}

/** The user-facing message of anything thrown by invoke() (or anything else). */
export function errorMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const message = (error as { message: unknown }).message;
    if (typeof message === 'string' && message.trim() !== '') return message;
  }
  if (typeof error === 'string' && error.trim() !== '') return error;
  return 'Something went wrong and no details were given. Try again; if it keeps failing, check the terminal running Reckon.';
}

/** The stable error code, when there is one (e.g. MODEL_NOT_FOUND). */
export function errorCode(error: unknown): string | null {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return null;
}

export function toUiError(error: unknown): UiError {
  return { message: errorMessage(error), code: errorCode(error) };
}
