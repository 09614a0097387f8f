import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  checkModel,
  estimateModelMemory,
  MODEL_MEMORY_OVERHEAD_BYTES,
} from '../../main/engine/models/checkModel.ts';
import {
  formatReplayHeader,
  formatReplayLine,
  promptFingerprint,
} from '../../main/engine/models/ReplayBackend.ts';

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-check-model-'));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A fetch that answers every request with `status` and `body`, and remembers what it was asked. */
function fakeFetch(
  status: number,
  body: string,
): typeof fetch & { requests: { url: string; init?: RequestInit }[] } {
  const requests: { url: string; init?: RequestInit }[] = [];
  const fn = (async (url: string | URL | Request, init?: RequestInit) => {
    requests.push({ url: String(url), ...(init ? { init } : {}) });
    return new Response(body, { status });
  }) as typeof fetch & { requests: typeof requests };
  fn.requests = requests;
  return fn;
}

describe('estimateModelMemory', () => {
  it('adds the documented overhead to the file size and compares it with the total memory', () => {
    const gib = 1024 ** 3;
    expect(estimateModelMemory(gib, 8 * gib)).toEqual({
      estimatedBytes: Math.round(gib * 1.2 + MODEL_MEMORY_OVERHEAD_BYTES),
      totalMemoryBytes: 8 * gib,
      fits: true,
    });
    expect(estimateModelMemory(7 * gib, 8 * gib).fits).toBe(false);
  });
});

describe('checkModel', () => {
  it('throws BAD_MODEL_SPEC for something that is no model spec', async () => {
    await expect(checkModel('gpt-4')).rejects.toMatchObject({ code: 'BAD_MODEL_SPEC' });
  });

  it('reports a file that is not GGUF by its first bytes, as hex', async () => {
    const file = path.join(dir, 'fake.gguf');
    fs.writeFileSync(file, 'PK\u0003\u0004 not a model');
    const result = await checkModel(file);
    expect(result).toMatchObject({ ok: false, kind: 'llama', gguf: null, problem: { code: 'BAD_GGUF' } });
    expect(result.problem?.message).toContain('504b0304');
  });

  it('lists the server models with the API key, and warns when the model is not among them', async () => {
    const fetch = fakeFetch(200, JSON.stringify({ data: [{ id: 'a' }, { id: 'b' }] }));
    const listed = await checkModel('openai:http://10.0.0.1:8080/v1#a', { fetch, apiKey: 'k' });
    expect(listed).toMatchObject({ ok: true, warnings: [], server: { models: ['a', 'b'], model: 'a' } });
    expect(fetch.requests[0]?.url).toBe('http://10.0.0.1:8080/v1/models');
    expect((fetch.requests[0]?.init?.headers as Record<string, string>).authorization).toBe('Bearer k');
    const other = await checkModel('openai:http://10.0.0.1:8080/v1#c', { fetch });
    expect(other.ok).toBe(true);
    expect(other.warnings[0]).toMatch(/does not list a model named "c"/);
  });

  it('is not usable when the server refuses, answers something else, or does not answer in time', async () => {
    const refused = await checkModel('openai:http://h/v1#m', { fetch: fakeFetch(401, '') });
    expect(refused).toMatchObject({ ok: false, problem: { code: 'SERVER_ERROR' } });
    expect(refused.problem?.message).toMatch(/HTTP 401; check the API key/);
    const html = await checkModel('openai:http://h#m', { fetch: fakeFetch(200, '<html>') });
    expect(html.problem?.message).toMatch(/not JSON/);
    const hanging = (async (_url: string, init?: RequestInit) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      )) as unknown as typeof fetch;
    const slow = await checkModel('openai:http://h/v1#m', { fetch: hanging, serverTimeoutMs: 20 });
    expect(slow).toMatchObject({ ok: false, problem: { code: 'SERVER_UNREACHABLE' } });
    expect(slow.problem?.message).toMatch(/no answer within 20 ms/);
  });

  it('reads a replay file: a hand-written script, and one exported with a header', async () => {
    const script = path.join(dir, 'script.jsonl');
    fs.writeFileSync(script, '{"output":"a"}\n{"error":{"status":503,"message":"busy"}}\n{"output":"b"}\n');
    expect(await checkModel(`replay:${script}`)).toMatchObject({
      ok: true,
      replay: { outputs: 2, failures: 1, recordedFor: null },
    });

    const exported = path.join(dir, 'exported.jsonl');
    const promptSha256 = promptFingerprint([{ role: 'user', content: 'q' }]);
    fs.writeFileSync(
      exported,
      `${formatReplayHeader({ question: 'Q?', strategy: 'direct', promptSha256s: [promptSha256] })}\n${formatReplayLine({ output: 'x', role: 'answer', promptSha256 })}\n`,
    );
    expect(await checkModel(`replay:${exported}`)).toMatchObject({
      ok: true,
      replay: { outputs: 1, recordedFor: { question: 'Q?', strategy: 'direct' } },
    });

    const missing = await checkModel(`replay:${path.join(dir, 'none.jsonl')}`);
    expect(missing).toMatchObject({ ok: false, problem: { code: 'MODEL_NOT_FOUND' } });
  });
});
