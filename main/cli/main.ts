/**
 * The `reckon` command: a second adapter over the same engine the desktop app uses.
 */
import { Command, CommanderError } from 'commander';
import type { CliContext, CliIo } from './CliContext.ts';
import { ExitCode } from './ExitCode.ts';
import { isDebugEnabled, resolveSettings } from '../engine/config.ts';
import { ReckonError, toReckonError } from '../engine/errors.ts';
import { COMMAND_SUMMARIES, type CommandName } from './commands/commandSummaries.ts';
import type { CommandRunner } from './commands/shared.ts';
import { exitCodeForError } from './exitCodeForError.ts';
import { sanitizeTerminalText } from './sanitizeTerminalText.ts';
import packageJson from '../../package.json' with { type: 'json' };

type Register = (program: Command, run: CommandRunner) => unknown;

/**
 * The module that defines each top-level command, loaded only when that command runs (or its help
 * is shown): the engine, zod schemas and native modules are not loaded for `reckon --help`.
 */
const COMMAND_MODULES: Record<CommandName, () => Promise<Register>> = {
  ingest: async () => (await import('./commands/ingestCommand.ts')).registerIngest,
  search: async () => (await import('./commands/searchCommand.ts')).registerSearch,
  corpora: async () => (await import('./commands/corporaCommand.ts')).registerCorpora,
  models: async () => (await import('./commands/modelsCommand.ts')).registerModels,
  ask: async () => (await import('./commands/askCommand.ts')).registerAsk,
  'run-program': async () => (await import('./commands/askCommand.ts')).registerAsk,
  strategies: async () => (await import('./commands/askCommand.ts')).registerAsk,
  analyze: async () => (await import('./commands/analyzeCommand.ts')).registerAnalyze,
  runs: async () => (await import('./commands/runsCommand.ts')).registerRuns,
  serve: async () => (await import('./commands/serveCommand.ts')).registerServe,
  eval: async () => {
    const [{ registerEval }, { registerEvalRun }] = await Promise.all([
      import('./commands/evalCommand.ts'),
      import('./commands/evalRunCommand.ts'),
    ]);
    return (program, run) => registerEvalRun(registerEval(program, run), run);
  },
  memory: async () => (await import('./commands/memoryCommand.ts')).registerMemory,
};

/** Global options that take a value, so that their value is not taken for the command name. */
const GLOBAL_VALUE_OPTIONS = new Set(['--data-dir', '--models-dir']);

/** The command a command line names (`reckon [globals] <command> …`, or `reckon help <command>`). */
export function commandNameOf(args: readonly string[]): CommandName | undefined {
  const words: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith('-')) words.push(arg);
    if (words.length === 2) break;
  }
  const name = words[0] === 'help' ? words[1] : words[0];
  return name !== undefined && Object.hasOwn(COMMAND_SUMMARIES, name) ? (name as CommandName) : undefined;
}

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
    const { CliContext } = await import('./CliContext.ts');
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
  // The named command is defined by its own module; every other command is listed by name and
  // description only (it cannot run in this process, which runs one command).
  const defineCommands = async (): Promise<void> => {
    const named = commandNameOf(argv.slice(2));
    if (named) await (await COMMAND_MODULES[named]())(program, run);
    const defined = new Set(program.commands.map((command) => command.name()));
    for (const [name, summary] of Object.entries(COMMAND_SUMMARIES)) {
      if (defined.has(name)) continue;
      program.command(summary.args ? `${name} ${summary.args}` : name).description(summary.description);
    }
  };

  const wantsJson = argv.includes('--json');
  try {
    await defineCommands();
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
