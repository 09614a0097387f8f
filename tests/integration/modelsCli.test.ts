/**
 * First contact with models, asking and replay through the real `reckon` command: a model is
 * checked when chosen (`models check`, `models list`, `models remove`), `--mode dense` without
 * vectors is a usage error, and an exported replay file is checked against the prompts it plays to.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { type CliRun, ofType, runReckon } from '../fixtures/runReckon.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';

let tmp: string;
let modelsDir: string;
let env: NodeJS.ProcessEnv;
let server: http.Server;
let serverUrl: string;

function reckon(args: string[]): Promise<CliRun> {
  return runReckon(args, env);
}

function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-models-cli-'));
  modelsDir = path.join(tmp, 'models');
  await makeTinyGguf({ path: path.join(modelsDir, 'llm', 'tiny.gguf') });
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: modelsDir };
  // A stand-in OpenAI-compatible server: GET /v1/models lists one model.
  server = http.createServer((request, response) => {
    if (request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny-coder', object: 'model' }] }));
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon models', () => {
  it('checks a GGUF header and generates one token with the real backend', async () => {
    const run = await reckon(['models', 'check', 'tiny.gguf', '--generate', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = json<{
      ok: boolean;
      gguf: { architecture: string; quantization: string; sizeBytes: number; memory: { fits: boolean } };
      generation: { durationMs: number } | null;
    }>(run);
    expect(result.ok).toBe(true);
    expect(result.gguf).toMatchObject({ architecture: 'llama', quantization: 'F32' });
    expect(result.gguf.sizeBytes).toBe(fs.statSync(path.join(modelsDir, 'llm', 'tiny.gguf')).size);
    expect(result.generation).not.toBeNull();

    const text = await reckon(['models', 'check', 'tiny.gguf']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/architecture llama \(reckon-tiny-test\), F32/);
    expect(text.stdout).toMatch(/memory: ~.* needed \(estimate\)/);
    expect(text.stdout).toMatch(/^Ready: tiny\.gguf$/m);
  });

  it('exits 1 for a model that is not usable and 2 for a spec that is no model spec', async () => {
    const missing = await reckon(['models', 'check', path.join(tmp, 'nope.gguf')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Not usable: No GGUF model found/);

    const notGguf = path.join(tmp, 'notes.gguf');
    fs.writeFileSync(notGguf, Buffer.from([0x00, 0x01, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x00]));
    const broken = await reckon(['models', 'check', notGguf, '--json']);
    expect(broken.code).toBe(1);
    expect(json(broken)).toMatchObject({ ok: false, problem: { code: 'BAD_GGUF' } });
    const brokenText = await reckon(['models', 'check', notGguf]);
    // The bytes are shown as hex, never raw.
    expect(brokenText.stderr).toContain('0001ff1b');
    expect(brokenText.stderr).not.toContain('\u001b');

    const badReplay = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(badReplay, '{"output":"ok"}\nnot json\n');
    const replay = await reckon(['models', 'check', `replay:${badReplay}`, '--json']);
    expect(replay.code).toBe(1);
    expect(json(replay)).toMatchObject({ ok: false, problem: { code: 'BAD_REPLAY_FILE' } });

    const badSpec = await reckon(['models', 'check', 'gpt-4']);
    expect(badSpec.code).toBe(2);
    expect(badSpec.stderr).toMatch(/not a model Reckon understands/);
  });

  it('checks a server through GET <url>/models, and says when it is unreachable', async () => {
    const ok = await reckon(['models', 'check', `openai:${serverUrl}#tiny-coder`, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json(ok)).toMatchObject({ ok: true, server: { models: ['tiny-coder'] }, warnings: [] });

    const unlisted = await reckon(['models', 'check', `openai:${serverUrl}#other`, '--json']);
    expect(unlisted.code).toBe(0);
    expect(json<{ warnings: string[] }>(unlisted).warnings[0]).toMatch(/does not list a model named "other"/);

    // A port nothing listens on: a closed server.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const down = await reckon(['models', 'check', `openai:http://127.0.0.1:${port}/v1#x`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /Could not reach the model server at http:\/\/127\.0\.0\.1:\d+\/v1 \(ECONNREFUSED\)/,
    );
  });

  it('lists sizes, what is installed and whether it fits in memory, labelled as an estimate', async () => {
    const run = await reckon(['models', 'list', '--json']);
    expect(run.code).toBe(0);
    const listed = json<{
      totalMemoryBytes: number;
      memoryEstimate: string;
      local: { path: string; sizeBytes: number; memory: { fits: boolean; estimatedBytes: number } | null }[];
    }>(run);
    expect(listed.totalMemoryBytes).toBe(os.totalmem());
    expect(listed.memoryEstimate).toMatch(/memory estimate = file size/);
    const tiny = listed.local.find((file) => file.path.endsWith('tiny.gguf'));
    expect(tiny?.memory).toMatchObject({ fits: true });
    expect(tiny!.memory!.estimatedBytes).toBeGreaterThan(tiny!.sizeBytes);

    const text = await reckon(['models', 'list']);
    expect(text.stdout).toMatch(/tiny\.gguf \(.*\) fits \(~/);
    expect(text.stdout).toMatch(/memory estimate = file size/);
  });

  it('removes a model inside the models folder only', async () => {
    const outside = path.join(tmp, 'outside.gguf');
    fs.copyFileSync(path.join(modelsDir, 'llm', 'tiny.gguf'), outside);
    const refused = await reckon(['models', 'remove', outside]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not inside the models folder/);
    expect(fs.existsSync(outside)).toBe(true);

    const extra = path.join(modelsDir, 'llm', 'extra.gguf');
    fs.copyFileSync(outside, extra);
    const removed = await reckon(['models', 'remove', 'extra.gguf', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(json(removed)).toMatchObject({ removed: [extra] });
    expect(fs.existsSync(extra)).toBe(false);

    const again = await reckon(['models', 'remove', 'extra.gguf']);
    expect(again.code).toBe(2);
  });
});

describe('reckon ask: dense search and honest replay', () => {
  let corpusDir: string;

  beforeAll(async () => {
    corpusDir = path.join(tmp, 'docs');
    fs.mkdirSync(corpusDir, { recursive: true });
    fs.writeFileSync(
      path.join(corpusDir, 'paris.md'),
      '# Paris\n\nParis is the capital of France. The Seine flows through it.\n',
    );
    // No embedder in the models folder: the corpus has no vectors.
    const ingest = await reckon(['ingest', corpusDir, '--corpus', 'notes']);
    expect(ingest.code, ingest.stderr).toBe(0);
  });

  it('refuses --mode dense on a corpus without vectors, naming hybrid, and saves no run', async () => {
    const script = path.join(tmp, 'one.jsonl');
    fs.writeFileSync(script, '{"output":"Paris"}\n');
    const run = await reckon([
      'ask',
      'What is the capital of France?',
      '--corpus',
      'notes',
      '--strategy',
      'vanilla',
      '--mode',
      'dense',
      '--model',
      `replay:${script}`,
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Dense search is unavailable for this corpus/);
    expect(run.stderr).toMatch(/--mode hybrid/);
    const search = await reckon(['search', 'capital', '--corpus', 'notes', '--mode', 'dense']);
    expect(search.code).toBe(2);
    const runs = json<{ runs: unknown[] }>(await reckon(['runs', 'list', '--json']));
    expect(runs.runs).toEqual([]);
  });

  it('shows a dense-search warning once per run, not once per retrieve() call', async () => {
    const program = path.join(tmp, 'three-searches.js');
    fs.writeFileSync(
      program,
      'const a = await retrieve("capital");\nconst b = await retrieve("Seine");\nconst c = await retrieve("France");\nreturn a.length + b.length + c.length;\n',
    );
    const run = await reckon(['run-program', program, '--corpus', 'notes', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const events = json<{ events: TraceEvent[] }>(run).events;
    expect(ofType(events, 'tool-call').length).toBeGreaterThanOrEqual(3);
    const warnings = ofType(events, 'warning');
    expect(warnings.filter((w) => /Dense search is unavailable/.test(w.message))).toHaveLength(1);
  });

  it('exports a replay with a header; other prompts are REPLAY_MISMATCH, or a warning with --force-replay', async () => {
    const script = path.join(tmp, 'direct.jsonl');
    fs.writeFileSync(script, '{"output":"Paris"}\n');
    const first = await reckon([
      'ask',
      'What is the capital of France?',
      '--strategy',
      'direct',
      '--model',
      `replay:${script}`,
      '--json',
    ]);
    expect(first.code, first.stderr).toBe(0);
    const runId = json<{ runId: string }>(first).runId;
    const exported = path.join(tmp, 'exported.jsonl');
    const exportRun = await reckon([
      'runs',
      'export',
      runId,
      '--out',
      path.join(tmp, 'run.json'),
      '--replay',
      exported,
    ]);
    expect(exportRun.code, exportRun.stderr).toBe(0);
    const [header, line] = fs
      .readFileSync(exported, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(header).toMatchObject({
      format: 'reckon-replay',
      question: 'What is the capital of France?',
      strategy: 'direct',
      calls: 1,
    });
    expect(String(header!.fingerprint)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(line).toMatchObject({ output: 'Paris' });

    // The same question plays back exactly.
    const same = await reckon([
      'ask',
      'What is the capital of France?',
      '--strategy',
      'direct',
      '--model',
      `replay:${exported}`,
      '--json',
    ]);
    expect(same.code, same.stderr).toBe(0);
    expect(json(same)).toMatchObject({ status: 'succeeded', answer: 'Paris' });

    // Another question: a clear error naming what it was recorded for.
    const other = await reckon([
      'ask',
      'What is the capital of Spain?',
      '--strategy',
      'direct',
      '--model',
      `replay:${exported}`,
      '--json',
    ]);
    expect(other.code).toBe(1);
    const failed = json<{ error: { code: string; message: string } }>(other);
    expect(failed.error.code).toBe('REPLAY_MISMATCH');
    expect(failed.error.message).toContain('recorded for the question "What is the capital of France?"');
    // A deterministic error is not shown as a retry.
    expect(ofType(json<{ events: TraceEvent[] }>(other).events, 'retry')).toEqual([]);

    const forced = await reckon([
      'ask',
      'What is the capital of Spain?',
      '--strategy',
      'direct',
      '--model',
      `replay:${exported}`,
      '--force-replay',
      '--json',
    ]);
    expect(forced.code, forced.stderr).toBe(0);
    const warnings = ofType(json<{ events: TraceEvent[] }>(forced).events, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(
      /^Replayed anyway: Call 1 \(role "[a-z]+"\) was asked a different prompt/,
    );
  });
});
