/**
 * The CLI's output helpers: counts with the right noun form, terminal-safe error text, and which
 * errors are usage errors (exit 2).
 */
import { describe, expect, it } from 'vitest';
import { formatCount } from '../../main/cli/formatCount.ts';
import { MAX_TERMINAL_MESSAGE_CHARS, sanitizeTerminalText } from '../../main/cli/sanitizeTerminalText.ts';
import { exitCodeForError } from '../../main/cli/exitCodeForError.ts';
import { ExitCode } from '../../main/cli/CliContext.ts';
import {
  CancelledError,
  CorpusNotFoundError,
  ModelNotFoundError,
  ReckonError,
} from '../../main/engine/errors.ts';

describe('formatCount', () => {
  it('uses the singular for exactly one and the plural otherwise', () => {
    expect([0, 1, 2].map((n) => formatCount(n, 'file'))).toEqual(['0 files', '1 file', '2 files']);
    expect(formatCount(1, 'retry', 'retries')).toBe('1 retry');
    expect(formatCount(3, 'retry', 'retries')).toBe('3 retries');
  });
});

describe('sanitizeTerminalText', () => {
  it('escapes control characters but keeps newlines, tabs and other Unicode', () => {
    expect(sanitizeTerminalText('bad \u001b[2J\u0007\r\u0000\u009b byte\n\tcafé ✓')).toBe(
      'bad \\x1b[2J\\x07\\x0d\\x00\\x9b byte\n\tcafé ✓',
    );
  });

  it('cuts very long messages and says how much was left out', () => {
    const long = sanitizeTerminalText('x'.repeat(MAX_TERMINAL_MESSAGE_CHARS + 10));
    expect(long).toBe(`${'x'.repeat(MAX_TERMINAL_MESSAGE_CHARS)}… (10 more characters)`);
  });
});

describe('exitCodeForError', () => {
  it('exits 2 for a bad value on the command line, 130 when cancelled, 1 otherwise', () => {
    expect(exitCodeForError(new CorpusNotFoundError('nope'))).toBe(ExitCode.USAGE);
    expect(exitCodeForError(new ModelNotFoundError('no such file'))).toBe(ExitCode.USAGE);
    for (const code of ['BAD_MODEL_SPEC', 'EMPTY_QUESTION', 'PATH_NOT_FOUND', 'BAD_CORPUS_NAME']) {
      expect(exitCodeForError(new ReckonError(code, 'x')), code).toBe(ExitCode.USAGE);
    }
    expect(exitCodeForError(new CancelledError())).toBe(ExitCode.CANCELLED);
    expect(exitCodeForError(new ReckonError('WRITER_LOCKED', 'busy'))).toBe(ExitCode.ERROR);
    expect(exitCodeForError(new ReckonError('INTERNAL', 'bug'))).toBe(ExitCode.ERROR);
  });
});
