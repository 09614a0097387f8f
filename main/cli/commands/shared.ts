import { InvalidArgumentError } from 'commander';
import type { CliContext } from '../CliContext.ts';

/** Runs a command body with the shared context and turns its outcome into an exit code. */
export type CommandRunner = (body: (ctx: CliContext) => Promise<number>) => Promise<void>;

export function parseNonNegativeInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0)
    throw new InvalidArgumentError('expected a whole number, 0 or more.');
  return parsed;
}

export function parsePositiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive whole number.');
  return parsed;
}
