import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_LLM_SETTINGS, SETTINGS_FILE, SettingsStore } from '../../main/engine/app/SettingsStore.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-settings-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('SettingsStore', () => {
  it('creates nothing until the first save, then writes only the user-changeable fields', () => {
    const store = SettingsStore.open({ dataDir: path.join(dir, 'new'), modelsDir: '/models' });
    expect(store.warnings).toEqual([]);
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false);
    const saved = store.update({ llm: { gpuLayers: 4, threads: undefined } });
    expect(saved).toMatchObject({
      dataDir: path.join(dir, 'new'),
      modelsDir: '/models',
      llm: { gpuLayers: 4, threads: null },
    });
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'new', SETTINGS_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(Object.keys(file).sort()).toEqual(['activeModel', 'llm', 'retry', 'sandbox', 'version']);
  });

  it('returns copies, so callers cannot change the store by accident', () => {
    const store = SettingsStore.open({ dataDir: dir, modelsDir: '/models' });
    const settings = store.get();
    settings.llm.contextSize = 1;
    expect(store.get().llm.contextSize).toBe(DEFAULT_LLM_SETTINGS.contextSize);
  });

  it('names the field of an invalid update and keeps the old settings', () => {
    const store = SettingsStore.open({ dataDir: dir, modelsDir: '/models' });
    expect(() => store.update({ retry: { maxAttempts: 0 } })).toThrow(/retry\.maxAttempts/);
    expect(() => store.update({ activeModel: 'model.bin' })).toThrow(
      expect.objectContaining({ code: 'BAD_MODEL_SPEC' }),
    );
    expect(store.get().retry.maxAttempts).not.toBe(0);
    expect(fs.existsSync(path.join(dir, SETTINGS_FILE))).toBe(false);
  });

  it('reports a file that is JSON but not an object', () => {
    fs.writeFileSync(path.join(dir, SETTINGS_FILE), '[1, 2]');
    const seen: string[] = [];
    const store = SettingsStore.open({ dataDir: dir, modelsDir: '/models', onWarning: (m) => seen.push(m) });
    expect(store.get().activeModel).toBeNull();
    expect(seen).toEqual([expect.stringMatching(/does not hold a JSON object/)]);
    expect(store.warnings).toEqual(seen);
  });
});
