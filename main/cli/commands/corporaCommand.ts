import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import type { CommandRunner } from './shared.ts';
import { formatCount } from '../formatCount.ts';

export function registerCorpora(program: Command, run: CommandRunner): void {
  const corpora = program.command('corpora').description(COMMAND_SUMMARIES.corpora.description);
  corpora
    .command('list', { isDefault: true })
    .description('List the corpora in the data directory (default).')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }, command: Command) =>
      run((ctx) =>
        listCorpora(ctx, { json: options.json ?? command.parent?.opts<{ json?: boolean }>().json }),
      ),
    );
  corpora
    .command('remove')
    .description('Delete a corpus and its indexes (your files are not touched).')
    .argument('<name>')
    .option('--json', 'print as JSON')
    .action((name: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        ctx.engine.removeCorpus(name);
        if (options.json) ctx.json({ removed: name });
        else ctx.out(`Removed corpus "${name}".`);
        return ExitCode.OK;
      }),
    );
  corpora.option('--json', 'print as JSON');
}

async function listCorpora(ctx: CliContext, options: { json?: boolean | undefined }): Promise<number> {
  const list = ctx.engine.listCorpora();
  // A damaged corpus is listed with its error and fix; the command still succeeds for the others.
  if (options.json) {
    ctx.json({
      dataDir: ctx.settings.dataDir,
      corpora: list.map(({ name, dir, stats, error }) => ({ name, dir, ...stats, error })),
    });
    return ExitCode.OK;
  }
  if (list.length === 0) {
    ctx.out(`No corpora in ${ctx.settings.dataDir}. Create one with: reckon ingest <paths…> --corpus <name>`);
    return ExitCode.OK;
  }
  for (const { name, stats, error } of list) {
    if (!stats) {
      ctx.out(`${name}: DAMAGED (${error?.code ?? 'STORE_UNREADABLE'})\n  ${error?.message ?? ''}`);
      continue;
    }
    ctx.out(
      `${name}: ${formatCount(stats.documents, 'document')} (${formatCount(stats.sections, 'section')})${stats.failedDocuments ? ` (+${stats.failedDocuments} failed)` : ''}, ${formatCount(stats.chunks, 'chunk')}, ${formatCount(stats.vectors, 'vector')}${stats.embedderId ? ` (${stats.embedderId}, ${stats.dimension}-d)` : ' (BM25 only)'}`,
    );
  }
  return ExitCode.OK;
}
