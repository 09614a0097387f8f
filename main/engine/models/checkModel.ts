/**
 * Checks a model spec when it is chosen rather than when a run fails: a GGUF file for existence and
 * a valid header (architecture, size, quantization, whether it fits in memory), a replay file for
 * readability and format, an OpenAI-compatible server for reachability (GET <baseURL>/models), an
 * ONNX embedder or cross-encoder reranker folder by loading it with transformers.js (which runs one
 * probe through it). Optionally (`generate`) it also makes one one-token generation through the
 * real LLM backend.
 */
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ReckonError, toReckonError } from '../errors.ts';
import { findCatalogEntry } from './catalog.ts';
import { createLlmBackend, parseModelSpec, resolveGgufPath } from './createLlmBackend.ts';
import type { CreateLlmBackendOptions } from './createLlmBackend.ts';
import { readReplayScript } from './ReplayBackend.ts';

/** How long the server check waits for `GET <baseURL>/models`. */
export const DEFAULT_SERVER_CHECK_TIMEOUT_MS = 3_000;
/**
 * Memory a GGUF model needs beyond its file, as an estimate: weights are mapped whole, and the KV
 * cache at the default context, compute buffers and the runtime add roughly this share of the file
 * size plus a fixed amount. Real use depends on the context size, sequences and GPU offload.
 */
export const MODEL_MEMORY_OVERHEAD_FACTOR = 0.2;
/** The fixed part of the memory estimate (see MODEL_MEMORY_OVERHEAD_FACTOR): 512 MiB. */
export const MODEL_MEMORY_OVERHEAD_BYTES = 512 * 1024 * 1024;
/** The prompt of the one-token generation test. */
export const GENERATION_CHECK_PROMPT = 'Reply with the single word: OK';

/** What a GGUF file's header says. */
export interface GgufModelInfo {
  /** Absolute path of the file. */
  path: string;
  sizeBytes: number;
  /** `general.architecture`, e.g. "llama", "qwen2". */
  architecture: string;
  /** `general.name`, when the file has one. */
  name: string | null;
  /** From `general.file_type` (e.g. "Q4_K_M", "F16"), else the most common tensor type. */
  quantization: string;
  /** The training context length (`<arch>.context_length`), when the file has one. */
  contextLength: number | null;
  ggufVersion: number;
}

/** An estimate of the memory a model needs against this machine's. */
export interface ModelMemoryEstimate {
  /** File size × (1 + MODEL_MEMORY_OVERHEAD_FACTOR) + MODEL_MEMORY_OVERHEAD_BYTES. */
  estimatedBytes: number;
  /** os.totalmem() (or the value given). */
  totalMemoryBytes: number;
  fits: boolean;
}

/** The outcome of checkModel: `ok` says whether the model can be used; `problem` says why not. */
export interface CheckModelResult {
  spec: string;
  kind: 'llama' | 'openai' | 'replay' | OnnxModelKind;
  ok: boolean;
  /** Why the model cannot be used, with what to do; null when ok. */
  problem: { code: string; message: string } | null;
  /** Things worth knowing that do not make the model unusable. */
  warnings: string[];
  gguf: (GgufModelInfo & { memory: ModelMemoryEstimate }) | null;
  replay: {
    path: string;
    /** Lines that return an output, and lines that replay a failed call. */
    outputs: number;
    failures: number;
    /** From the header of a file exported from a run; null for a hand-written script. */
    recordedFor: { question: string; strategy: string } | null;
  } | null;
  server: { baseUrl: string; model: string; models: string[] } | null;
  /** An embedder or reranker folder that loaded (and ran its load-time probe). */
  onnx: {
    path: string;
    modelId: string;
    dtype: string;
    /** A reranker's logits per pair (1, or 2 with the positive class second); null for an embedder. */
    labels: number | null;
    /** An embedder's vector length; null for a reranker. */
    dimension: number | null;
    loadMs: number;
  } | null;
  /** The one-token generation, when asked for and the static check passed. */
  generation: { text: string; durationMs: number } | null;
}

