/**
 * `reckon eval score` as a user runs it: a real child process on the real HotpotQA file and a
 * predictions file in each accepted layout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type CliRun, REPO_ROOT, runReckon } from '../fixtures/runReckon.ts';
import {
  HOTPOT_EXPECTED,
  HOTPOT_FIRST53,
  hotpotPredictionsWithMistakes,
} from '../fixtures/hotpotPredictions.ts';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import type { EvalItem } from '../../main/engine/eval/datasets/EvalItem.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;
let items: EvalItem[];

function reckon(args: string[]): Promise<CliRun> {
  return runReckon(args, env);
}

function write(name: string, text: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, text);
  return file;
}

interface ScoreJson {
  dataset: { kind: string; format: string; questions: number };
  predictions: { format: string; count: number };
  missing: number;
  missingIds: string[];
  unknownIds: string[];
  summaries: { rule: string; metrics: { key: string; value: number; official: boolean }[] }[];
  perQuestion: { id: string; missing: boolean; metrics: Record<string, number> }[];
}

function scoreJson(run: CliRun): ScoreJson {
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as ScoreJson;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data') };
  items = (await loadEvalDataset(HOTPOT_FIRST53)).items;
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon eval score', () => {
  it('scores HotpotQA’s official {answer, sp} file with the hand-computed numbers, per question with --json', async () => {
    const predictions = hotpotPredictionsWithMistakes(items);
    const file = write(
      'hotpot.json',
      JSON.stringify({ ...predictions, answer: { ...predictions.answer, stray: 'x' } }),
    );
    const result = scoreJson(
      await reckon(['eval', 'score', '--dataset', HOTPOT_FIRST53, '--predictions', file, '--json']),
    );
    expect(result.dataset).toMatchObject({ kind: 'hotpotqa', format: 'hotpotqa', questions: 53 });
    expect(result.predictions.format).toBe('hotpotqa');
    expect(result.missing).toBe(2);
    expect(result.unknownIds).toEqual(['stray']);
    const values = Object.fromEntries(result.summaries[0]!.metrics.map((m) => [m.key, m.value]));
    for (const [key, expected] of Object.entries(HOTPOT_EXPECTED))
      expect(values[key], key).toBeCloseTo(expected, 12);
    expect(result.perQuestion).toHaveLength(53);
    expect(result.perQuestion[1]!.metrics.f1).toBeCloseTo(2 / 3, 12);
    expect(result.perQuestion[52]).toMatchObject({ missing: true, metrics: { em: 0, sp_em: 0 } });
  });

  it('prints the metrics and the missing count as text', async () => {
    const file = write('hotpot-text.json', JSON.stringify(hotpotPredictionsWithMistakes(items)));
    const run = await reckon(['eval', 'score', '-d', HOTPOT_FIRST53, '-p', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('53 questions, 51 answered, 2 missing');
    expect(run.stdout).toMatch(/EM\s+0\.9057 {2}\(90\.57%\)/);
    expect(run.stdout).toMatch(/joint F1\s+0\.9113/);
    expect(run.stdout).toContain(`Missing predictions (scored 0): 2 — ${items[2]!.id}, ${items[52]!.id}`);
  });

  it('takes {id: answer} JSON and JSON lines of {id, prediction}, without SP metrics', async () => {
    const map = write(
      'map.json',
      JSON.stringify(Object.fromEntries(items.map((item) => [item.id, item.gold.answers[0]]))),
    );
    const lines = write(
      'lines.jsonl',
      items
        .slice(0, 50)
        .map((item) => JSON.stringify({ id: item.id, prediction: item.gold.answers[0] }))
        .join('\n'),
    );
    const full = scoreJson(
      await reckon(['eval', 'score', '--dataset', HOTPOT_FIRST53, '--predictions', map, '--json']),
    );
    expect(full.predictions.format).toBe('id-map');
    expect(full.summaries[0]!.metrics.map((m) => [m.key, m.value])).toEqual([
      ['em', 1],
      ['f1', 1],
      ['precision', 1],
      ['recall', 1],
    ]);
    const partial = scoreJson(
      await reckon(['eval', 'score', '--dataset', HOTPOT_FIRST53, '--predictions', lines, '--json']),
    );
    expect(partial.predictions).toEqual({ path: lines, format: 'records', count: 50 });
    expect(partial.missing).toBe(3);
    expect(partial.summaries[0]!.metrics.find((m) => m.key === 'em')?.value).toBeCloseTo(50 / 53, 12);
  });

  it('scores GSM8K by the official #### rule with numeric equality beside it', async () => {
    const gsm8k = path.resolve(REPO_ROOT, '../shared/data/gsm8k/test_300.jsonl');
    // Bare numbers: wrong by the official rule (no "####"), right by numeric equality.
    const file = write(
      'gsm8k.json',
      JSON.stringify({ 'gsm8k-0': '18', 'gsm8k-1': '#### 3', 'gsm8k-2': '#### 70000.0' }),
    );
    const result = scoreJson(
      await reckon(['eval', 'score', '--dataset', gsm8k, '--predictions', file, '--json']),
    );
    expect(result.missing).toBe(297);
    expect(result.summaries[0]!.metrics.map((m) => [m.key, m.value * 300, m.official])).toEqual([
      ['accuracy', expect.closeTo(1, 9), true],
      ['numeric_equal', expect.closeTo(3, 9), false],
    ]);
  });

  it('fails clearly on a file that is not a dataset, and on a broken predictions file', async () => {
    const notData = write('notes.txt', 'just some notes\n');
    const predictions = write('p.json', '{}');
    const unknown = await reckon(['eval', 'score', '--dataset', notData, '--predictions', predictions]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('Cannot tell what kind of dataset "notes.txt" is');
    expect(unknown.stderr).toContain('--format');

    const broken = write('broken.jsonl', '{"id": "a", "prediction": "x"}\n{"id": \n');
    const bad = await reckon([
      'eval',
      'score',
      '--dataset',
      HOTPOT_FIRST53,
      '--predictions',
      broken,
      '--json',
    ]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'BAD_PREDICTIONS' } });
    expect(bad.stderr).toContain('line 2');

    const missingFile = await reckon([
      'eval',
      'score',
      '--dataset',
      path.join(tmp, 'nope.json'),
      '--predictions',
      predictions,
    ]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain('Cannot read the dataset');
  });

  it('rejects an unknown --format before reading anything', async () => {
    const run = await reckon([
      'eval',
      'score',
      '--dataset',
      HOTPOT_FIRST53,
      '--predictions',
      'x',
      '--format',
      'squad',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('Allowed choices are hotpotqa');
  });
});
