/**
 * ICRAG through the `reckon` command: `reckon memory build` on a slice of GSM8K with a replay model
 * (k-fold folds, resumable), `memory list`, then `reckon ask --strategy icrag --memory` on one of the
 * slice's own questions — its JSON trace shows the code versions, the query, the solved examples
 * retrieved (never the question's own, nor its fold), a simulated call and the executed answer —
 * `memory remove`; with the generated tiny ONNX encoder installed, `memory build` stores task vectors
 * (`memory list` shows the embedder), another embedder is refused unless --reembed, and an ICRAG run
 * searches R2 densely; and one run on the generated tiny GGUF that ends in a typed result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import { makeTinyEncoder } from '../fixtures/makeTinyEncoder.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { type CliRun, REPO_ROOT, ofType, runReckon } from '../fixtures/runReckon.ts';

const GSM8K = path.resolve(REPO_ROOT, '../shared/data/gsm8k/test_300.jsonl');

let tmp: string;
let env: NodeJS.ProcessEnv;
let questions: string[];
const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env, { timeoutMs: 120_000 });

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-icrag-cli-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  questions = fs
    .readFileSync(GSM8K, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .slice(0, 6)
    .map((line) => (JSON.parse(line) as { question: string }).question);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Line = { role: string; output: string };
function replayFile(name: string, lines: Line[]): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  return file;
}
const memoryProgram = (n: number): Line => ({
  role: 'memory-program',
  output: `\`\`\`javascript\nconst answer = ${n};\nreturn answer;\n\`\`\``,
});

interface BuildSummary {
  built: number;
  skipped: number;
  failed: number;
  examples: number;
  foldSizes: Record<string, number>;
  cancelled: boolean;
  vectors: { modelId: string; dimension: number; count: number; embedded: number } | null;
}

describe('reckon memory and reckon ask --strategy icrag', () => {
  it('builds a k-fold memory from GSM8K, resumes it, and an ICRAG run never retrieves its own fold', async () => {
    const build = await reckon([
      'memory',
      'build',
      '--dataset',
      GSM8K,
      '--limit',
      '4',
      '--k-fold',
      '2',
      '--name',
      'gsm',
      '--model',
      `replay:${replayFile('build1.jsonl', [0, 1, 2, 3].map(memoryProgram))}`,
      '--json',
    ]);
    expect(build.code, build.stderr).toBe(0);
    expect(JSON.parse(build.stdout)).toMatchObject({
      built: 4,
      skipped: 0,
      failed: 0,
      examples: 4,
      foldSizes: { '0': 2, '1': 2 },
      cancelled: false,
      vectors: null,
    } satisfies Partial<BuildSummary>);
    // No embedding model installed: BM25 only, said once, not an error.
    expect(JSON.parse(build.stdout).embeddingSkipped).toMatch(/no embedding model/);
    expect(build.stderr).toContain('[4/4] gsm8k-3');

    // Resumed with a larger slice: the first four are kept, two more are made.
    const resume = await reckon([
      'memory',
      'build',
      '--dataset',
      GSM8K,
      '--limit',
      '6',
      '--k-fold',
      '2',
      '--name',
      'gsm',
      '--model',
      `replay:${replayFile('build2.jsonl', [4, 5].map(memoryProgram))}`,
      '--json',
      '--quiet',
    ]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ built: 2, skipped: 4, examples: 6 });

    const list = await reckon(['memory', 'list', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({
      memories: [{ name: 'gsm', examples: 6, folds: { '0': 3, '1': 3 }, info: { folds: 2 } }],
    });

    // A different k for the same memory is refused.
    const mismatch = await reckon([
      'memory',
      'build',
      '--dataset',
      GSM8K,
      '--limit',
      '2',
      '--k-fold',
      '5',
      '--name',
      'gsm',
      '--model',
      `replay:${replayFile('build3.jsonl', [])}`,
      '--json',
    ]);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toContain('--k-fold 2');

    // Question 2 (gsm8k-2) is in fold 0: R2 may only show fold-1 examples (gsm8k-1, -3, -5).
    const question = questions[2]!;
    const c0 =
      'const price = 80000;\nconst repairs = 50000;\nconst value = sale_value(price + repairs);\nreturn value - price - repairs;';
    const c1 =
      'const price = 80000;\nconst repairs = 50000;\nconst value = price * 2.5;\nreturn value - price - repairs;';
    const ask = await reckon([
      'ask',
      question,
      '--strategy',
      'icrag',
      '--memory',
      'gsm',
      '--model',
      `replay:${replayFile('ask.jsonl', [
        { role: 'codify', output: `\`\`\`javascript\n${c0}\n\`\`\`` },
        { role: 'refine', output: JSON.stringify({ code: c0, query: 'house flipping profit' }) },
        { role: 'refine', output: JSON.stringify({ code: c1, query: '' }) },
      ])}`,
      '--json',
    ]);
    expect(ask.code, ask.stderr).toBe(0);
    const result = JSON.parse(ask.stdout) as RunResult;
    expect(result).toMatchObject({ status: 'succeeded', answer: '70000' });
    const steps = ofType(result.events, 'step');
    const versions = steps.filter((s) => s.kind === 'icrag-version');
    expect(versions.map((v) => (v.data as { query: string | null }).query)).toEqual([
      null,
      'house flipping profit',
      '',
    ]);
    expect((versions[2]!.data as { code: string; previousCode: string }).previousCode).toBe(c0);
    const r2 = steps.filter((s) => s.kind === 'icrag-r2');
    expect(r2).toHaveLength(2);
    expect((r2[0]!.data as { examples: unknown[] }).examples.length).toBeGreaterThan(0);
    for (const step of r2) {
      const data = step.data as {
        excludedFolds: number[];
        examples: { itemId: string; fold: number; task: string }[];
      };
      expect(data.excludedFolds).toEqual([0]);
      for (const example of data.examples) {
        expect(example.itemId).not.toBe('gsm8k-2');
        expect(example.task).not.toBe(question);
        expect(example.fold).toBe(1);
      }
    }
    expect(steps.some((s) => s.kind === 'icrag-r1')).toBe(false);
    expect(result.metrics.strategy).toMatchObject({
      iterations: 2,
      stopReason: 'empty-query',
      excludedFolds: '0',
    });

    // c0 (refined unchanged in round 1) would have simulated sale_value; c1 runs with plain code.
    expect(ofType(result.events, 'tool-call')).toHaveLength(0);

    const remove = await reckon(['memory', 'remove', 'gsm']);
    expect(remove.code, remove.stderr).toBe(0);
    const gone = await reckon(['memory', 'list', '--json']);
    expect(JSON.parse(gone.stdout)).toEqual({ memories: [] });
  }, 240_000);

  it('shows simulated calls of the executed program in the JSON trace', async () => {
    const ask = await reckon([
      'ask',
      questions[0]!,
      '--strategy',
      'icrag',
      '--option',
      'maxIterations=0',
      '--model',
      `replay:${replayFile('sim.jsonl', [
        {
          role: 'codify',
          output:
            '```javascript\nconst laid = 16;\nconst eaten = eggs_eaten_per_day("Janet");\nreturn (laid - eaten - 4) * 2;\n```',
        },
        { role: 'simulate', output: '{"value": 3}' },
      ])}`,
      '--json',
    ]);
    expect(ask.code, ask.stderr).toBe(0);
    const result = JSON.parse(ask.stdout) as RunResult;
    expect(result.answer).toBe('18');
    const simulated = ofType(result.events, 'step').filter((s) => s.kind === 'simulated-call');
    expect(simulated.map((s) => s.title)).toEqual(['Simulated eggs_eaten_per_day("Janet") on line 2']);
    expect(ofType(result.events, 'tool-result').map((r) => r.summary)).toEqual(['3']);
  }, 120_000);
});

describe('reckon memory with an embedding model installed', () => {
  it('stores task vectors, lists them, refuses another embedder unless --reembed, and searches R2 densely', async () => {
    const modelsDir = path.join(tmp, 'models-with-encoder');
    await makeTinyEncoder({ dir: path.join(modelsDir, 'embedders', 'tiny-encoder') });
    const wide = await makeTinyEncoder({ dir: path.join(tmp, 'wide-encoder'), dimension: 48 });
    const denseEnv = { ...env, RECKON_HOME: path.join(tmp, 'data-dense'), RECKON_MODELS_DIR: modelsDir };
    const dense = (args: string[]): Promise<CliRun> => runReckon(args, denseEnv, { timeoutMs: 120_000 });
    const buildArgs = (file: string, ...extra: string[]): string[] => [
      'memory',
      'build',
      '--dataset',
      GSM8K,
      '--limit',
      '4',
      '--k-fold',
      '2',
      '--name',
      'gsm-dense',
      '--model',
      `replay:${replayFile(file, [0, 1, 2, 3].map(memoryProgram))}`,
      '--quiet',
      ...extra,
    ];

    const build = await dense(buildArgs('dense1.jsonl'));
    expect(build.code, build.stderr).toBe(0);
    expect(build.stdout).toContain('Vectors: 4 of 4 examples embedded with tiny-encoder (32-d)');
    expect(build.stdout).not.toContain('no vectors were computed');

    const list = await dense(['memory', 'list']);
    expect(list.stdout).toMatch(/gsm-dense {2}4 examples .* vectors tiny-encoder 32-d \(4\/4\)/);
    expect(JSON.parse((await dense(['memory', 'list', '--json'])).stdout)).toMatchObject({
      memories: [{ name: 'gsm-dense', vectors: { modelId: 'tiny-encoder', dimension: 32, count: 4 } }],
    });

    // Another embedder, or none, is refused before any model call: the memory never mixes vectors.
    const mismatch = await dense(buildArgs('dense2.jsonl', '--embedder', wide));
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/tiny-encoder \(32-d\).*wide-encoder \(48-d\)/);
    expect(mismatch.stderr).toContain('--reembed');
    const none = await dense(buildArgs('dense3.jsonl', '--embedder', 'none'));
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('has vectors from tiny-encoder');

    // Dense R2 search in a run: gsm8k-2 is in fold 0, so only fold-1 examples come back.
    const code = 'return 70000;';
    const ask = await dense([
      'ask',
      questions[2]!,
      '--strategy',
      'icrag',
      '--memory',
      'gsm-dense',
      '--option',
      'r2Search=dense',
      '--model',
      `replay:${replayFile('dense-ask.jsonl', [
        { role: 'codify', output: `\`\`\`javascript\n${code}\n\`\`\`` },
        { role: 'refine', output: JSON.stringify({ code, query: '' }) },
      ])}`,
      '--json',
    ]);
    expect(ask.code, ask.stderr).toBe(0);
    const result = JSON.parse(ask.stdout) as RunResult;
    expect(result.metrics.strategy).toMatchObject({ r2Search: 'dense' });
    const [r2] = ofType(result.events, 'step').filter((s) => s.kind === 'icrag-r2');
    const data = r2!.data as {
      search: { used: string };
      examples: { itemId: string; fold: number; scores: { dense?: { score: number } } }[];
    };
    expect(data.search.used).toBe('dense');
    expect(data.examples.map((example) => example.itemId).sort()).toEqual(['gsm8k-1', 'gsm8k-3']);
    for (const example of data.examples) expect(example.scores.dense?.score).toEqual(expect.any(Number));

    // --reembed replaces every vector with the new embedder's.
    const reembed = await dense([...buildArgs('dense4.jsonl', '--embedder', wide, '--reembed'), '--json']);
    expect(reembed.code, reembed.stderr).toBe(0);
    expect(JSON.parse(reembed.stdout)).toMatchObject({
      skipped: 4,
      vectors: { modelId: 'wide-encoder', dimension: 48, count: 4, embedded: 4 },
    });
  }, 240_000);
});

describe('ICRAG on a tiny generated GGUF (the real node-llama-cpp path)', () => {
  it('ends in a typed result whatever the random model writes', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    const run = await reckon([
      'ask',
      'A pen costs 3 dollars. How much do 4 pens cost?',
      '--strategy',
      'icrag',
      '--model',
      gguf,
      '--threads',
      '1',
      '--context-size',
      '2048',
      ...[
        'maxIterations=1',
        'programMaxTokens=64',
        'refineMaxTokens=64',
        'simulationMaxTokens=16',
        'maxProgramAttempts=1',
        'refineAttempts=1',
        'maxRepairs=0',
      ].flatMap((option) => ['--option', option]),
      '--json',
    ]);
    expect([0, 1], run.stderr).toContain(run.code);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(['succeeded', 'failed']).toContain(result.status);
    expect(result.events[0]).toMatchObject({ type: 'run-started', strategy: 'icrag', model: gguf });
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
    expect(result.metrics.llmCalls).toBeGreaterThanOrEqual(1);
    if (result.status === 'succeeded') expect(typeof result.answer).toBe('string');
    else expect(result.error?.code).toMatch(/^[A-Z_]+$/);
  }, 240_000);
});