export interface CheckModelOptions {
  /** Folder searched for bare GGUF names (see resolveGgufPath). Default: none. */
  modelsDir?: string;
  /** Also make a one-token generation through the real backend. Default: false. */
  generate?: boolean;
  /** Bearer token for openai: specs. Default: none. */
  apiKey?: string;
  /** How long the server check waits. Default: DEFAULT_SERVER_CHECK_TIMEOUT_MS (3 s). */
  serverTimeoutMs?: number;
  /** Passed to the backend for the generation test (threads, context size…). Default: the backend's. */
  backendOptions?: Omit<CreateLlmBackendOptions, 'modelsDir' | 'apiKey' | 'signal'>;
  /** fetch for the server check (tests). Default: the global fetch. */
  fetch?: typeof fetch;
  /** This machine's memory, for the estimate (tests). Default: os.totalmem(). */
  totalMemoryBytes?: number;
  signal?: AbortSignal;
}

/**
 * Checks `spec` (see the module comment). A spec that is not a model spec throws ReckonError
 * 'BAD_MODEL_SPEC'; everything else — a missing file, a broken header, an unreachable server, a
 * failed generation — comes back as `ok: false` with a `problem`. Defaults: no generation, a 3 s
 * server timeout, os.totalmem() for the memory estimate.
 */
export async function checkModel(spec: string, options: CheckModelOptions = {}): Promise<CheckModelResult> {
  const onnx = parseOnnxModelSpec(spec, options.modelsDir);
  if (onnx) return checkOnnxModel(spec, onnx, options);
  const parsed = parseModelSpec(spec);
  const result = uncheckedResult(spec, parsed.kind);
  try {
    switch (parsed.kind) {
      case 'llama': {
        const file = resolveGgufPath(parsed.path, options.modelsDir ? { modelsDir: options.modelsDir } : {});
        const info = await readGgufInfo(file);
        const memory = estimateModelMemory(info.sizeBytes, options.totalMemoryBytes);
        result.gguf = { ...info, memory };
        if (!memory.fits) {
          result.warnings.push(
            `This model needs about ${formatGiB(memory.estimatedBytes)} (an estimate) and this machine has ` +
              `${formatGiB(memory.totalMemoryBytes)}; it may not load, or run very slowly. Choose a smaller model or quantization.`,
          );
        }
        break;
      }
      case 'replay': {
        const script = await readReplayScript(parsed.file);
        const failures = script.lines.filter((entry) => entry.line.error !== undefined).length;
        result.replay = {
          path: parsed.file,
          outputs: script.lines.length - failures,
          failures,
          recordedFor: script.header
            ? { question: script.header.question, strategy: script.header.strategy }
            : null,
        };
        if (script.lines.length === 0) result.warnings.push('The replay file has no model outputs.');
        break;
      }
      case 'openai': {
        const models = await listServerModels(parsed.baseUrl, options);
        result.server = { baseUrl: parsed.baseUrl, model: parsed.model, models };
        if (models.length > 0 && !models.includes(parsed.model)) {
          result.warnings.push(
            `The server does not list a model named "${parsed.model}" (it lists ${models.join(', ')}); ` +
              `some servers answer for any name, others will refuse it.`,
          );
        }
        break;
      }
    }
    if (options.generate && parsed.kind !== 'replay') {
      result.generation = await generateOneToken(spec, options);
    } else if (options.generate) {
      result.warnings.push('A replay file has no model to run: its outputs are played back as recorded.');
    }
    result.ok = true;
  } catch (error) {
    const reckon = toReckonError(error, 'MODEL_CHECK_FAILED');
    if (reckon.code === 'BAD_MODEL_SPEC') throw reckon;
    result.problem = { code: reckon.code, message: reckon.message };
  }
  return result;
}

/** A result with nothing found yet and `ok: false`, which each check fills in. */
function uncheckedResult(spec: string, kind: CheckModelResult['kind']): CheckModelResult {
  return {
    spec,
    kind,
    ok: false,
    problem: null,
    warnings: [],
    gguf: null,
    replay: null,
    server: null,
    onnx: null,
    generation: null,
  };
}

/** The transformers.js model kinds `models check` loads. */
export type OnnxModelKind = 'embedder' | 'reranker';

/** The subfolder of the models folder each ONNX kind lives in (see EMBEDDERS_SUBDIR, RERANKERS_SUBDIR). */
const ONNX_SUBDIRS: Record<OnnxModelKind, string> = { embedder: 'embedders', reranker: 'rerankers' };

