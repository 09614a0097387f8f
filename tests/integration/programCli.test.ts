/**
 * PROGRAM through the `reckon` command over the real HotpotQA corpus (BM25, no embedding model, so
 * the lexical fallback): a scripted replay run whose JSON trace shows the selected types, the
 * candidates with their scores, the per-round table with p-values and statuses, the pool and the
 * rerank; and one run on the generated tiny GGUF (the real node-llama-cpp path, JSON under a schema)
 * that ends in a typed result, whatever the random model writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { type CliRun, HOTPOT_DEV, ofType, runReckon } from '../fixtures/runReckon.ts';

const QUESTION = 'Were Scott Derrickson and Ed Wood of the same nationality?';

let tmp: string;
let env: NodeJS.ProcessEnv;
const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env, { timeoutMs: 120_000 });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-program-cli-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  const ingest = await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--embedder', 'none', '--quiet']);
  expect(ingest.code, ingest.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon ask --strategy program', () => {
  it('shows types, scored candidates, the round table with p-values, the pool and the rerank', async () => {
    const lines = [
      { role: 'program-types', output: '{"types": ["Comparison", "Bridge Entity"]}' },
      {
        role: 'program-candidates',
        output:
          '{"queries": ["Scott Derrickson nationality", "Ed Wood nationality", "American film director"]}',
      },
      { role: 'program-candidates', output: '{"queries": ["Ed Wood filmmaker", "Doctor Strange director"]}' },
      { role: 'program-sufficiency', output: '{"sufficient": true, "nextQuery": ""}' },
      { role: 'program-sufficiency', output: '{"sufficient": true, "nextQuery": ""}' },
      {
        role: 'program-answer',
        output:
          'Scott Derrickson is American [1]. Ed Wood was American [2]. So both were American.\n<answer>yes</answer>',
      },
    ];
    const file = path.join(tmp, 'program.jsonl');
    fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    const run = await reckon([
      'ask',
      QUESTION,
      '--corpus',
      'hotpot',
      '--strategy',
      'program',
      '--model',
      `replay:${file}`,
      '--mode',
      'bm25',
      // One round; a tiny level so the script's two judgements are both asked for.
      '--option',
      'maxRounds=1',
      '--option',
      'pruneLevel=0.0001',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(result).toMatchObject({ status: 'succeeded', answer: 'yes' });
    const steps = ofType(result.events, 'step');
    const byKind = (kind: string) => steps.filter((step) => step.kind === kind);
    expect(byKind('similarity')[0]!.data).toMatchObject({ similarity: 'lexical' });
    expect(byKind('program-types')[0]!.data).toMatchObject({ types: ['Comparison', 'Bridge Entity'] });
    const candidates = byKind('program-candidates').map(
      (step) => step.data as { candidates: { informationGain: number; similarity: number; score: number }[] },
    );
    expect(candidates.map((c) => c.candidates.length)).toEqual([3, 2]);
    for (const c of candidates.flatMap((step) => step.candidates)) {
      expect(c.informationGain).toBeGreaterThanOrEqual(0);
      expect(c.informationGain).toBeLessThanOrEqual(1);
      expect(c.score).toBeCloseTo(c.informationGain + c.similarity, 12);
    }
    const [round] = byKind('program-round');
    const rows = (round!.data as { programs: { pValue: number | null; status: string; support: number }[] })
      .programs;
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.status).toBe('locked');
      expect(row.pValue === null || (row.pValue >= 0 && row.pValue <= 1)).toBe(true);
    }
    expect(byKind('program-pool')[0]!.data).toMatchObject({ stopReason: 'all-locked' });
    expect(byKind('program-rerank')[0]!.data).toMatchObject({ reranker: 'bm25', kept: 5 });
    expect(result.metrics).toMatchObject({
      llmCalls: lines.length,
      strategy: { types: 'Comparison, Bridge Entity', rounds: 1, locked: 2, similarity: 'lexical' },
    });
    const shown = await reckon(['runs', 'show', result.runId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Round 1: 0 active, 2 locked, 0 pruned/);
  }, 120_000);

  it('ends in a typed result on the tiny generated GGUF, whatever the random model writes', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    const quick = [
      'maxPrograms=2',
      'candidates=2',
      'maxRounds=1',
      'jsonAttempts=1',
      'igTopN=3',
      'typesMaxTokens=48',
      'candidatesMaxTokens=48',
      'judgeMaxTokens=24',
      'answerMaxTokens=16',
    ];
    const run = await reckon([
      'ask',
      'Who directed Doctor Strange?',
      '--corpus',
      'hotpot',
      '--strategy',
      'program',
      '--model',
      gguf,
      '--threads',
      '1',
      '--context-size',
      '2048',
      '--mode',
      'bm25',
      '-k',
      '2',
      ...quick.flatMap((option) => ['--option', option]),
      '--json',
    ]);
    expect([0, 1], run.stderr).toContain(run.code);
    const result = JSON.parse(run.stdout) as RunResult;
    expect(['succeeded', 'failed']).toContain(result.status);
    expect(result.events[0]).toMatchObject({ type: 'run-started', strategy: 'program', model: gguf });
    expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
    expect(result.metrics.llmCalls).toBeGreaterThanOrEqual(1);
    if (result.status === 'succeeded') expect(typeof result.answer).toBe('string');
    else expect(result.error?.code).toMatch(/^[A-Z_]+$/);
  }, 240_000);
});
