/**
 * The app's settings: `<dataDir>/settings.json`, written atomically (temp → fsync → rename). The
 * file only ever holds what the user chose; every default comes from the engine's own named
 * constants, so a setting the user never touched follows the engine when it changes. A damaged or
 * hand-edited file never stops the app: each field that cannot be read falls back to its default
 * with a warning, and the file is left as it is until the user saves settings again.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import {
  llmSettingsSchema,
  retrySettingsSchema,
  sandboxSettingsSchema,
  settingsSchema,
  type CommandOutput,
  type Settings,
} from '../../../preload/contract.ts';
import { ReckonError } from '../errors.ts';
import {
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DELAY_MS,
} from '../models/RetryPolicy.ts';
import { parseModelSpec } from '../models/createLlmBackend.ts';
import { formatZodIssues } from '../runs/parseTraceEvent.ts';
import { DEFAULT_SANDBOX_LIMITS } from '../sandbox/SandboxTypes.ts';
import { atomicWriteFileSync } from '../util/atomicWrite.ts';
import { DEFAULT_CONTEXT_SIZE, DEFAULT_GPU_LAYERS } from '../models/llamaDefaults.ts';

/** File name of the settings inside the data directory. */
export const SETTINGS_FILE = 'settings.json';
/** `version` written into settings.json; a file with another version is read field by field. */
export const SETTINGS_FILE_VERSION = 1;

/** llama.cpp settings (threads, gpuLayers, contextSize), as in the contract; defaults: DEFAULT_LLM_SETTINGS. */
export type LlmSettings = Settings['llm'];
/** Sandbox limits the user may change; defaults: DEFAULT_SANDBOX_SETTINGS. */
export type SandboxSettings = Settings['sandbox'];
/** Retry policy settings; defaults: DEFAULT_RETRY_SETTINGS. */
export type RetrySettings = Settings['retry'];
/** What updateSettings accepts: any subset of the user-changeable settings. */
export type SettingsPatch = {
  activeModel?: string | null;
  llm?: Partial<LlmSettings>;
  sandbox?: Partial<SandboxSettings>;
  retry?: Partial<RetrySettings>;
};

/**
 * llama.cpp defaults: threads null (= physical cores less one, decided when the model loads),
 * gpuLayers 0 and contextSize 4096 — LlamaCppBackend's DEFAULT_GPU_LAYERS and DEFAULT_CONTEXT_SIZE.
 * They are repeated rather than imported because importing LlamaCppBackend loads node-llama-cpp
 * (about a second), which the app must only pay for when a GGUF model is used;
 * tests/unit/appSettingsStore.test.ts fails if the two ever differ.
 */
export const DEFAULT_LLM_SETTINGS: Readonly<LlmSettings> = Object.freeze({
  threads: null,
  gpuLayers: DEFAULT_GPU_LAYERS,
  contextSize: DEFAULT_CONTEXT_SIZE,
});

/** Sandbox defaults: DEFAULT_SANDBOX_LIMITS (64 MiB memory, 256 KiB stack, 20 s deadline, 64 host calls). */
export const DEFAULT_SANDBOX_SETTINGS: Readonly<SandboxSettings> = Object.freeze({
  memoryBytes: DEFAULT_SANDBOX_LIMITS.memoryBytes,
  stackBytes: DEFAULT_SANDBOX_LIMITS.stackBytes,
  deadlineMs: DEFAULT_SANDBOX_LIMITS.deadlineMs,
  maxHostCalls: DEFAULT_SANDBOX_LIMITS.maxHostCalls,
});

/** Retry defaults from RetryPolicy: 4 attempts, 500 ms base delay, 20 s longest wait, 120 s per call. */
export const DEFAULT_RETRY_SETTINGS: Readonly<RetrySettings> = Object.freeze({
  maxAttempts: DEFAULT_MAX_ATTEMPTS,
  baseDelayMs: DEFAULT_BASE_DELAY_MS,
  maxDelayMs: DEFAULT_MAX_DELAY_MS,
  timeoutMs: DEFAULT_CALL_TIMEOUT_MS,
});

/** Options of SettingsStore.open; dataDir and modelsDir are required. */
export interface SettingsStoreOptions {
  /** Folder holding settings.json (created on the first save). */
  dataDir: string;
  /** Reported as Settings.modelsDir; not stored in the file. */
  modelsDir: string;
  /** Told about every field of the file that could not be used. Default: none (read `warnings`). */
  onWarning?: (message: string) => void;
}

type StoredSettings = Omit<Settings, 'dataDir' | 'modelsDir'>;

/**
 * Settings of one data directory. Open with SettingsStore.open(options); get() returns a copy of
 * the current settings, update(patch) validates the merged result against the contract's
 * settingsSchema (ReckonError 'BAD_SETTINGS' naming the field), checks that a new activeModel is a
 * model spec Reckon understands ('BAD_MODEL_SPEC'), writes the file atomically and returns the new
 * settings. Defaults: activeModel null, DEFAULT_LLM_SETTINGS, DEFAULT_SANDBOX_SETTINGS,
 * DEFAULT_RETRY_SETTINGS.
 */