/**
 * An ONNX model spec, or null for anything else: `reranker:<id | folder>` or
 * `embedder:<id | folder>` — a catalog id (its install folder), a bare folder name in the models
 * folder's rerankers/ (embedders/), or a path — or a bare catalog id of a reranker or embedder.
 */
export function parseOnnxModelSpec(
  spec: string,
  modelsDir: string | undefined,
): { kind: OnnxModelKind; dir: string } | null {
  const trimmed = spec.trim();
  const prefixed = /^(embedder|reranker):(.+)$/.exec(trimmed);
  const entry = findCatalogEntry(prefixed ? prefixed[2]! : trimmed);
  if (!prefixed) {
    return entry && entry.kind !== 'llm' && modelsDir !== undefined
      ? { kind: entry.kind, dir: path.resolve(modelsDir, entry.installDir) }
      : null;
  }
  const kind = prefixed[1] as OnnxModelKind;
  const target = prefixed[2]!;
  if (entry?.kind === kind && modelsDir !== undefined)
    return { kind, dir: path.resolve(modelsDir, entry.installDir) };
  const inModels = modelsDir !== undefined ? path.resolve(modelsDir, ONNX_SUBDIRS[kind], target) : undefined;
  const isBareName = !path.isAbsolute(target) && !/[\\/]/.test(target);
  return { kind, dir: isBareName && inModels && existsSync(inModels) ? inModels : path.resolve(target) };
}

/** Loads an embedder or reranker folder with transformers.js; a folder that will not load is `ok: false`. */
async function checkOnnxModel(
  spec: string,
  target: { kind: OnnxModelKind; dir: string },
  options: CheckModelOptions,
): Promise<CheckModelResult> {
  const result = uncheckedResult(spec, target.kind);
  if (options.generate)
    result.warnings.push(
      'Embedders and rerankers do not generate text: the check loads the model and runs one probe.',
    );
  const started = performance.now();
  try {
    const model =
      target.kind === 'reranker'
        ? await (await import('./TransformersReranker.ts')).loadTransformersReranker({ modelDir: target.dir })
        : await (
            await import('./TransformersEmbedder.ts')
          ).loadTransformersEmbedder({ modelDir: target.dir });
    try {
      result.onnx = {
        path: model.modelDir,
        modelId: model.modelId,
        dtype: model.dtype,
        labels: 'labels' in model ? model.labels : null,
        dimension: 'dimension' in model ? model.dimension : null,
        loadMs: Math.round(performance.now() - started),
      };
    } finally {
      await model.dispose();
    }
    result.ok = true;
  } catch (error) {
    const reckon = toReckonError(error, 'MODEL_CHECK_FAILED');
    result.problem = { code: reckon.code, message: reckon.message };
  }
  return result;
}

/**
 * The memory estimate for a GGUF of `sizeBytes` (see MODEL_MEMORY_OVERHEAD_FACTOR): an estimate,
 * not a measurement. Default total memory: os.totalmem().
 */
export function estimateModelMemory(
  sizeBytes: number,
  totalMemoryBytes: number = os.totalmem(),
): ModelMemoryEstimate {
  const estimatedBytes = Math.round(
    sizeBytes * (1 + MODEL_MEMORY_OVERHEAD_FACTOR) + MODEL_MEMORY_OVERHEAD_BYTES,
  );
  return { estimatedBytes, totalMemoryBytes, fits: estimatedBytes <= totalMemoryBytes };
}

/**
 * Reads a GGUF file's header with node-llama-cpp's readGgufFileInfo (only the header is read).
 * A file that does not start with the GGUF magic, or whose header cannot be parsed, is ReckonError
 * 'BAD_GGUF'.
 */
