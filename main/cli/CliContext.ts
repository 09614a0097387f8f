import { createEngine, type Engine } from '../engine/createEngine.ts';
import type { EnvironmentSettings } from '../engine/config.ts';
import { RunStore } from '../engine/runs/RunStore.ts';
import type { LlmProvider } from '../engine/models/LlmBackend.ts';
import { createLlmBackend } from '../engine/models/createLlmBackend.ts';
import { sanitizeTerminalText } from './sanitizeTerminalText.ts';

export { ExitCode } from './ExitCode.ts';

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WriteStream;
}

/** What every command gets: settings, output streams, the cancellation signal and a lazily made engine. */
export class CliContext {
  private engineInstance: Engine | undefined;
  private runStoreInstance: RunStore | undefined;

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

  /** Run history in the data directory. */
  get runStore(): RunStore {
    this.runStoreInstance ??= RunStore.open(this.settings.dataDir);
    return this.runStoreInstance;
  }

  /** Creates the model for a run from its spec; disposed when the run ends. */
  llmProvider(options: {
    threads?: number;
    contextSize?: number;
    /** See CreateLlmBackendOptions.replayMismatch. Default: 'error'. */
    replayMismatch?: 'error' | 'warn';
  }): LlmProvider {
    return async (spec, signal) => {
      const backend = await createLlmBackend(spec, {
        modelsDir: this.settings.modelsDir,
        ...(this.settings.openAiApiKey ? { apiKey: this.settings.openAiApiKey } : {}),
        ...(options.threads ? { threads: options.threads } : {}),
        ...(options.contextSize ? { contextSize: options.contextSize } : {}),
        ...(options.replayMismatch ? { replayMismatch: options.replayMismatch } : {}),
        signal,
      });
      return { backend, release: () => backend.dispose() };
    };
  }

  out(text: string): void {
    this.io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Writes to stderr; control characters are escaped (messages may quote file contents). */
  err(text: string): void {
    const safe = sanitizeTerminalText(text);
    this.io.stderr.write(safe.endsWith('\n') ? safe : `${safe}\n`);
  }

  /** Stable machine-readable output: one JSON document on stdout. */
  json(value: unknown): void {
    this.out(JSON.stringify(value, null, 2));
  }

  async close(): Promise<void> {
    this.runStoreInstance?.close();
    await this.engineInstance?.close();
  }
}
