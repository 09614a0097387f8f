import { COMMAND_SUMMARIES } from './commandSummaries.ts';
import type { Command } from 'commander';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliContext } from '../CliContext.ts';
import { ExitCode } from '../ExitCode.ts';
import { formatBytes, formatSeconds } from '../ProgressBar.ts';
import type { CommandRunner } from './shared.ts';
import { loadCatalog, requireCatalogEntry, resolveCatalogFilePath } from '../../engine/models/catalog.ts';
import { findLocalModelFiles } from '../../engine/models/findLocalModelFiles.ts';
import {
  estimateModelMemory,
  MODEL_MEMORY_OVERHEAD_BYTES,
  MODEL_MEMORY_OVERHEAD_FACTOR,
  type CheckModelResult,
} from '../../engine/models/checkModel.ts';
import { catalogEntrySizeBytes } from '../../engine/app/partialDownloads.ts';

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
    .command('check')
    .description(
      "Check a model before using it: a GGUF file's header, a replay file's lines, a server's /models, or an embedder / reranker folder (loaded and probed). Exit 1 when it is not usable.",
    )
    .argument(
      '<spec>',
      'a .gguf file, llama:<path>, openai:<baseURL>#<model>, replay:<file.jsonl>, or an embedder / reranker: its catalog id, embedder:<folder> or reranker:<folder>',
    )
    .option('--generate', 'also generate one token with the real backend')
    .option('--json', 'print the result as JSON')
    .action((spec: string, options: { generate?: boolean; json?: boolean }) =>
      run((ctx) => checkModelCommand(ctx, spec, options)),
    );
  models
    .command('remove')
    .description('Delete an installed model (catalog id, or a file or folder inside the models folder).')
    .argument('<file-or-id>', 'catalog id, or a model file / embedder folder in the models folder')
    .option('--json', 'print the result as JSON')
    .action((target: string, options: { json?: boolean }) =>
      run(async (ctx) => {
        const { removeModel } = await import('../../engine/models/removeModel.ts');
        const result = await removeModel(target, { modelsDir: ctx.settings.modelsDir });
        if (options.json) ctx.json(result);
        else ctx.out(`Removed ${result.removed.join(', ')} (${formatBytes(result.freedBytes)} freed).`);
        return ExitCode.OK;
      }),
    );
  models
    .command('path')
    .description(
      'Print the models folder (put .gguf files in llm/, embedder folders in embedders/, cross-encoder folders in rerankers/).',
    )
    .option('--json', 'print as JSON')
    .action((options: { json?: boolean }) =>
      run(async (ctx) => {
        if (options.json) ctx.json({ modelsDir: ctx.settings.modelsDir });
        else ctx.out(ctx.settings.modelsDir);
        return ExitCode.OK;
      }),
    );
}

/** How `models list` labels the memory estimate (see estimateModelMemory). */
const MEMORY_ESTIMATE_NOTE = `memory estimate = file size × ${1 + MODEL_MEMORY_OVERHEAD_FACTOR} + ${MODEL_MEMORY_OVERHEAD_BYTES / 1024 ** 2} MiB (context, buffers), against this machine's total memory`;

