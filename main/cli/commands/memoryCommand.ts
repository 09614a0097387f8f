import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import { Option, type Command } from 'commander';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import { ReckonError } from '../../engine/errors.ts';
import { EVAL_DATASET_FORMATS, type EvalDatasetFormat } from '../../engine/eval/datasets/EvalItem.ts';
import { loadEvalDataset } from '../../engine/eval/datasets/loadEvalDataset.ts';
import {
  DEFAULT_MEMORY_FOLDS,
  MemoryLibrary,
  type MemorySummary,
  type SolvedExampleMemory,
} from '../../engine/corpus/memory/SolvedExampleMemory.ts';
import {
  embedSolvedExamples,
  type EmbedSolvedExamplesResult,
} from '../../engine/corpus/memory/embedSolvedExamples.ts';
import type { EmbedderChoice } from '../../engine/createEngine.ts';
import type { Embedder } from '../../engine/models/Embedder.ts';
import { withRetry } from '../../engine/models/RetryPolicy.ts';
import {
  buildSolvedExampleMemory,
  type BuildMemoryProgress,
  type SolvedPair,
} from '../../engine/strategies/icrag/buildSolvedExampleMemory.ts';
import { openMemoryEmbedder } from '../../engine/strategies/icrag/openMemoryEmbedder.ts';
import { checkRunArguments } from './checkRunArguments.ts';

interface BuildOptions {
  dataset: string;
  name: string;
  model: string;
  kFold: number;
  limit?: number;
  seed?: number;
  format?: EvalDatasetFormat;
  text?: boolean;
  embedder?: string;
  reembed?: boolean;
  threads?: number;
  contextSize?: number;
  quiet?: boolean;
  json?: boolean;
}

/**
 * `reckon memory build|list|remove`: ICRAG's R2, memories of solved examples built from a dataset
 * (any format `reckon eval` reads, including your own CSV/JSONL of question + answer).
 */
export function registerMemory(program: Command, run: CommandRunner): void {
  const memory = program.command('memory').description(COMMAND_SUMMARIES.memory.description);
  memory
    .command('build')
    .description(
      'Ask the model for a program per (task, answer) pair of a dataset and store them, with their k-fold fold, as a searchable memory. Resumable: run it again to continue.',
    )
    .requiredOption(
      '-d, --dataset <file>',
      'dataset file: any format reckon eval reads, or your CSV/JSONL of question + answer',
    )
    .requiredOption('-n, --name <memory>', 'name of the memory (created or continued)')
    .requiredOption('-m, --model <spec>', 'a .gguf file, openai:<baseURL>#<model>, or replay:<file.jsonl>')
    .option(
      '--k-fold <k>',
      `folds: pair i goes to fold i mod k (default ${DEFAULT_MEMORY_FOLDS})`,
      parsePositiveInt,
      DEFAULT_MEMORY_FOLDS,
    )
    .option('--limit <n>', 'use the first n pairs (or n sampled with --seed)', parsePositiveInt)
    .option('--seed <n>', 'sample --limit pairs with this seed', (value) => Number.parseInt(value, 10))
    .addOption(
      new Option('--format <format>', 'read the dataset as this format instead of recognizing it').choices(
        EVAL_DATASET_FORMATS,
      ),
    )
    .option('--text', 'also store a natural-language solution per pair (for memoryFormat=text, ICRAG_NL)')
    .option(
      '--embedder <dir|none>',
      'embedding model folder for dense search of the tasks, or "none" for BM25 only (default: the memory\'s own, else one in models/embedders)',
    )
    .option(
      '--reembed',
      "replace every vector of the memory with the chosen embedder's (after changing embedder)",
    )
    .option('--threads <n>', 'llama.cpp threads (default: physical cores less one)', parsePositiveInt)
    .option('--context-size <n>', 'llama.cpp context size in tokens', parsePositiveInt)
    .option('-q, --quiet', 'no progress on stderr')
    .option('--json', 'print the result as JSON')
    .action((options: BuildOptions) => run((ctx) => build(ctx, options)));

  memory
    .command('list')
    .description(
      'List the memories of solved examples, with their examples per fold and their vectors (embedder, dimension).',
    )
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        const memories = ctx.engine.memories.list();
        if (options.json) {
          ctx.json({ memories });
          return ExitCode.OK;
        }
        if (memories.length === 0)
          ctx.out('No memories yet (reckon memory build --dataset <file> --name <memory> --model <spec>).');
        for (const summary of memories) {
          if (summary.error) {
            ctx.out(`${summary.name}  unreadable: ${summary.error.message}`);
            continue;
          }
          const folds = Object.entries(summary.folds)
            .map(([fold, n]) => `${fold}:${n}`)
            .join(' ');
          const info = summary.info;
          ctx.out(
            `${summary.name}  ${summary.examples} examples${summary.failures ? `, ${summary.failures} failed` : ''}  folds ${folds || '-'}${info ? `  k=${info.folds}  from ${path.basename(info.dataset)} by ${info.model}${info.withText ? '  with text' : ''}` : ''}  ${describeVectors(summary)}`,
          );
        }
        return ExitCode.OK;
      }),
    );

  memory
    .command('remove')
    .description('Delete a memory of solved examples.')
    .argument('<name>')
    .action((name: string) =>
      run(async (ctx) => {
        MemoryLibrary.validateName(name);
        ctx.engine.memories.remove(name);
        ctx.out(`Removed memory ${name}.`);
        return ExitCode.OK;
      }),
    );
}