export class SettingsStore {
  readonly filePath: string;
  /** Problems found when the file was read (each field that fell back to its default). */
  readonly warnings: readonly string[];
  private current: StoredSettings;

  private constructor(
    private readonly options: SettingsStoreOptions,
    current: StoredSettings,
    warnings: string[],
  ) {
    this.filePath = path.join(options.dataDir, SETTINGS_FILE);
    this.current = current;
    this.warnings = warnings;
  }

  /**
   * Reads `<dataDir>/settings.json`. A missing file gives the defaults silently; a file that is not
   * JSON gives the defaults with one warning; a field with a wrong value gives that field's default
   * with a warning naming it. Never throws for the file's content.
   */
  static open(options: SettingsStoreOptions): SettingsStore {
    const filePath = path.join(options.dataDir, SETTINGS_FILE);
    const warnings: string[] = [];
    const warn = (message: string): void => {
      warnings.push(message);
      options.onWarning?.(message);
    };
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(filePath, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        warn(
          `${filePath} could not be read (${(error as Error).message}); using the default settings. ` +
            `Saving settings from the app replaces the file.`,
        );
      }
      raw = {};
    }
    return new SettingsStore(options, readStoredSettings(raw, filePath, warn), warnings);
  }

  /** The current settings, dataDir and modelsDir included (a fresh copy each time). */
  get(): CommandOutput<'getSettings'> {
    return structuredClone({
      dataDir: this.options.dataDir,
      modelsDir: this.options.modelsDir,
      ...this.current,
    });
  }

  /** Applies `patch` (fields left out keep their value), saves and returns the new settings. */
  update(patch: SettingsPatch): CommandOutput<'updateSettings'> {
    const next: StoredSettings = {
      activeModel: patch.activeModel === undefined ? this.current.activeModel : patch.activeModel,
      llm: { ...this.current.llm, ...definedOnly(patch.llm) },
      sandbox: { ...this.current.sandbox, ...definedOnly(patch.sandbox) },
      retry: { ...this.current.retry, ...definedOnly(patch.retry) },
    };
    const parsed = settingsSchema.safeParse({
      dataDir: this.options.dataDir,
      modelsDir: this.options.modelsDir,
      ...next,
    });
    if (!parsed.success) {
      throw new ReckonError(
        'BAD_SETTINGS',
        `These settings cannot be saved: ${formatZodIssues(parsed.error)}.`,
        {
          cause: parsed.error,
        },
      );
    }
    if (next.activeModel !== null && next.activeModel !== this.current.activeModel) {
      parseModelSpec(next.activeModel);
    }
    fs.mkdirSync(this.options.dataDir, { recursive: true });
    atomicWriteFileSync(
      this.filePath,
      `${JSON.stringify({ version: SETTINGS_FILE_VERSION, ...next }, null, 2)}\n`,
    );
    this.current = next;
    return this.get();
  }
}

/** Reads each known field on its own, so one bad value costs only that value. */
function readStoredSettings(raw: unknown, filePath: string, warn: (message: string) => void): StoredSettings {
  const file = isRecord(raw) ? raw : {};
  if (!isRecord(raw)) warn(`${filePath} does not hold a JSON object; using the default settings.`);
  let activeModel: string | null = null;
  if (file.activeModel !== undefined && file.activeModel !== null) {
    if (typeof file.activeModel === 'string' && file.activeModel.length <= 4096)
      activeModel = file.activeModel;
    else warn(`${filePath}: "activeModel" is not a model spec; no model is chosen.`);
  }
  return {
    activeModel,
    llm: readSection('llm', llmSettingsSchema, DEFAULT_LLM_SETTINGS, file, filePath, warn),
    sandbox: readSection('sandbox', sandboxSettingsSchema, DEFAULT_SANDBOX_SETTINGS, file, filePath, warn),
    retry: readSection('retry', retrySettingsSchema, DEFAULT_RETRY_SETTINGS, file, filePath, warn),
  };
}

function readSection<T extends Record<string, unknown>>(
  name: string,
  schema: { shape: Record<string, z.ZodType> },
  defaults: Readonly<T>,
  file: Record<string, unknown>,
  filePath: string,
  warn: (message: string) => void,
): T {
  const result = { ...defaults } as T;
  const section = file[name];
  if (section === undefined) return result;
  if (!isRecord(section)) {
    warn(`${filePath}: "${name}" is not an object; using the default ${name} settings.`);
    return result;
  }
  for (const key of Object.keys(defaults) as (keyof T & string)[]) {
    if (section[key] === undefined) continue;
    const parsed = schema.shape[key]?.safeParse(section[key]);
    if (parsed?.success) result[key] = parsed.data as T[typeof key];
    else {
      warn(
        `${filePath}: "${name}.${key}" is invalid${parsed ? ` (${formatZodIssues(parsed.error)})` : ''}; using the default, ${JSON.stringify(defaults[key])}.`,
      );
    }
  }
  return result;
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