async function listModels(ctx: CliContext, options: { json?: boolean }): Promise<number> {
  const modelsDir = ctx.settings.modelsDir;
  const totalMemoryBytes = os.totalmem();
  const fitsFor = (kind: string, sizeBytes: number | null) =>
    kind === 'llm' && sizeBytes !== null ? estimateModelMemory(sizeBytes, totalMemoryBytes) : null;
  const catalog = loadCatalog().map((entry) => {
    const paths = entry.files.map((file) => resolveCatalogFilePath(modelsDir, entry, file));
    const installed = paths.every((file) => fs.existsSync(file));
    // The catalog rarely knows sizes; an installed entry's are on disk.
    const sizeBytes =
      catalogEntrySizeBytes(entry) ??
      (installed ? paths.reduce((sum, file) => sum + fs.statSync(file).size, 0) : null);
    return {
      id: entry.id,
      kind: entry.kind,
      title: entry.title,
      license: entry.license,
      installed,
      sizeBytes,
      memory: fitsFor(entry.kind, sizeBytes),
      unverified: entry.unverified ?? [],
    };
  });
  const local = findLocalModelFiles(modelsDir).map((file) => ({
    ...file,
    memory: fitsFor(file.kind, file.sizeBytes),
  }));
  if (options.json) {
    ctx.json({ modelsDir, totalMemoryBytes, memoryEstimate: MEMORY_ESTIMATE_NOTE, catalog, local });
    return ExitCode.OK;
  }
  const fitText = (memory: ReturnType<typeof fitsFor>): string =>
    memory === null
      ? ''
      : memory.fits
        ? ` fits (~${formatBytes(memory.estimatedBytes)})`
        : ` may not fit (~${formatBytes(memory.estimatedBytes)} > ${formatBytes(memory.totalMemoryBytes)})`;
  ctx.out(`Models folder: ${modelsDir}\n\nRecommended (reckon models pull <id>):`);
  for (const entry of catalog) {
    const size = entry.sizeBytes !== null ? formatBytes(entry.sizeBytes) : 'size unknown';
    ctx.out(
      `  ${entry.installed ? '✓' : ' '} ${entry.id.padEnd(30)} ${entry.kind.padEnd(9)} ${size.padEnd(10)} ${entry.installed ? 'installed ' : '          '}${entry.title} [${entry.license}]${fitText(entry.memory)}${entry.unverified.length > 0 ? ` (not verified: ${entry.unverified.join(', ')})` : ''}`,
    );
  }
  ctx.out('\nFound on disk:');
  if (local.length === 0)
    ctx.out(
      '  nothing yet — put a .gguf file in llm/, an ONNX embedder folder in embedders/ or a cross-encoder folder in rerankers/.',
    );
  for (const file of local)
    ctx.out(`  ${file.kind.padEnd(9)} ${file.path} (${formatBytes(file.sizeBytes)})${fitText(file.memory)}`);
  ctx.out(`\nThis machine has ${formatBytes(totalMemoryBytes)} of memory; ${MEMORY_ESTIMATE_NOTE}.`);
  return ExitCode.OK;
}

async function checkModelCommand(
  ctx: CliContext,
  spec: string,
  options: { generate?: boolean; json?: boolean },
): Promise<number> {
  const { checkModel } = await import('../../engine/models/checkModel.ts');
  const result = await checkModel(spec, {
    modelsDir: ctx.settings.modelsDir,
    generate: options.generate === true,
    ...(ctx.settings.openAiApiKey ? { apiKey: ctx.settings.openAiApiKey } : {}),
    signal: ctx.signal,
  });
  if (options.json) ctx.json(result);
  else printCheck(ctx, result);
  return result.ok ? ExitCode.OK : ExitCode.ERROR;
}

function printCheck(ctx: CliContext, result: CheckModelResult): void {
  const lines: string[] = [];
  if (result.gguf) {
    const g = result.gguf;
    lines.push(
      `GGUF ${g.path}`,
      `  architecture ${g.architecture}${g.name ? ` (${g.name})` : ''}, ${g.quantization}, ${formatBytes(g.sizeBytes)}, GGUF v${g.ggufVersion}` +
        `${g.contextLength !== null ? `, trained context ${g.contextLength}` : ''}`,
      `  memory: ~${formatBytes(g.memory.estimatedBytes)} needed (estimate) of ${formatBytes(g.memory.totalMemoryBytes)}: ${g.memory.fits ? 'fits' : 'may not fit'}`,
    );
  }
  if (result.replay) {
    const r = result.replay;
    lines.push(
      `Replay file ${r.path}: ${r.outputs} ${r.outputs === 1 ? 'output' : 'outputs'}, ${r.failures} recorded ${r.failures === 1 ? 'failure' : 'failures'}`,
      r.recordedFor
        ? `  recorded for "${r.recordedFor.question}" (strategy ${r.recordedFor.strategy}); prompts are checked when it plays`
        : '  hand-written script (no header): prompts are not checked',
    );
  }
  if (result.server) {
    const s = result.server;
    lines.push(
      `Server ${s.baseUrl} is reachable${s.models.length > 0 ? `; it lists ${s.models.join(', ')}` : ''}`,
    );
  }
  if (result.onnx) {
    const o = result.onnx;
    lines.push(
      `${result.kind === 'reranker' ? 'Cross-encoder reranker' : 'Embedder'} ${o.modelId} (${o.path}), ${o.dtype}, ` +
        `${o.labels !== null ? `${o.labels} ${o.labels === 1 ? 'logit' : 'logits'} per pair` : `${o.dimension} dimensions`}; loaded and probed in ${o.loadMs} ms`,
    );
  }
  if (result.generation) {
    lines.push(
      `Generated one token in ${result.generation.durationMs} ms: ${JSON.stringify(result.generation.text)}`,
    );
  }
  if (lines.length > 0) ctx.out(lines.join('\n'));
  for (const warning of result.warnings) ctx.err(`Warning: ${warning}`);
  if (result.ok) ctx.out(`Ready: ${result.spec}`);
  else ctx.err(`Not usable: ${result.problem?.message ?? 'unknown problem'}`);
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
