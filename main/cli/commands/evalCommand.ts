import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import { Option, type Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import type { CommandRunner } from './shared.ts';
import { ReckonError } from '../../engine/errors.ts';
import { EVAL_DATASET_FORMATS, type EvalDatasetFormat } from '../../engine/eval/datasets/EvalItem.ts';
import { loadEvalDataset } from '../../engine/eval/datasets/loadEvalDataset.ts';
import { parsePredictions } from '../../engine/eval/scoring/parsePredictions.ts';
import { scorePredictions } from '../../engine/eval/scoring/scorePredictions.ts';

/** How many missing or unknown ids the text output lists before "…and N more". */
const LISTED_IDS = 10;

/**
 * `reckon eval …`: evaluation on QA and reasoning datasets. Registers `eval score` and returns the
 * `eval` command, so that running methods over a dataset can hang its options and action on it.
 */
export function registerEval(program: Command, run: CommandRunner): Command {
  const evalCommand = program.command('eval').description(COMMAND_SUMMARIES.eval.description);
  evalCommand
    .command('score')
    .description(
      "Score a predictions file against a dataset with the official rules (HotpotQA's {answer, sp}, {id: answer} JSON, or JSON lines of {id, prediction}).",
    )
    .requiredOption('-d, --dataset <file>', 'the dataset file (format recognized from its content)')
    .requiredOption('-p, --predictions <file>', 'the predictions file')
    .addOption(
      new Option('--format <format>', 'read the dataset as this format instead of recognizing it').choices(
        EVAL_DATASET_FORMATS,
      ),
    )
    .option('--json', 'print as JSON, with every question’s score')
    .action((options: ScoreOptions) => run((ctx) => score(ctx, options)));
  return evalCommand;
}

interface ScoreOptions {
  dataset: string;
  predictions: string;
  format?: EvalDatasetFormat;
  json?: boolean;
}

async function score(ctx: CliContext, options: ScoreOptions): Promise<number> {
  const dataset = await loadEvalDataset(options.dataset, {
    ...(options.format ? { format: options.format } : {}),
    signal: ctx.signal,
  });
  let text: string;
  try {
    text = await fs.promises.readFile(options.predictions, 'utf8');
  } catch (error) {
    throw new ReckonError(
      'FILE_NOT_FOUND',
      `Cannot read the predictions ${options.predictions}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { format, predictions } = parsePredictions(text, path.basename(options.predictions));
  const result = scorePredictions(dataset, predictions);

  if (options.json) {
    const { dataset: _name, ...scores } = result;
    ctx.json({
      dataset: {
        path: options.dataset,
        name: dataset.name,
        kind: dataset.kind,
        format: dataset.format,
        questions: dataset.items.length,
        notes: dataset.notes,
      },
      predictions: { path: options.predictions, format, count: predictions.size },
      ...scores,
    });
    return ExitCode.OK;
  }

  ctx.out(
    `${dataset.name} (${path.basename(options.dataset)}, ${dataset.format}): ${result.questions} questions, ${result.answered} answered, ${result.missing} missing`,
  );
  for (const note of dataset.notes) ctx.out(`  note: ${note}`);
  for (const summary of result.summaries) {
    ctx.out(
      `\nrule ${summary.rule}${result.summaries.length > 1 ? ` (${summary.questions} questions)` : ''}`,
    );
    const width = Math.max(...summary.metrics.map((m) => m.label.length));
    for (const metric of summary.metrics) {
      const over = metric.questions === summary.questions ? '' : `  (over ${metric.questions} questions)`;
      ctx.out(`  ${metric.label.padEnd(width)}  ${formatShare(metric.value)}${over}`);
    }
  }
  if (result.missing > 0)
    ctx.out(`\nMissing predictions (scored 0): ${result.missing} — ${listIds(result.missingIds)}`);
  if (result.unknownIds.length > 0)
    ctx.out(
      `Ignored ${result.unknownIds.length} predictions for ids not in the dataset — ${listIds(result.unknownIds)}`,
    );
  return ExitCode.OK;
}

function formatShare(value: number): string {
  return `${value.toFixed(4)}  (${(value * 100).toFixed(2)}%)`;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, LISTED_IDS).join(', ');
  return ids.length > LISTED_IDS ? `${shown}, …and ${ids.length - LISTED_IDS} more` : shown;
}
