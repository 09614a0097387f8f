import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkRunArguments } from '../../main/cli/commands/checkRunArguments.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'reckon-args-'));
  await mkdir(path.join(dir, 'llm'));
  await writeFile(path.join(dir, 'llm', 'tiny.gguf'), 'GGUF');
  await writeFile(path.join(dir, 'run.jsonl'), '{"role":"plan","output":"x"}\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkRunArguments', () => {
  it('refuses an empty or blank question', () => {
    for (const question of ['', '   ', '\n\t'])
      expect(() => checkRunArguments({ question, model: null }, dir)).toThrow(
        expect.objectContaining({ code: 'EMPTY_QUESTION', message: expect.stringContaining('empty') }),
      );
  });

  it('refuses a malformed spec and model files that are not there', () => {
    expect(() => checkRunArguments({ question: 'q', model: 'gpt-4' }, dir)).toThrow(
      expect.objectContaining({ code: 'BAD_MODEL_SPEC' }),
    );
    expect(() => checkRunArguments({ question: 'q', model: path.join(dir, 'missing.gguf') }, dir)).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND' }),
    );
    expect(() =>
      checkRunArguments({ question: 'q', model: `replay:${path.join(dir, 'missing.jsonl')}` }, dir),
    ).toThrow(
      expect.objectContaining({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('missing.jsonl') }),
    );
  });

  it('accepts a question with an existing GGUF (also by bare name in the models folder), replay file or server', () => {
    expect(() => checkRunArguments({ question: 'Who?', model: 'tiny.gguf' }, dir)).not.toThrow();
    expect(() =>
      checkRunArguments({ question: 'Who?', model: `replay:${path.join(dir, 'run.jsonl')}` }, dir),
    ).not.toThrow();
    expect(() =>
      checkRunArguments({ question: 'Who?', model: 'openai:http://127.0.0.1:9/v1#m' }, dir),
    ).not.toThrow();
    expect(() => checkRunArguments({ model: null }, dir)).not.toThrow();
  });
});
