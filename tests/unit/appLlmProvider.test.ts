import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCachedLlmProvider } from '../../main/engine/app/createCachedLlmProvider.ts';
import type { LlmSettings } from '../../main/engine/app/SettingsStore.ts';
import type { CreateLlmBackendOptions } from '../../main/engine/models/createLlmBackend.ts';
import type { LlmBackend } from '../../main/engine/models/LlmBackend.ts';

let dir: string;
let settings: LlmSettings;
let created: { spec: string; options: CreateLlmBackendOptions; disposed: boolean }[];
let gate: Promise<void> | undefined;

/** A fake backend factory that records what it made (and can be held back with `gate`). */
async function createBackend(spec: string, options: CreateLlmBackendOptions): Promise<LlmBackend> {
  const record = { spec, options, disposed: false };
  created.push(record);
  if (gate) await gate;
  if (options.signal?.aborted) throw Object.assign(new Error('aborted'), { name: 'AbortError' });
  return {
    id: spec,
    parallelism: 2,
    generate: async () => ({ text: `from ${spec}`, promptTokens: 1, completionTokens: 1 }),
    dispose: async () => {
      record.disposed = true;
    },
  };
}

function provider() {
  return createCachedLlmProvider({ modelsDir: dir, llmSettings: () => settings, createBackend });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-llm-'));
  fs.mkdirSync(path.join(dir, 'llm'));
  fs.writeFileSync(path.join(dir, 'llm', 'a.gguf'), 'a');
  fs.writeFileSync(path.join(dir, 'llm', 'b.gguf'), 'b');
  settings = { threads: null, gpuLayers: 0, contextSize: 4096 };
  created = [];
  gate = undefined;
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const signal = (): AbortSignal => new AbortController().signal;

describe('createCachedLlmProvider', () => {
  it('loads a GGUF once and shares it between runs', async () => {
    const cache = provider();
    const first = await cache.provider('a.gguf', signal());
    const second = await cache.provider(path.join(dir, 'llm', 'a.gguf'), signal());
    expect(created).toHaveLength(1);
    expect(created[0]!.spec).toBe(`llama:${path.join(dir, 'llm', 'a.gguf')}`);
    expect(created[0]!.options).toMatchObject({ modelsDir: dir, contextSize: 4096, gpuLayers: 0 });
    expect(created[0]!.options).not.toHaveProperty('threads');
    expect((await first.backend.generate({ messages: [] })).text).toContain('a.gguf');
    // A run disposing "its" backend must not unload the shared one.
    await first.backend.dispose();
    await first.release();
    await second.release();
    expect(created[0]!.disposed).toBe(false);
    await cache.provider('a.gguf', signal()).then((lease) => lease.release());
    expect(created).toHaveLength(1);
    await cache.dispose();
    expect(created[0]!.disposed).toBe(true);
  });

  it('loads again when the file or the llama.cpp settings change, freeing the old model after its last run', async () => {
    const cache = provider();
    const a = await cache.provider('a.gguf', signal());
    settings = { ...settings, threads: 3 };
    const aWithThreads = await cache.provider('a.gguf', signal());
    expect(created).toHaveLength(2);
    expect(created[1]!.options.threads).toBe(3);
    expect(created[0]!.disposed).toBe(false);
    await a.release();
    expect(created[0]!.disposed).toBe(true);
    const b = await cache.provider('b.gguf', signal());
    expect(created).toHaveLength(3);
    await b.release();
    expect(created[1]!.disposed).toBe(false);
    await aWithThreads.release();
    expect(created[1]!.disposed).toBe(true);
    await cache.dispose();
    expect(created[2]!.disposed).toBe(true);
  });

  it('makes replay and server backends fresh per run and disposes them on release', async () => {
    const cache = provider();
    const one = await cache.provider('replay:/tmp/one.jsonl', signal());
    const two = await cache.provider('replay:/tmp/one.jsonl', signal());
    expect(created).toHaveLength(2);
    await one.release();
    expect(created[0]!.disposed).toBe(true);
    expect(created[1]!.disposed).toBe(false);
    await two.release();
    expect(cache.cachedKey()).toBeUndefined();
  });

  it('stops waiting when a run is cancelled during the load, and aborts a load nobody waits for', async () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const cache = provider();
    const controller = new AbortController();
    const waiting = cache.provider('a.gguf', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(created[0]!.options.signal?.aborted).toBe(true);
    expect(cache.cachedKey()).toBeUndefined();
    open();
    gate = undefined;
    // The next run loads afresh.
    const lease = await cache.provider('a.gguf', signal());
    expect(created).toHaveLength(2);
    await lease.release();
    await cache.dispose();
  });

  it('does not cache a failed load', async () => {
    const cache = provider();
    await expect(cache.provider('missing.gguf', signal())).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect(created).toHaveLength(0);
    await expect(cache.provider('nonsense', signal())).rejects.toMatchObject({ code: 'BAD_MODEL_SPEC' });
    await cache.dispose();
    await expect(cache.provider('a.gguf', signal())).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});
