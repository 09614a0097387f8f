import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { ProgressBar, formatSeconds } from '../ProgressBar.ts';
import type { EmbedderChoice } from '../../engine/createEngine.ts';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_PARSE_TIMEOUT_MS } from '../../engine/corpus/loaders/ParsedFile.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import { formatCount } from '../formatCount.ts';
import { sanitizeTerminalText } from '../sanitizeTerminalText.ts';

export function registerIngest(program: Command, run: CommandRunner): void {
  program
    .command('ingest')
    .description(COMMAND_SUMMARIES.ingest.description)
    .argument(
      '<paths...>',
      'files or folders (.txt .md .html .pdf .docx, source code, HotpotQA/2Wiki JSON, MuSiQue JSONL)',
    )
    .requiredOption('-c, --corpus <name>', 'corpus to add to (created if new)')
    .option(
      '--embedder <dir|none>',
      'embedding model folder, or "none" for BM25 only (default: the corpus\'s own, else one in models/embedders)',
    )
    .option('--concurrency <n>', 'files parsed at once', parsePositiveInt, 1)
    .option(
      '--max-file-mb <n>',
      'refuse files larger than this',
      parsePositiveInt,
      DEFAULT_MAX_FILE_BYTES / 2 ** 20,
    )
    .option(
      '--parse-timeout <seconds>',
      'stop parsing a file after this long',
      parsePositiveInt,
      DEFAULT_PARSE_TIMEOUT_MS / 1000,
    )
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the result as JSON')
    .action((paths: string[], options: IngestCliOptions) => run((ctx) => ingestCommand(ctx, paths, options)));
}

interface IngestCliOptions {
  corpus: string;
  embedder?: string;
  concurrency: number;
  maxFileMb: number;
  parseTimeout: number;
  quiet?: boolean;
  json?: boolean;
}

async function ingestCommand(ctx: CliContext, paths: string[], options: IngestCliOptions): Promise<number> {
  const embedder: EmbedderChoice =
    options.embedder === undefined
      ? 'auto'
      : options.embedder === 'none'
        ? 'none'
        : { dir: path.resolve(options.embedder) };
  const progress = new ProgressBar(ctx.io.stderr, options.quiet ?? false);
  let result;
  try {
    result = await ctx.engine.ingest(options.corpus, paths, {
      embedder,
      concurrency: options.concurrency,
      limits: { maxFileBytes: options.maxFileMb * 2 ** 20, timeoutMs: options.parseTimeout * 1000 },
      signal: ctx.signal,
      onProgress: (event) => progress.update(event),
    });
  } finally {
    progress.finish();
  }
  if (options.json) {
    ctx.json(result);
  } else {
    ctx.out(
      `Corpus "${result.corpus}": ${result.added} added, ${result.updated} updated, ${result.unchanged} unchanged, ${result.removed} removed, ${result.failed.length} failed; ${formatCount(result.chunksWritten, 'chunk')} written, ${result.chunksEmbedded} embedded in ${formatSeconds(result.durationMs / 1000)}.`,
    );
    for (const failure of result.failed)
      ctx.out(
        `  failed  ${sanitizeTerminalText(failure.path)}\n          ${failure.code}: ${sanitizeTerminalText(failure.message)}`,
      );
    for (const missing of result.missing)
      ctx.out(`  missing ${sanitizeTerminalText(missing)}: no such file or folder`);
    for (const skipped of result.skipped)
      ctx.out(
        `  skipped ${sanitizeTerminalText(skipped.path)}\n          ${skipped.code}: ${sanitizeTerminalText(skipped.reason)}`,
      );
    if (result.skippedUnsupported > 0)
      ctx.out(`Skipped ${formatCount(result.skippedUnsupported, 'file')} of unsupported types.`);
    if (result.embeddingSkipped)
      ctx.out(`Note: no vectors were computed (${result.embeddingSkipped}); search uses BM25.`);
    if (result.cancelled) ctx.out('Cancelled: run the same command again to finish.');
  }
  if (result.cancelled) return ExitCode.CANCELLED;
  return result.failed.length > 0 || result.missing.length > 0 || result.skipped.length > 0
    ? ExitCode.PARTIAL
    : ExitCode.OK;
}
