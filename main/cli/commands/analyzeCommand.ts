import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import fs from 'node:fs';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import type { CommandRunner } from './shared.ts';
import { extractProgram, normalizeProgramText } from '../../engine/programs/extractProgram.ts';
import { prepareProgram } from '../../engine/programs/prepareProgram.ts';
import { ReckonError } from '../../engine/errors.ts';

export function registerAnalyze(program: Command, run: CommandRunner): void {
  program
    .command('analyze')
    .description(COMMAND_SUMMARIES.analyze.description)
    .argument('<file>', 'JavaScript file (or a model output with a fenced code block)')
    .option('--json', 'print as JSON')
    .action((file: string, options: { json?: boolean }) => run((ctx) => analyze(ctx, file, options)));
}

async function analyze(ctx: CliContext, file: string, options: { json?: boolean }): Promise<number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new ReckonError('FILE_NOT_FOUND', `Cannot read ${file}: ${(error as Error).message}`);
  }
  const code = normalizeProgramText(extractProgram(text)?.code ?? text);
  const prepared = prepareProgram(code);
  if (!prepared.ok) {
    const { message, line, column } = prepared.error;
    if (options.json)
      ctx.json({
        file,
        ok: false,
        error: { kind: 'SyntaxError', message, line: line ?? null, column: column ?? null },
      });
    else ctx.err(`${file}:${line ?? '?'}:${column ?? '?'}: SyntaxError: ${message}`);
    return ExitCode.ERROR;
  }
  const a = prepared.program.analysis;
  if (options.json) {
    ctx.json({ file, ok: true, analysis: a });
    return ExitCode.OK;
  }
  ctx.out(`${file}`);
  ctx.out(
    `  cyclomatic complexity  ${a.cyclomaticComplexity} (program), max ${a.maxFunctionComplexity} in a function`,
  );
  for (const fn of a.functions) ctx.out(`    ${fn.name} (line ${fn.line}): ${fn.complexity}`);
  ctx.out(`  lines                  ${a.lines}`);
  ctx.out(`  tool-call sites        retrieve ${a.hostCallSites.retrieve}, answer ${a.hostCallSites.answer}`);
  ctx.out(`  static nesting         ${a.maxStaticNesting}`);
  ctx.out(
    `  top-level return       ${a.hasTopLevelReturn ? 'yes' : 'no (a program should end with return)'}`,
  );
  const profile = Object.entries(a.nodeTypeProfile).sort((x, y) => y[1] - x[1]);
  ctx.out(`  AST node profile       ${profile.map(([type, n]) => `${type} ${n}`).join(', ')}`);
  return ExitCode.OK;
}
