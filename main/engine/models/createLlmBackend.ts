/**
 * Turns a model spec string (CLI flag, settings) into an LlmBackend. The native llama.cpp binding
 * is loaded only when a GGUF is asked for, so replay and HTTP runs never pay for it.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ModelNotFoundError, ReckonError } from '../errors.ts';
import type { LlmBackend } from './LlmBackend.ts';
import { createOpenAiBackend } from './OpenAiBackend.ts';
import { createReplayBackend, type ReplayMismatchPolicy } from './ReplayBackend.ts';

/** What a model spec names. */
export type ModelSpec =
  | { kind: 'replay'; file: string }
  | { kind: 'openai'; baseUrl: string; model: string }
  | { kind: 'llama'; path: string };

/** The accepted spec forms, shown in BAD_MODEL_SPEC errors and help texts. */
export const MODEL_SPEC_FORMS = [
  '  <file.gguf>                a GGUF model: absolute path, relative to the current folder, or a file name in the models folder',
  '  llama:<path>               a GGUF model at any path (any extension)',
  '  openai:<baseURL>#<model>   an OpenAI-compatible server, e.g. openai:http://127.0.0.1:8080/v1#qwen2.5-coder',
  '  replay:<file.jsonl>        play back the model outputs recorded in a JSONL file',
].join('\n');

/** Where a bare GGUF file name is looked for inside the models folder (the catalog installs into llm/). */
export const GGUF_SEARCH_SUBDIRS: readonly string[] = ['', 'llm'];

export interface CreateLlmBackendOptions {
  /** Folder searched for bare GGUF file names (itself and its llm/ subfolder). Default: none. */
  modelsDir?: string;
  /** llama.cpp threads. Default: the llama backend's own (physical cores). */
  threads?: number;
  /** llama.cpp context size in tokens. Default: the llama backend's own. */
  contextSize?: number;
  /** llama.cpp parallel sequences. Default: the llama backend's own. */
  sequences?: number;
  /** llama.cpp GPU layers. Default: the llama backend's own. */
  gpuLayers?: number | 'auto';
  /** Bearer token for openai: specs. The caller reads it from settings. Default: none. */
  apiKey?: string;
  /**
   * Send GBNF grammars to openai: servers (see OpenAiBackendOptions.supportsGrammar; llama-server
   * takes them, most other servers do not). GGUF models always apply grammars. Default: false.
   */
  serverSupportsGrammar?: boolean;
  /**
   * For replay: specs, what a call whose prompt differs from the recording does (see
   * ReplayBackendOptions.onMismatch). Default: 'error'.
   */
  replayMismatch?: ReplayMismatchPolicy;
  /** Cancels model loading. */
  signal?: AbortSignal;
}

/**
 * Parses a model spec without touching the disk: `replay:<file>`, `openai:<baseURL>#<model>`
 * (http or https base URL, model name after the `#`), `llama:<path>`, or anything ending in
 * `.gguf` (case-insensitive). Anything else throws ReckonError 'BAD_MODEL_SPEC' listing the forms.
 */
export function parseModelSpec(spec: string): ModelSpec {
  const trimmed = spec.trim();
  if (trimmed.startsWith('replay:')) {
    const file = trimmed.slice('replay:'.length);
    if (file === '') throw badSpec(spec, 'the replay file is missing after "replay:"');
    return { kind: 'replay', file };
  }
  if (trimmed.startsWith('openai:')) {
    const rest = trimmed.slice('openai:'.length);
    const hash = rest.indexOf('#');
    if (hash < 0) throw badSpec(spec, 'the model name is missing: add "#<model>" after the base URL');
    const baseUrl = rest.slice(0, hash).replace(/\/+$/, '');
    const model = rest.slice(hash + 1);
    if (model === '') throw badSpec(spec, 'the model name after "#" is empty');
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw badSpec(spec, `"${baseUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw badSpec(spec, `the base URL must start with http:// or https://`);
    }
    return { kind: 'openai', baseUrl, model };
  }
  if (trimmed.startsWith('llama:')) {
    const file = trimmed.slice('llama:'.length);
    if (file === '') throw badSpec(spec, 'the GGUF path is missing after "llama:"');
    return { kind: 'llama', path: file };
  }
  if (/\.gguf$/i.test(trimmed)) return { kind: 'llama', path: trimmed };
  throw badSpec(spec);
}

/**
 * Finds a GGUF file: an absolute path as is; a relative path from `cwd` (default process.cwd());
 * a bare file name also in `modelsDir` and `modelsDir/llm` (GGUF_SEARCH_SUBDIRS). Throws
 * ModelNotFoundError listing every place it looked.
 */
export function resolveGgufPath(file: string, options: { modelsDir?: string; cwd?: string } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const candidates = [path.resolve(cwd, file)];
  const isBareName = !path.isAbsolute(file) && !/[\\/]/.test(file);
  if (isBareName && options.modelsDir !== undefined) {
    for (const sub of GGUF_SEARCH_SUBDIRS) candidates.push(path.resolve(options.modelsDir, sub, file));
  }
  for (const candidate of candidates) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  throw new ModelNotFoundError(
    `No GGUF model found at ${[...new Set(candidates)].join(' or ')}. ` +
      `Check the file name, choose another file, or download one from the Models view.`,
  );
}

/**
 * Creates the backend a spec names (see parseModelSpec): a replay backend, an OpenAI-compatible
 * HTTP backend (with `apiKey` and `serverSupportsGrammar`, default false), or node-llama-cpp for a GGUF found by resolveGgufPath, passing
 * threads/contextSize/sequences/gpuLayers/signal through (their defaults are the llama backend's).
 * The result is not wrapped in the retry policy: callers wrap it with withRetry so that retry
 * events reach their own listener.
 */
export async function createLlmBackend(
  spec: string,
  options: CreateLlmBackendOptions = {},
): Promise<LlmBackend> {
  const parsed = parseModelSpec(spec);
  switch (parsed.kind) {
    case 'replay':
      return createReplayBackend({
        file: parsed.file,
        ...(options.replayMismatch ? { onMismatch: options.replayMismatch } : {}),
      });
    case 'openai':
      return createOpenAiBackend({
        baseUrl: parsed.baseUrl,
        model: parsed.model,
        apiKey: options.apiKey,
        supportsGrammar: options.serverSupportsGrammar,
      });
    case 'llama': {
      const modelPath = resolveGgufPath(parsed.path, { modelsDir: options.modelsDir });
      // Loaded lazily: the native binding is heavy and only needed for local GGUF models.
      const { createLlamaCppBackend } = await import('./LlamaCppBackend.ts');
      return createLlamaCppBackend({
        modelPath,
        threads: options.threads,
        contextSize: options.contextSize,
        sequences: options.sequences,
        gpuLayers: options.gpuLayers,
        signal: options.signal,
      });
    }
  }
}

function badSpec(spec: string, detail?: string): ReckonError {
  return new ReckonError(
    'BAD_MODEL_SPEC',
    `"${spec}" is not a model Reckon understands${detail ? ` (${detail})` : ''}. Use one of:\n${MODEL_SPEC_FORMS}`,
  );
}
