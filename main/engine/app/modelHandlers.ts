/**
 * The app service's model commands: the catalog and local files, downloads as jobs (pause keeps the
 * .part files for a resume) and discarding what a paused download left.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorPayload } from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';
import { loadCatalog, requireCatalogEntry, resolveCatalogFilePath } from '../models/catalog.ts';
import { parseModelSpec, resolveGgufPath } from '../models/createLlmBackend.ts';
import type { DownloadProgress } from '../models/downloadModel.ts';
import { findLocalModelFiles } from '../models/findLocalModelFiles.ts';
import { catalogEntrySizeBytes, discardPartialDownload, measurePartialDownload } from './partialDownloads.ts';
import type { Handlers, ServiceContext } from './ServiceContext.ts';
import { toErrorPayload } from './toErrorPayload.ts';

type ModelCommands = 'listModels' | 'pullModel' | 'discardDownload' | 'checkModel';

export function createModelHandlers(
  ctx: ServiceContext,
): Pick<Handlers, ModelCommands> & { discardPartial(id: string): Promise<void> } {
  const { options, jobs, emit, now, progressIntervalMs, settings } = ctx;

  /** Deletes the .part files of catalog entry `id`; refused while a download of it writes them. */
  async function discardPartial(id: string): Promise<void> {
    const entry = requireCatalogEntry(id);
    if (jobs.runningFor('download', id)) {
      throw new ReckonError(
        'DOWNLOAD_ACTIVE',
        `"${entry.title}" is downloading right now. Pause or cancel the download before discarding it.`,
      );
    }
    await discardPartialDownload(entry, options.modelsDir);
  }

  return {
    discardPartial,

    listModels() {
      const modelsDir = options.modelsDir;
      return {
        modelsDir,
        catalog: loadCatalog().map((entry) => ({
          id: entry.id,
          kind: entry.kind,
          title: entry.title,
          description: entry.description,
          license: entry.license,
          installed: entry.files.every((file) =>
            fs.existsSync(resolveCatalogFilePath(modelsDir, entry, file)),
          ),
          installDir: path.resolve(modelsDir, entry.installDir),
          urls: entry.files.map((file) => file.url),
          partialBytes: measurePartialDownload(entry, modelsDir),
          sizeBytes: catalogEntrySizeBytes(entry),
        })),
        local: findLocalModelFiles(modelsDir),
      };
    },

    pullModel({ id }) {
      const entry = requireCatalogEntry(id);
      // Two downloads into the same .part file would corrupt it: follow the one already running.
      const running = jobs.runningFor('download', id);
      if (running) return { jobId: running.id };
      const jobId = jobs.start('download', id, async (job) => {
        let last: DownloadProgress | undefined;
        let lastSent = -Infinity;
        const base = { jobId: job.id, modelId: id };
        const send = (
          progress: DownloadProgress | undefined,
          done: boolean,
          error: ErrorPayload | null,
        ): void =>
          emit('onDidChangeDownloadProgress', {
            ...base,
            file: progress?.file ?? entry.files.at(-1)?.path ?? '',
            receivedBytes: progress?.receivedBytes ?? 0,
            totalBytes: progress?.totalBytes ?? null,
            bytesPerSecond: progress?.bytesPerSecond ?? 0,
            etaSeconds: progress?.etaSeconds ?? null,
            done,
            error,
          });
        try {
          const { downloadModel } = await import('../models/downloadModel.ts');
          await downloadModel({
            entry,
            modelsDir: options.modelsDir,
            signal: job.controller.signal,
            ...(options.fetch ? { fetch: options.fetch } : {}),
            onProgress: (progress) => {
              const fileChanged = progress.file !== last?.file;
              last = progress;
              const at = now();
              if (!fileChanged && at - lastSent < progressIntervalMs) return;
              lastSent = at;
              send(progress, false, null);
            },
          });
          send(last && { ...last, etaSeconds: 0 }, true, null);
        } catch (error) {
          send(last, false, toErrorPayload(error));
        }
      });
      return { jobId };
    },

    async discardDownload({ id }) {
      await discardPartial(id);
      return { ok: true as const };
    },

    async checkModel({ spec, generate }) {
      const current = settings.get();
      const target = spec ?? current.activeModel;
      if (target === null) {
        throw new ReckonError(
          'NO_MODEL',
          'No model is chosen yet. Choose a model file or enter a model spec in the Models view, then check it.',
        );
      }
      const { checkModel } = await import('../models/checkModel.ts');
      return checkModel(target, {
        modelsDir: options.modelsDir,
        generate: generate === true,
        ...(options.openAiApiKey ? { apiKey: options.openAiApiKey } : {}),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        backendOptions: {
          ...(current.llm.threads !== null ? { threads: current.llm.threads } : {}),
          gpuLayers: current.llm.gpuLayers,
          contextSize: current.llm.contextSize,
        },
      });
    },
  };
}

/** True when `spec` can be used: a GGUF that exists, or a server / replay spec (checked when a run starts). */
export function isModelAvailable(spec: string, modelsDir: string): boolean {
  try {
    const parsed = parseModelSpec(spec);
    if (parsed.kind === 'llama') resolveGgufPath(parsed.path, { modelsDir });
    return true;
  } catch {
    return false;
  }
}