export async function readGgufInfo(file: string): Promise<GgufModelInfo> {
  const { size } = await stat(file);
  const magic = Buffer.alloc(4);
  const handle = await open(file, 'r');
  try {
    await handle.read(magic, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (magic.toString('latin1') !== 'GGUF') {
    throw new ReckonError(
      'BAD_GGUF',
      `${file} is not a GGUF model: it starts with bytes ${magic.toString('hex')} instead of "GGUF". ` +
        `It may be incomplete or another format; download it again or choose another file.`,
    );
  }
  // Loaded lazily: node-llama-cpp's module is large, and only GGUF checks need it.
  const { readGgufFileInfo, GgufFileType, GgmlType } = await import('node-llama-cpp');
  let info: Awaited<ReturnType<typeof readGgufFileInfo>>;
  try {
    info = await readGgufFileInfo(file, {
      sourceType: 'filesystem',
      logWarnings: false,
      // The vocabulary is most of a header; none of it is shown.
      ignoreKeys: [
        'tokenizer.ggml.tokens',
        'tokenizer.ggml.scores',
        'tokenizer.ggml.token_type',
        'tokenizer.ggml.merges',
      ],
    });
  } catch (error) {
    throw new ReckonError(
      'BAD_GGUF',
      `${file} has a broken GGUF header (${toReckonError(error).message}). It may be incomplete; download it again.`,
      { cause: error },
    );
  }
  const general = info.metadata.general;
  const fileType = general.file_type;
  let quantization: string | undefined =
    fileType !== undefined ? GgufFileType[fileType]?.replace(/^(MOSTLY|ALL)_/, '') : undefined;
  if (quantization === undefined) {
    const counts = new Map<number, number>();
    for (const tensor of info.tensorInfo ?? [])
      counts.set(tensor.ggmlType, (counts.get(tensor.ggmlType) ?? 0) + 1);
    const common = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    quantization = common !== undefined ? (GgmlType[common[0]] ?? `type ${common[0]}`) : 'unknown';
  }
  const contextLength = (info.architectureMetadata as { context_length?: number }).context_length;
  return {
    path: file,
    sizeBytes: size,
    architecture: String(general.architecture),
    name: general.name ?? null,
    quantization,
    contextLength: typeof contextLength === 'number' ? contextLength : null,
    ggufVersion: info.version,
  };
}

async function listServerModels(baseUrl: string, options: CheckModelOptions): Promise<string[]> {
  const timeoutMs = options.serverTimeoutMs ?? DEFAULT_SERVER_CHECK_TIMEOUT_MS;
  const signal = options.signal
    ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)])
    : AbortSignal.timeout(timeoutMs);
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  let body: string;
  try {
    response = await doFetch(`${baseUrl}/models`, {
      headers: {
        accept: 'application/json',
        ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
      },
      signal,
    });
    body = await response.text();
  } catch (error) {
    if (options.signal?.aborted) throw toReckonError(error);
    const timedOut = signal.aborted;
    throw new ReckonError(
      'SERVER_UNREACHABLE',
      `Could not reach the model server at ${baseUrl} (${timedOut ? `no answer within ${timeoutMs} ms` : errorCode(error)}). ` +
        `Check that it is running and that the URL is right.`,
      { cause: error },
    );
  }
  if (!response.ok) {
    throw new ReckonError(
      'SERVER_ERROR',
      `The model server at ${baseUrl} answered GET /models with HTTP ${response.status}` +
        `${response.status === 401 || response.status === 403 ? '; check the API key' : ''}.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ReckonError(
      'SERVER_ERROR',
      `The server at ${baseUrl} answered GET /models with something that is not JSON; is it an OpenAI-compatible server (the URL usually ends in /v1)?`,
    );
  }
  const data = (json as { data?: unknown }).data;
  if (!Array.isArray(data)) return [];
  return data
    .map((entry) => (entry as { id?: unknown }).id)
    .filter((id): id is string => typeof id === 'string');
}

async function generateOneToken(
  spec: string,
  options: CheckModelOptions,
): Promise<{ text: string; durationMs: number }> {
  const backend = await createLlmBackend(spec, {
    ...options.backendOptions,
    ...(options.modelsDir ? { modelsDir: options.modelsDir } : {}),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    const started = performance.now();
    const result = await backend.generate({
      role: 'check',
      messages: [{ role: 'user', content: GENERATION_CHECK_PROMPT }],
      maxTokens: 1,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { text: result.text, durationMs: Math.round(performance.now() - started) };
  } finally {
    await backend.dispose();
  }
}

function errorCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Connecting to "localhost" tries each address: undici reports an AggregateError of them.
    const errors = (current as { errors?: unknown }).errors;
    current = Array.isArray(errors) && errors.length > 0 ? errors[0] : (current as { cause?: unknown }).cause;
  }
  return 'network error';
}

function formatGiB(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
