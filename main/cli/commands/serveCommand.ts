import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import { InvalidArgumentError, type Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { parsePositiveInt, type CommandRunner } from './shared.ts';
import { APP_ROOT } from '../../engine/config.ts';
import { createAppService } from '../../engine/app/AppService.ts';
import { startBrowserHost } from '../../browser-host/BrowserHost.ts';
import { INDEX_FILE } from '../../engine/app/staticAssets.ts';

/** The built renderer `reckon serve` serves: out/renderer, as `npm run build` (electron-vite) writes it. */
export const DEFAULT_RENDERER_DIR = path.join(APP_ROOT, 'out', 'renderer');

interface ServeCliOptions {
  port?: number;
  json?: boolean;
}

/**
 * Registers `reckon serve [--port N] [--json]`: the desktop interface in a browser, served on
 * 127.0.0.1 only with a random token (port default: a free one). It builds nothing: it serves
 * DEFAULT_RENDERER_DIR and says how to build it when missing. Prints the URL (or, with --json,
 * `{url, port, token, rendererDir}` on one line) and runs until SIGINT or SIGTERM, then closes
 * cleanly with exit code 0.
 */
export function registerServe(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description(COMMAND_SUMMARIES.serve.description)
    .option('--port <n>', 'port on 127.0.0.1 (default: any free port)', parsePortNumber)
    .option('--json', 'print {url, port, token, rendererDir} as JSON')
    .action((options: ServeCliOptions) => run((ctx) => serveCommand(ctx, options)));
}

function parsePortNumber(value: string): number {
  const port = parsePositiveInt(value);
  if (port > 65_535) throw new InvalidArgumentError('expected a port number from 1 to 65535.');
  return port;
}

async function serveCommand(ctx: CliContext, options: ServeCliOptions): Promise<number> {
  const service = createAppService({
    dataDir: ctx.settings.dataDir,
    modelsDir: ctx.settings.modelsDir,
    host: 'browser',
    ...(ctx.settings.openAiApiKey ? { openAiApiKey: ctx.settings.openAiApiKey } : {}),
    onWarning: (message) => ctx.err(`warning: ${message}`),
  });
  let host: Awaited<ReturnType<typeof startBrowserHost>>;
  try {
    host = await startBrowserHost({
      service,
      rendererDir: DEFAULT_RENDERER_DIR,
      ...(options.port !== undefined ? { port: options.port } : {}),
      dispatch: {
        validateOutput: true,
        onUnexpectedError: (error, command) =>
          ctx.err(`error in ${command}: ${String((error as Error)?.stack ?? error)}`),
      },
    });
  } catch (error) {
    await service.close();
    throw error;
  }
  if (!fs.existsSync(path.join(DEFAULT_RENDERER_DIR, INDEX_FILE))) {
    ctx.err(
      `warning: the interface is not built (${DEFAULT_RENDERER_DIR} has no ${INDEX_FILE}); run "npm run build" first.`,
    );
  }
  if (options.json) {
    ctx.out(
      JSON.stringify({
        url: host.url,
        port: host.port,
        token: host.token,
        rendererDir: DEFAULT_RENDERER_DIR,
      }),
    );
  } else {
    ctx.out(
      `Reckon is running. Open this address in your browser (it includes the access token):\n\n  ${host.url}\n`,
    );
    ctx.err('Only this computer can connect (127.0.0.1). Press Ctrl-C to stop.');
  }

  // The CLI turns the first Ctrl-C into this abort signal; SIGTERM (service managers, CI) does the same.
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGTERM', stop);
      ctx.signal.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGTERM', stop);
    if (ctx.signal.aborted) stop();
    else ctx.signal.addEventListener('abort', stop);
  });
  await host.close();
  await service.close();
  if (!options.json) ctx.err('Stopped.');
  return ExitCode.OK;
}