async function build(ctx: CliContext, options: BuildOptions): Promise<number> {
  MemoryLibrary.validateName(options.name);
  checkRunArguments({ model: options.model }, ctx.settings.modelsDir);
  const dataset = await loadEvalDataset(options.dataset, {
    ...(options.format ? { format: options.format } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
    ...(options.seed !== undefined && Number.isFinite(options.seed) ? { seed: options.seed } : {}),
    signal: ctx.signal,
  });
  const pairs: SolvedPair[] = dataset.items.flatMap((item) => {
    const answer = item.gold.answers[0];
    return answer === undefined ? [] : [{ id: item.id, task: item.input.question, answer }];
  });
  const memory = ctx.engine.memories.open(options.name, { write: true });
  try {
    const info = memory.info();
    if (info && info.folds !== options.kFold) {
      throw new ReckonError(
        'MEMORY_MISMATCH',
        `The memory ${options.name} was built with --k-fold ${info.folds}; continue it with the same k, or remove it first (reckon memory remove ${options.name}).`,
      );
    }
    // Decided before any model call, so a mismatch fails fast and nothing is built without vectors.
    const embedding = await chooseMemoryEmbedder(ctx, memory, options);
    memory.setInfo({
      name: options.name,
      model: options.model,
      dataset: path.resolve(options.dataset),
      folds: options.kFold,
      withText: (info?.withText ?? false) || options.text === true,
      createdAt: info?.createdAt ?? Date.now(),
    });
    const lease = await ctx.llmProvider({
      ...(options.threads ? { threads: options.threads } : {}),
      ...(options.contextSize ? { contextSize: options.contextSize } : {}),
    })(options.model, ctx.signal);
    let result;
    try {
      const started = Date.now();
      result = await buildSolvedExampleMemory({
        memory,
        llm: withRetry(lease.backend, {}),
        pairs,
        folds: options.kFold,
        withText: options.text === true,
        signal: ctx.signal,
        onProgress: (progress) => {
          if (!options.quiet) ctx.err(describeProgress(progress, Date.now() - started));
        },
      });
    } finally {
      await lease.release();
    }
    let embedded: EmbedSolvedExamplesResult | null = null;
    if ('embedder' in embedding && !result.cancelled) {
      if (options.reembed && memory.embedderBinding()) memory.clearVectors();
      embedded = await embedSolvedExamples({
        memory,
        embedder: embedding.embedder,
        signal: ctx.signal,
        onProgress: (progress) => {
          if (!options.quiet) ctx.err(`[embedded ${progress.embedded}/${progress.total}]`);
        },
      });
    }
    const binding = memory.embedderBinding();
    const summary = {
      memory: options.name,
      dataset: { path: options.dataset, name: dataset.name, format: dataset.format, pairs: pairs.length },
      folds: options.kFold,
      ...result,
      examples: memory.count(),
      foldSizes: Object.fromEntries([...memory.foldSizes()].map(([fold, n]) => [String(fold), n])),
      vectors: binding
        ? { ...binding, count: memory.countVectors(), embedded: embedded?.embedded ?? 0 }
        : null,
      embeddingSkipped: 'unavailable' in embedding ? embedding.unavailable : null,
    };
    if (options.json) ctx.json(summary);
    else {
      ctx.out(
        `Memory ${options.name}: ${summary.examples} examples (${result.built} new, ${result.skipped} already there, ${result.failed} failed) from ${pairs.length} pairs of ${dataset.name}, k=${options.kFold}.`,
      );
      if (summary.vectors)
        ctx.out(
          `Vectors: ${summary.vectors.count} of ${summary.examples} examples embedded with ${summary.vectors.modelId} (${summary.vectors.dimension}-d); R2 search can be hybrid or dense.`,
        );
      if ('unavailable' in embedding)
        ctx.out(
          `Note: no vectors were computed (${embedding.unavailable}); R2 search of this memory uses BM25.`,
        );
      if (result.cancelled || embedded?.cancelled)
        ctx.out('Stopped early; run the same command again to continue.');
    }
    const cancelled = result.cancelled || embedded?.cancelled === true;
    return cancelled ? ExitCode.CANCELLED : result.failed > 0 ? ExitCode.PARTIAL : ExitCode.OK;
  } finally {
    memory.close();
  }
}

/**
 * The embedder of a build, as ingest picks one (--embedder, else the memory's own, else an installed
 * one), or why there is none — then the memory is BM25-only. A memory that already has vectors is
 * never continued without them or with another embedder's: that is an error, unless --reembed.
 */
async function chooseMemoryEmbedder(
  ctx: CliContext,
  memory: SolvedExampleMemory,
  options: BuildOptions,
): Promise<{ embedder: Embedder } | { unavailable: string }> {
  const choice: EmbedderChoice =
    options.embedder === undefined
      ? 'auto'
      : options.embedder === 'none'
        ? 'none'
        : { dir: path.resolve(options.embedder) };
  if (options.reembed && choice === 'none')
    throw new ReckonError('BAD_ARGUMENT', '--reembed needs an embedder: drop --embedder none.');
  const bound = memory.embedderBinding();
  return openMemoryEmbedder(ctx.engine, memory, choice, {
    reembed: options.reembed === true,
    unavailableAdvice: `Install ${bound?.modelId ?? 'it'} in models/embedders, or re-embed with another model (--embedder <dir> --reembed), or remove the memory first.`,
  });
}

/** "vectors: <embedder> <d>-d (<n>)" or "no vectors (BM25 only)". */
function describeVectors(summary: MemorySummary): string {
  return summary.vectors
    ? `vectors ${summary.vectors.modelId} ${summary.vectors.dimension}-d (${summary.vectors.count}/${summary.examples})`
    : 'no vectors (BM25 only)';
}

function describeProgress(progress: BuildMemoryProgress, elapsedMs: number): string {
  const worked = progress.built + progress.failed;
  const left = progress.total - progress.done;
  const eta = worked > 0 ? ` ETA ${Math.round(((elapsedMs / worked) * left) / 1000)}s` : '';
  return `[${progress.done}/${progress.total}] ${progress.itemId}: ${progress.built} built, ${progress.skipped} skipped, ${progress.failed} failed${eta}`;
}
