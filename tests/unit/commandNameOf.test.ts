import { describe, expect, it } from 'vitest';
import { commandNameOf } from '../../main/cli/main.ts';
import { COMMAND_SUMMARIES } from '../../main/cli/commands/commandSummaries.ts';

describe('commandNameOf (which command module the CLI loads)', () => {
  it.each([
    [['ask', 'Who?', '--corpus', 'c'], 'ask'],
    [['--data-dir', 'ask', 'search', 'q'], 'search'],
    [['--models-dir', '/m', 'run-program', 'x.js'], 'run-program'],
    [['help', 'eval'], 'eval'],
    [['--json', 'corpora', 'list'], 'corpora'],
    [['--help'], undefined],
    [[], undefined],
    [['frobnicate'], undefined],
    [['help'], undefined],
  ])('%j → %s', (args, expected) => {
    expect(commandNameOf(args)).toBe(expected);
  });

  it('knows every command the summaries list', () => {
    for (const name of Object.keys(COMMAND_SUMMARIES)) expect(commandNameOf([name])).toBe(name);
  });
});
