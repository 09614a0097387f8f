/** Longest message the CLI prints for one error; the rest is cut with a note of how much was left out. */
export const MAX_TERMINAL_MESSAGE_CHARS = 2000;

/**
 * Control characters other than newline and tab (C0, DEL, C1): a message quoting a binary file or a
 * hostile file name must not move the cursor, recolour or retitle the user's terminal.
 */
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * Makes text safe to print on a terminal: control characters (but newline and tab) are shown as
 * `\xNN` escapes, and text longer than `maxChars` (default MAX_TERMINAL_MESSAGE_CHARS) is cut.
 */
export function sanitizeTerminalText(text: string, maxChars = MAX_TERMINAL_MESSAGE_CHARS): string {
  const escaped = text.replace(
    CONTROL_CHARS,
    (char) => `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (escaped.length <= maxChars) return escaped;
  return `${escaped.slice(0, maxChars)}… (${escaped.length - maxChars} more characters)`;
}
