/**
 * The only place Reckon reads environment variables. Everything else receives plain options.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository / application root (the folder holding package.json). */
export const APP_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Default data directory when neither --data-dir nor RECKON_HOME is given: ~/.reckon. */
export const DEFAULT_DATA_DIR = path.join(os.homedir(), '.reckon');

/** Default models folder: the app's own `models/` (git-ignored user files). */
export const DEFAULT_MODELS_DIR = path.join(APP_ROOT, 'models');

export interface EnvironmentSettings {
  dataDir: string;
  modelsDir: string;
  /** API key for OpenAI-compatible servers, from RECKON_OPENAI_API_KEY or OPENAI_API_KEY. */
  openAiApiKey: string | undefined;
}

/**
 * Resolves settings from explicit options first, then the environment (RECKON_HOME,
 * RECKON_MODELS_DIR, RECKON_OPENAI_API_KEY / OPENAI_API_KEY), then the defaults above.
 */
export function resolveSettings(
  explicit: { dataDir?: string; modelsDir?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): EnvironmentSettings {
  const dataDir = explicit.dataDir ?? nonEmpty(env.RECKON_HOME) ?? DEFAULT_DATA_DIR;
  const modelsDir = explicit.modelsDir ?? nonEmpty(env.RECKON_MODELS_DIR) ?? DEFAULT_MODELS_DIR;
  return {
    dataDir: path.resolve(dataDir),
    modelsDir: path.resolve(modelsDir),
    openAiApiKey: nonEmpty(env.RECKON_OPENAI_API_KEY) ?? nonEmpty(env.OPENAI_API_KEY),
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value && value.trim() !== '' ? value : undefined;
}

/** RECKON_DEBUG=1 prints stack traces of unexpected errors. */
export function isDebugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  return nonEmpty(env.RECKON_DEBUG) !== undefined && env.RECKON_DEBUG !== '0';
}

/** The renderer dev-server URL electron-vite sets for `npm run dev` (ignored by packaged builds). */
export function electronRendererDevUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return nonEmpty(env.ELECTRON_RENDERER_URL);
}
