import { ParseError } from '../../errors.ts';
import type { ParseLimits } from './ParsedFile.ts';

/** What every format loader is given besides the file's bytes. */
export interface LoaderContext {
  /** The file's base name, for titles and messages. */
  fileName: string;
  limits: ParseLimits;
  signal?: AbortSignal | undefined;
}

/**
 * Throws ParseError `TEXT_TOO_LARGE` when `chars` exceeds `context.limits.maxTextChars`; call it as
 * text accumulates so a zip bomb or a huge PDF is stopped early. No defaults.
 */
export function assertTextWithinLimit(chars: number, context: LoaderContext): void {
  if (chars <= context.limits.maxTextChars) return;
  throw new ParseError(
    'TEXT_TOO_LARGE',
    `"${context.fileName}" holds more than ${formatChars(context.limits.maxTextChars)} of text, the ` +
      'limit for one file. It may be a zip bomb or an export of a whole archive; split it into ' +
      'smaller files, or raise the text limit in the settings if you trust it.',
  );
}

function formatChars(chars: number): string {
  const mebi = chars / (1024 * 1024);
  return mebi >= 1 ? `${Number(mebi.toFixed(1))} Mi characters` : `${chars} characters`;
}
