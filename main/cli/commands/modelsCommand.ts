import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { formatBytes, formatSeconds } from '../ProgressBar.ts';
import type { CommandRunner } from './shared.ts';
import { loadCatalog, requireCatalogEntry, resolveCatalogFilePath } from '../../engine/models/catalog.ts';
import { findLocalModelFiles } from '../../engine/models/findLocalModelFiles.ts';

export function registerModels(program: Command, run: CommandRunner): void {
  const models = program.command('models').description(COMMAND_SUMMARIES.models.description);
  models
    .command('list', { isDefault: true })
    .description('Recommended models (installed or not) and model files found in the models folder.')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) => run((ctx) => listModels(ctx, options)));
  models
    .command('pull')
    .description('Download a recommended model into the models folder (resumes an interrupted download).')
    .argument('<id>', 'catalog id, see "reckon models list"')
    .option('--json', 'print the result as JSON')
    .action((id: string, options: { json?: boolean }) => run((ctx) => pullModel(ctx, id, options)));
  models
    .command('path')
    .description('Print the models folder (put .gguf files in llm/ and embedder folders in embedders/).')
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        if (options.json) ctx.json({ modelsDir: ctx.settings.modelsDir });
        else ctx.out(ctx.settings.modelsDir);
        return ExitCode.OK;
      }),
    );
}

async function listModels(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const modelsDir = ctx.settings.modelsDir;
  const catalog = loadCatalog().map((entry) => ({
    id: entry.id,
    kind: entry.kind,
    title: entry.title,
    license: entry.license,
    installed: entry.files.every((file) => fs.existsSync(resolveCatalogFilePath(modelsDir, entry, file))),
  }));
  const local = findLocalModelFiles(modelsDir);
  if (options.json) {
    ctx.json({ modelsDir, catalog, local });
    return ExitCode.OK;
  }
  ctx.out(`Models folder: ${modelsDir}\n\nRecommended (reckon models pull <id>):`);
  for (const entry of catalog) {
    ctx.out(
      `  ${entry.installed ? '✓' : ' '} ${entry.id.padEnd(30)} ${entry.kind.padEnd(9)} ${entry.title} [${entry.license}]`,
    );
  }
  ctx.out('\nFound on disk:');
  if (local.length === 0)
    ctx.out('  nothing yet — put a .gguf file in llm/ or an ONNX embedder folder in embedders/.');
  for (const file of local) ctx.out(`  ${file.kind.padEnd(9)} ${file.path} (${formatBytes(file.sizeBytes)})`);
  return ExitCode.OK;
}

async function pullModel(ctx: CliContext, id: string, options: { json?: boolean }): Promise<number> {
  const entry = requireCatalogEntry(id);
  const { downloadModel } = await import('../../engine/models/downloadModel.ts');
  const tty = ctx.io.stderr.isTTY;
  let lastLine = 0;
  const result = await downloadModel({
    entry,
    modelsDir: ctx.settings.modelsDir,
    signal: ctx.signal,
    onProgress: (p) => {
      const pct = p.totalBytes ? ` ${Math.floor((p.receivedBytes / p.totalBytes) * 100)}%` : '';
      const line = `Downloading ${path.basename(p.file)}${pct} ${formatBytes(p.receivedBytes)}${p.totalBytes ? `/${formatBytes(p.totalBytes)}` : ''} at ${formatBytes(p.bytesPerSecond)}/s${p.etaSeconds !== undefined ? `, ETA ${formatSeconds(p.etaSeconds)}` : ''}`;
      if (tty) ctx.io.stderr.write(`\r${line.padEnd(90)}`);
      else if (Date.now() - lastLine > 2000) {
        ctx.err(line);
        lastLine = Date.now();
      }
    },
  });
  if (tty) ctx.io.stderr.write('\n');
  if (options.json) ctx.json({ id, paths: result.paths });
  else ctx.out(`Installed ${entry.title}:\n${result.paths.map((p) => `  ${p}`).join('\n')}`);
  return ExitCode.OK;
}
