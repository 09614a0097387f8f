import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import { Option } from 'commander';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { DEFAULT_SEARCH_K, SEARCH_MODES, type SearchMode } from '../../engine/corpus/search/searchCorpus.ts';
import { DEFAULT_BM25_MAX_POSTINGS } from '../../engine/corpus/search/bm25Plan.ts';
import { parseNonNegativeInt, parsePositiveInt, type CommandRunner } from './shared.ts';

/** Characters of each hit's text shown in human output. */
const PREVIEW_CHARS = 240;

export function registerSearch(program: Command, run: CommandRunner): void {
  program
    .command('search')
    .description(COMMAND_SUMMARIES.search.description)
    .argument('<query>', 'what to look for')
    .requiredOption('-c, --corpus <name>', 'corpus to search')
    .option('-k, --k <n>', 'number of results', parsePositiveInt, DEFAULT_SEARCH_K)
    .addOption(new Option('--mode <mode>', 'bm25, dense or hybrid').choices(SEARCH_MODES).default('hybrid'))
    .option('--embedder <dir>', "embedding model folder for the query (default: the corpus's own)")
    .option(
      '--bm25-max-postings <n>',
      `score at most n passages in BM25 (counted once per query word); past it the commonest query words are left out, with a warning; 0 scores every word (default: ${DEFAULT_BM25_MAX_POSTINGS})`,
      parseNonNegativeInt,
    )
    .option('--json', 'print the result as JSON')
    .action((query: string, options: SearchCliOptions) => run((ctx) => searchCommand(ctx, query, options)));
}

interface SearchCliOptions {
  corpus: string;
  k: number;
  mode: SearchMode;
  embedder?: string;
  bm25MaxPostings?: number;
  json?: boolean;
}

async function searchCommand(ctx: CliContext, query: string, options: SearchCliOptions): Promise<number> {
  const result = await ctx.engine.search(options.corpus, query, {
    k: options.k,
    mode: options.mode,
    ...(options.bm25MaxPostings !== undefined ? { bm25MaxPostings: options.bm25MaxPostings } : {}),
    signal: ctx.signal,
    ...(options.embedder ? { embedder: { dir: path.resolve(options.embedder) } } : {}),
  });
  for (const warning of result.warnings) ctx.err(`warning: ${warning}`);
  if (options.json) {
    ctx.json({ corpus: options.corpus, query, ...result });
    return ExitCode.OK;
  }
  if (result.hits.length === 0) ctx.out('No results.');
  result.hits.forEach((hit, i) => {
    const where = `${hit.path}${hit.page !== null ? ` p.${hit.page}` : ''} [${hit.start}–${hit.end}]`;
    const preview = hit.text.length > PREVIEW_CHARS ? `${hit.text.slice(0, PREVIEW_CHARS)}…` : hit.text;
    ctx.out(
      `${i + 1}. ${hit.title}  (score ${hit.score.toFixed(4)}, chunk ${hit.chunkId})\n   ${where}\n   ${preview.replace(/\n/g, ' ')}\n`,
    );
  });
  return ExitCode.OK;
}
