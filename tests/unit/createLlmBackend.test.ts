import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelNotFoundError, ReckonError } from '../../main/engine/errors.ts';
import {
  createLlmBackend,
  parseModelSpec,
  resolveGgufPath,
} from '../../main/engine/models/createLlmBackend.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reckon-spec-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseModelSpec', () => {
  it.each([
    ['replay:runs/a.jsonl', { kind: 'replay', file: 'runs/a.jsonl' }],
    [
      'openai:http://127.0.0.1:8080/v1#qwen2.5-coder',
      { kind: 'openai', baseUrl: 'http://127.0.0.1:8080/v1', model: 'qwen2.5-coder' },
    ],
    [
      'openai:https://example.org/v1/#hf.co/org/repo:Q4_K_M',
      { kind: 'openai', baseUrl: 'https://example.org/v1', model: 'hf.co/org/repo:Q4_K_M' },
    ],
    ['llama:/models/x.bin', { kind: 'llama', path: '/models/x.bin' }],
    ['/abs/model.gguf', { kind: 'llama', path: '/abs/model.gguf' }],
    ['models/llm/Model-Q4_K_M.GGUF', { kind: 'llama', path: 'models/llm/Model-Q4_K_M.GGUF' }],
    [
      'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf',
      { kind: 'llama', path: 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf' },
    ],
    ['C:\\models\\m.gguf', { kind: 'llama', path: 'C:\\models\\m.gguf' }],
  ])('%s', (spec, expected) => {
    expect(parseModelSpec(spec)).toEqual(expected);
  });

  it.each([
    ['gpt-4', undefined],
    ['', undefined],
    ['replay:', 'replay file is missing'],
    ['openai:http://127.0.0.1:8080/v1', 'model name is missing'],
    ['openai:http://127.0.0.1:8080/v1#', 'empty'],
    ['openai:ftp://host/v1#m', 'http:// or https://'],
    ['openai:not a url#m', 'is not a URL'],
    ['llama:', 'GGUF path is missing'],
  ])('rejects %j with BAD_MODEL_SPEC listing the accepted forms', (spec, detail) => {
    let error: unknown;
    try {
      parseModelSpec(spec);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReckonError);
    expect(error).toMatchObject({ code: 'BAD_MODEL_SPEC' });
    const message = (error as Error).message;
    for (const form of ['replay:<file.jsonl>', 'openai:<baseURL>#<model>', 'llama:<path>', '<file.gguf>']) {
      expect(message).toContain(form);
    }
    if (detail) expect(message).toContain(detail);
  });
});

describe('resolveGgufPath', () => {
  it('finds absolute, cwd-relative and bare names in the models folder and its llm/ folder', async () => {
    const modelsDir = path.join(dir, 'models');
    await mkdir(path.join(modelsDir, 'llm'), { recursive: true });
    await writeFile(path.join(modelsDir, 'top.gguf'), 'x');
    await writeFile(path.join(modelsDir, 'llm', 'nested.gguf'), 'x');
    await writeFile(path.join(dir, 'here.gguf'), 'x');

    expect(resolveGgufPath(path.join(dir, 'here.gguf'))).toBe(path.join(dir, 'here.gguf'));
    expect(resolveGgufPath('here.gguf', { cwd: dir, modelsDir })).toBe(path.join(dir, 'here.gguf'));
    expect(resolveGgufPath('top.gguf', { cwd: os.tmpdir(), modelsDir })).toBe(
      path.join(modelsDir, 'top.gguf'),
    );
    expect(resolveGgufPath('nested.gguf', { cwd: os.tmpdir(), modelsDir })).toBe(
      path.join(modelsDir, 'llm', 'nested.gguf'),
    );
  });

  it('names every place it looked when the file is missing', () => {
    const modelsDir = path.join(dir, 'models');
    let error: unknown;
    try {
      resolveGgufPath('absent.gguf', { cwd: dir, modelsDir });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ModelNotFoundError);
    const message = (error as Error).message;
    expect(message).toContain(path.join(dir, 'absent.gguf'));
    expect(message).toContain(path.join(modelsDir, 'absent.gguf'));
    expect(message).toContain(path.join(modelsDir, 'llm', 'absent.gguf'));
  });
});

describe('createLlmBackend', () => {
  it('creates a replay backend', async () => {
    const file = path.join(dir, 'r.jsonl');
    await writeFile(file, '{"output":"hello"}\n');
    const backend = await createLlmBackend(`replay:${file}`);
    expect(backend.id).toBe(`replay:${file}`);
    expect((await backend.generate({ messages: [] })).text).toBe('hello');
  });

  it('creates an OpenAI-compatible backend without contacting the server', async () => {
    const backend = await createLlmBackend('openai:http://127.0.0.1:9/v1#m', { apiKey: 'k' });
    expect(backend.id).toBe('openai:http://127.0.0.1:9/v1#m');
    expect(backend.parallelism).toBe(4);
    await backend.dispose();
  });

  it('reports a missing GGUF before loading the native library', async () => {
    await expect(
      createLlmBackend('no-such-model.gguf', { modelsDir: path.join(dir, 'models') }),
    ).rejects.toBeInstanceOf(ModelNotFoundError);
  });

  it('rejects an unknown spec', async () => {
    await expect(createLlmBackend('gpt-4')).rejects.toMatchObject({ code: 'BAD_MODEL_SPEC' });
  });
});
