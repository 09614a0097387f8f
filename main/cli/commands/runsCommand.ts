import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { TracePrinter } from '../TracePrinter.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import { atomicWriteFileSync } from '../../engine/util/atomicWrite.ts';
import { ReckonError } from '../../engine/errors.ts';

export function registerRuns(program: Command, run: CommandRunner): void {
  const runs = program.command('runs').description(COMMAND_SUMMARIES.runs.description);
  runs
    .command('list', { isDefault: true })
    .description('Newest runs first.')
    .option('-n, --limit <n>', 'how many', parsePositiveInt, 20)
    .option('-s, --search <text>', 'only runs whose question or answer contains this')
    .option('--json', 'print as JSON')
    .action((options: { limit: number; search?: string; json?: boolean }) =>
      run(async (ctx) => {
        const list = ctx.runStore.listRuns({
          limit: options.limit,
          ...(options.search ? { search: options.search } : {}),
        });
        if (options.json) ctx.json({ runs: list });
        else if (list.length === 0)
          ctx.out('No runs yet. Ask something: reckon ask "<question>" --corpus <name> --model <spec>');
        else
          for (const r of list) {
            ctx.out(
              `${r.id}  ${r.status.padEnd(9)} ${r.strategy.padEnd(7)} ${truncate(r.question, 60)}${r.answer ? `  → ${truncate(r.answer, 40)}` : ''}`,
            );
          }
        return ExitCode.OK;
      }),
    );
  runs
    .command('show')
    .description('Print a saved run with its whole trace.')
    .argument('<id>')
    .option('--json', 'print as JSON')
    .action((id: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        const found = requireRun(ctx, id);
        if (options.json) ctx.json(found);
        else {
          const printer = new TracePrinter((line) => ctx.out(line));
          for (const event of found.events) printer.print(event);
          ctx.out(`\nStatus: ${found.run.status}`);
        }
        return ExitCode.OK;
      }),
    );
  runs
    .command('export')
    .description('Write a run as JSON, and optionally its model outputs as a replay file that reproduces it.')
    .argument('<id>')
    .option('-o, --out <file>', 'write the JSON here instead of stdout')
    .option('--replay <file>', 'also write the replay JSONL (use with --model replay:<file>)')
    .action((id: string, options: { out?: string; replay?: string }) =>
      run(async (ctx) => {
        requireRun(ctx, id);
        const exported = ctx.runStore.exportRun(id);
        if (options.out) atomicWriteFileSync(options.out, `${JSON.stringify(exported, null, 2)}\n`);
        else ctx.json(exported);
        if (options.replay) {
          atomicWriteFileSync(options.replay, ctx.runStore.exportReplay(id));
          ctx.err(
            `Replay file written to ${options.replay}: reckon ask "${exported.run.question}" --corpus ${exported.run.corpus ?? '<name>'} --model replay:${options.replay}`,
          );
        }
        if (options.out) ctx.err(`Run written to ${options.out}.`);
        return ExitCode.OK;
      }),
    );
}

function requireRun(ctx: CliContext, id: string) {
  const found = ctx.runStore.getRun(id);
  if (!found)
    throw new ReckonError('RUN_NOT_FOUND', `There is no run "${id}". List runs with: reckon runs list`);
  return found;
}

function truncate(text: string, n: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}
