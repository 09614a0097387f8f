/**
 * The `reckon` command: a second adapter over the same engine the desktop app uses.
 */
import { Command, CommanderError } from 'commander';
import { CliContext, ExitCode, type CliIo } from './CliContext.ts';
import { isDebugEnabled, resolveSettings } from '../engine/config.ts';
import { ReckonError, toReckonError } from '../engine/errors.ts';
import { registerIngest } from './commands/ingestCommand.ts';
import { registerSearch } from './commands/searchCommand.ts';
import { registerCorpora } from './commands/corporaCommand.ts';
import { registerModels } from './commands/modelsCommand.ts';
import { registerAsk } from './commands/askCommand.ts';
import { registerAnalyze } from './commands/analyzeCommand.ts';
import { registerRuns } from './commands/runsCommand.ts';
import { registerServe } from './commands/serveCommand.ts';
import { registerEval } from './commands/evalCommand.ts';
import { registerEvalRun } from './commands/evalRunCommand.ts';
import type { CommandRunner } from './commands/shared.ts';
import { exitCodeForError } from './exitCodeForError.ts';
import { sanitizeTerminalText } from './sanitizeTerminalText.ts';
import packageJson from '../../package.json' with { type: 'json' };

/** Runs the CLI with `argv` (as process.argv) and resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(ExitCode.CANCELLED);
    io.stderr.write('\nStopping after the current step… (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  let exitCode: number = ExitCode.OK;
  let context: CliContext | undefined;
  const program = new Command();
  program
    .name('reckon')
    .description('Reckon: answer questions over your own documents with local models.')
    .version(packageJson.version, '-V, --version', 'print the version of Reckon')
    .option('--data-dir <dir>', 'where corpora and runs are kept (default: $RECKON_HOME or ~/.reckon)')
    .option(
      '--models-dir <dir>',
      "where model files are kept (default: $RECKON_MODELS_DIR or the app's models/ folder)",
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      // Usage errors quote the command line back, which may hold anything (help goes here too: not cut).
      writeErr: (s) => io.stderr.write(sanitizeTerminalText(s, Number.POSITIVE_INFINITY)),
    });

  const run: CommandRunner = async (body) => {
    const globals = program.opts<{ dataDir?: string; modelsDir?: string }>();
    context = new CliContext(
      resolveSettings({
        ...(globals.dataDir ? { dataDir: globals.dataDir } : {}),
        ...(globals.modelsDir ? { modelsDir: globals.modelsDir } : {}),
      }),
      io,
      controller.signal,
    );
    exitCode = await body(context);
  };
  registerIngest(program, run);
  registerSearch(program, run);
  registerCorpora(program, run);
  registerModels(program, run);
  registerAsk(program, run);
  registerAnalyze(program, run);
  registerRuns(program, run);
  registerServe(program, run);
  registerEvalRun(registerEval(program, run), run);

  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      exitCode = error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    } else {
      const reckonError = toReckonError(error);
      exitCode = exitCodeForError(reckonError);
      if (wantsJson) io.stdout.write(`${JSON.stringify({ error: reckonError.toJSON() }, null, 2)}\n`);
      io.stderr.write(`error: ${sanitizeTerminalText(reckonError.message)}\n`);
      if (isDebugEnabled() && !(error instanceof ReckonError))
        io.stderr.write(
          `${sanitizeTerminalText(String((error as Error).stack), Number.POSITIVE_INFINITY)}\n`,
        );
    }
  } finally {
    process.off('SIGINT', onSigint);
    await context?.close();
  }
  return exitCode;
}
