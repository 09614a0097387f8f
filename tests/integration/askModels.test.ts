/**
 * `reckon run-program` and `reckon ask` on real model paths: a user's two-hop program with no model,
 * an OpenAI-compatible server on 127.0.0.1 that answers 429 and 503 before succeeding, and the real
 * node-llama-cpp path on a tiny generated GGUF (whose random output must end in a typed result).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { type CliRun, HOTPOT_DEV, ofType, runReckon } from '../fixtures/runReckon.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;

const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env, { timeoutMs: 240_000 });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-ask-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  const ingest = await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--embedder', 'none', '--quiet']);
  expect(ingest.code, ingest.stderr).toBe(0);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon run-program', () => {
  it('runs a two-hop program whose retrieve() calls find the right HotpotQA paragraphs, without a model', async () => {
    const file = path.join(tmp, 'two-hop.js');
    fs.writeFileSync(
      file,
      [
        '// Which film did the director of "Doctor Strange" also direct?',
        'const first = await retrieve("Doctor Strange 2016 film directed by");',
        'const director = first[0].text.match(/directed by ([A-Z][a-z]+ [A-Z][a-z]+)/)[1];',
        'const second = await retrieve(`${director} horror films`, 3);',
        'const titles = second.map((doc) => doc.title);',
        'return { director, titles };',
      ].join('\n'),
    );
    const run = await reckon(['run-program', file, '--corpus', 'hotpot', '--mode', 'bm25', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(result.status).toBe('succeeded');
    expect(JSON.parse(result.answer!)).toMatchObject({
      director: 'Scott Derrickson',
      titles: expect.arrayContaining(['Scott Derrickson']),
    });

    const calls = ofType(result.events, 'tool-call');
    expect(calls.map((c) => [c.tool, c.line])).toEqual([
      ['retrieve', 2],
      ['retrieve', 4],
    ]);
    const results = ofType(result.events, 'tool-result');
    expect(results[0]!.chunks![0]!.title).toBe('Doctor Strange (2016 film)');
    expect(results[1]!.chunks).toHaveLength(3);
    expect(ofType(result.events, 'binding').map((b) => [b.name, b.line])).toEqual([
      ['first', 2],
      ['director', 3],
      ['second', 4],
      ['titles', 5],
    ]);
    expect(result.metrics).toMatchObject({
      llmCalls: 0,
      program: { hostCalls: 2, cyclomaticComplexity: 1, programLines: 5, executable: true },
    });
    expect(result.metrics.program!.hostCallSites).toEqual({ retrieve: 2, answer: 0 });
    // The arrow function passed to map() runs one level deep.
    expect(result.metrics.program!.maxStackDepth).toBe(1);
  });

  it('ends with a typed failure, not a crash, when the program is broken or answer() has no model', async () => {
    const broken = path.join(tmp, 'broken.js');
    fs.writeFileSync(broken, 'const x = ;');
    const syntax = JSON.parse((await reckon(['run-program', broken, '--json'])).stdout) as RunResult;
    expect(syntax).toMatchObject({ status: 'failed', error: { code: 'PROGRAM_SYNTAXERROR' } });

    const needsModel = path.join(tmp, 'needs-model.js');
    fs.writeFileSync(needsModel, 'return answer("What?");');
    const run = await reckon(['run-program', needsModel, '--json']);
    expect(run.code).toBe(1);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(result.error?.code).toBe('PROGRAM_HOSTERROR');
    expect(result.error?.message).toMatch(/--model/);
  });
});

describe('reckon ask against an OpenAI-compatible server that answers 429 and 503 first', () => {
  it('completes and shows each retry with its backoff delay', async () => {
    const question = 'Were Scott Derrickson and Ed Wood of the same nationality?';
    const program = [
      '```javascript',
      'const [a, b] = await Promise.all([retrieve("Scott Derrickson"), retrieve("Ed Wood")]);',
      'const [natA, natB] = await Promise.all([answer("Nationality of Scott Derrickson?", a), answer("Nationality of Ed Wood?", b)]);',
      `return await answer(\`Given: \${natA} and \${natB}. Answer the question: ${question}\`);`,
      '```',
    ].join('\n');
    const outputs = [
      '["What is the nationality of Scott Derrickson?", "What is the nationality of Ed Wood?"]',
      program,
      '[1] <answer>American</answer>',
      '[1] <answer>American</answer>',
      '<answer>yes</answer>',
    ];
    const failures = [429, 503];
    const seen: { status: number; retryAfter?: string }[] = [];
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const failure = failures.shift();
        if (failure) {
          seen.push({ status: failure });
          res.writeHead(failure, {
            'content-type': 'application/json',
            ...(failure === 429 ? { 'retry-after': '0' } : {}),
          });
          res.end(JSON.stringify({ error: { message: failure === 429 ? 'rate limited' : 'overloaded' } }));
          return;
        }
        const content = outputs.shift() ?? '<answer>unknown</answer>';
        seen.push({ status: 200 });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: Math.ceil(body.length / 4),
              completion_tokens: Math.ceil(content.length / 4),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const run = await reckon([
        'ask',
        question,
        '--corpus',
        'hotpot',
        '--model',
        `openai:http://127.0.0.1:${port}/v1#test-model`,
        '--mode',
        'bm25',
        '--retry-base-ms',
        '20',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as RunResult;
      expect(result).toMatchObject({ status: 'succeeded', answer: 'yes' });
      const retries = ofType(result.events, 'retry');
      expect(retries.map((r) => [r.role, r.attempt, r.outcome])).toEqual([
        ['decompose', 1, 'retrying'],
        ['decompose', 2, 'retrying'],
      ]);
      expect(retries[0]!.reason).toMatch(/429/);
      expect(retries[1]!.reason).toMatch(/503/);
      for (const retry of retries) expect(retry.delayMs).toBeGreaterThanOrEqual(0);
      // Full jitter on a 20 ms base: the second delay is at most 40 ms.
      expect(retries[1]!.delayMs).toBeLessThanOrEqual(40);
      expect(result.metrics.retries).toBe(2);
      expect(seen.map((s) => s.status)).toEqual([429, 503, 200, 200, 200, 200, 200]);
    } finally {
      server.close();
    }
  });
});

describe('reckon ask against a slow model server', () => {
  it('completes without a Timeout or a repair: the deadline counts the program, not the model', async () => {
    const question = 'Were Scott Derrickson and Ed Wood of the same nationality?';
    const program = [
      '```javascript',
      'const a = await retrieve("Scott Derrickson");',
      'const natA = await answer("Nationality of Scott Derrickson?", a);',
      'const b = await retrieve("Ed Wood");',
      'const natB = await answer("Nationality of Ed Wood?", b);',
      `return await answer(\`Given: \${natA} and \${natB}. Answer the question: ${question}\`);`,
      '```',
    ].join('\n');
    const outputs = [
      '["What is the nationality of Scott Derrickson?", "What is the nationality of Ed Wood?"]',
      program,
      '[1] <answer>American</answer>',
      '[1] <answer>American</answer>',
      '<answer>yes</answer>',
    ];
    // Every answer() call takes longer than the whole sandbox deadline (1 s below).
    const ANSWER_DELAY_MS = 1_500;
    let calls = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const content = outputs.shift() ?? '<answer>unknown</answer>';
        const send = (): void => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
              usage: { prompt_tokens: 10, completion_tokens: 5 },
            }),
          );
        };
        calls++;
        if (calls > 2) setTimeout(send, ANSWER_DELAY_MS);
        else send();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const run = await reckon([
        'ask',
        question,
        '--corpus',
        'hotpot',
        '--model',
        `openai:http://127.0.0.1:${port}/v1#slow-model`,
        '--mode',
        'bm25',
        '--deadline-ms',
        '1000',
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout) as RunResult;
      expect(result).toMatchObject({ status: 'succeeded', answer: 'yes' });
      expect(ofType(result.events, 'runtime-error')).toEqual([]);
      expect(ofType(result.events, 'repair-requested')).toEqual([]);
      expect(result.metrics.program).toMatchObject({ executions: 1, repairs: 0, executable: true });
      // The three answers really were slow: the run took longer than the deadline several times over.
      expect(result.metrics.phaseMs.execute).toBeGreaterThan(3 * ANSWER_DELAY_MS);
    } finally {
      server.close();
    }
  }, 60_000);
});

describe('reckon ask on a tiny generated GGUF (the real node-llama-cpp path)', () => {
  it('ends in a typed result whatever the random model writes', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    const run = await reckon([
      'ask',
      'Who directed Doctor Strange?',
      '--corpus',
      'hotpot',
      '--model',
      gguf,
      '--threads',
      '1',
      '--context-size',
      '2048',
      '--mode',
      'bm25',
      '--json',
    ]);
    expect([0, 1]).toContain(run.code);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(['succeeded', 'failed']).toContain(result.status);
    expect(result.events[0]).toMatchObject({ type: 'run-started', model: gguf });
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
    // The model really ran: decomposition plus at least one program attempt.
    expect(result.metrics.llmCalls).toBeGreaterThanOrEqual(2);
    expect(result.metrics.completionTokens).toBeGreaterThan(0);
    expect(ofType(result.events, 'decomposition')).toHaveLength(1);
    expect(ofType(result.events, 'program-generated').length).toBeGreaterThanOrEqual(1);
    if (result.status === 'failed') expect(result.error?.message.length).toBeGreaterThan(0);
  }, 240_000);

  it('runs FLARE through the real token-probability path and ends in a typed result', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    const run = await reckon([
      'ask',
      'Who directed Doctor Strange?',
      '--corpus',
      'hotpot',
      '--strategy',
      'flare',
      '--option',
      'maxSentences=2',
      '--option',
      'sentenceMaxTokens=8',
      '--option',
      'answerMaxTokens=16',
      '--model',
      gguf,
      '--threads',
      '1',
      '--context-size',
      '2048',
      '--mode',
      'bm25',
      '--json',
    ]);
    expect([0, 1]).toContain(run.code);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(['succeeded', 'failed']).toContain(result.status);
    expect(result.events[0]).toMatchObject({ type: 'run-started', strategy: 'flare', model: gguf });
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
    if (result.status === 'failed') {
      expect(result.error?.message.length).toBeGreaterThan(0);
      // Whatever went wrong, it was not a missing probability: the local backend has them.
      expect(result.error?.code).not.toBe('TOKEN_PROBABILITIES_UNSUPPORTED');
    }
    // At least one look-ahead ran with probabilities, and its sentence step carries the minimum.
    const lookaheads = ofType(result.events, 'llm-call').filter((call) => call.role === 'lookahead');
    expect(lookaheads.length).toBeGreaterThanOrEqual(1);
    const sentences = ofType(result.events, 'step').filter((step) => step.kind === 'sentence');
    for (const sentence of sentences) {
      expect(sentence.data?.minProbability).toEqual(expect.any(Number));
      expect(sentence.data?.minProbability as number).toBeGreaterThanOrEqual(0);
      expect(sentence.data?.minProbability as number).toBeLessThanOrEqual(1);
    }
    expect(result.metrics.strategy).toMatchObject({ retrievals: expect.any(Number) });
  }, 240_000);

  it('runs Chain-of-Code on the real backend and ends in a typed result', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    const run = await reckon([
      'ask',
      'How many letters are in the word river?',
      '--corpus',
      'hotpot',
      '--strategy',
      'coc',
      '--option',
      'maxProgramAttempts=1',
      '--option',
      'maxRepairs=0',
      '--option',
      'programMaxTokens=64',
      '--option',
      'simulationMaxTokens=16',
      '--model',
      gguf,
      '--threads',
      '1',
      '--context-size',
      '2048',
      '--json',
    ]);
    expect([0, 1]).toContain(run.code);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(['succeeded', 'failed']).toContain(result.status);
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
    expect(ofType(result.events, 'program-generated')).toHaveLength(1);
    if (result.status === 'failed') expect(result.error?.message.length).toBeGreaterThan(0);
  }, 240_000);
});
