import { createEngine, type Engine } from '../engine/createEngine.ts';
import type { EnvironmentSettings } from '../engine/config.ts';

/** Exit codes of the `reckon` command; scripts may rely on them. */
export const ExitCode = {
  OK: 0,
  /** The command failed; the message says why. */
  ERROR: 1,
  /** The command line was wrong (unknown option, missing argument). */
  USAGE: 2,
  /** The work finished but some inputs failed (e.g. files that could not be ingested). */
  PARTIAL: 3,
  /** Interrupted (Ctrl-C). */
  CANCELLED: 130,
} as const;

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
}

/** What every command gets: settings, output streams, the cancellation signal and a lazily made engine. */
export class CliContext {
  private engineInstance: Engine | undefined;

  constructor(
    readonly settings: EnvironmentSettings,
    readonly io: CliIo,
    readonly signal: AbortSignal,
  ) {}

  get engine(): Engine {
    this.engineInstance ??= createEngine({
      dataDir: this.settings.dataDir,
      modelsDir: this.settings.modelsDir,
    });
    return this.engineInstance;
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  err(text: string): void {
    this.io.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Stable machine-readable output: one JSON document on stdout. */
  json(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }

  async close(): Promise<void> {
    await this.engineInstance?.close();
  }
}
