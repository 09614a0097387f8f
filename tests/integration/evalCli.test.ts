/**
 * `reckon eval` end to end, as a user runs it: four HotpotQA dev questions, Vanilla RAG and Direct
 * with one scripted replay model, the questions' paragraphs as the corpus (BM25). The summary is
 * checked against scores worked out by hand from the scripted answers; every prediction links to a
 * saved run whose trace gives the recall; the same command again runs nothing; the reports hold the
 * numbers; and --limit with --seed picks the same questions every time.
 */
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import type { EvalRecord } from '../../main/engine/eval/run/EvalRecord.ts';
import { retrievedTitlesOf } from '../../main/engine/eval/run/retrievedTitlesOf.ts';
import type { EvalReport } from '../../main/engine/eval/run/summarizeEvaluation.ts';
import { paragraphRecall } from '../../main/engine/eval/scoring/supportingFactScores.ts';
import type { RunSummary } from '../../main/engine/runs/RunStore.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';
import { type CliRun, HOTPOT_DEV, runReckon } from '../fixtures/runReckon.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;
const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env, { timeoutMs: 120_000 });

const answer = (text: string) => ({ role: 'answer', output: `From the passages.\n<answer>${text}</answer>` });
/**
 * The first four dev questions (golds: yes, Chief of Protocol, Animorphs, no); one line per run, in
 * the runner's order: question by question, each question's methods as listed (vanilla, direct).
 */
const SCRIPT = [
  answer('yes'), // q1 vanilla: EM 1, F1 1
  answer('no'), // q1 direct: 0, 0
  answer('Chief of Protocol'), // q2 vanilla: 1, 1
  answer('the Chief of Protocol'), // q2 direct: articles are dropped → 1, 1
  answer('Animorphs series'), // q3 vanilla: EM 0; precision 1/2, recall 1 → F1 2/3
  answer('Animorphs'), // q3 direct: 1, 1
  answer('yes'), // q4 vanilla: 0, 0 (yes/no rule)
  { role: 'answer', error: { status: 400, message: 'bad request' } }, // q4 direct: the run fails → 0, 0
];

let out: string;
let first: CliRun;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-cli-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  fs.writeFileSync(path.join(tmp, 'model.jsonl'), SCRIPT.map((line) => JSON.stringify(line)).join('\n'));
  out = path.join(tmp, 'out');
  first = await reckon(evalArgs());
}, 120_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function evalArgs(): string[] {
  return [
    'eval',
    '--dataset',
    HOTPOT_DEV,
    '--methods',
    'vanilla,direct',
    '--model',
    `replay:${path.join(tmp, 'model.jsonl')}`,
    '--limit',
    '4',
    '--out',
    out,
    '--embedder',
    'none',
    '--mode',
    'bm25',
  ];
}

const readRecords = (dir: string): EvalRecord[] =>
  fs
    .readFileSync(path.join(dir, 'results.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as EvalRecord);

async function listRuns(): Promise<RunSummary[]> {
  const run = await reckon(['runs', 'list', '--json', '--limit', '100']);
  expect(run.code, run.stderr).toBe(0);
  return (JSON.parse(run.stdout) as { runs: RunSummary[] }).runs;
}

describe('reckon eval', () => {
  it('runs every question × method, writes a record per question and prints the table', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/Corpus eval-hotpotqa-[0-9a-f]{12}: 40 paragraphs of the 4 questions/);
    expect(first.stderr).toMatch(/\[0\/8\] 0% — 8 to run/);
    expect(first.stderr).toMatch(/\[8\/8\] 100% .* ETA 0s/);
    expect(first.stdout).toMatch(/^vanilla +replay:\S+ +4 +0 +50\.0 +66\.7 /m);
    expect(first.stdout).toMatch(/^direct +replay:\S+ +4 +1 +50\.0 +50\.0 /m);
    expect(first.stdout).toContain('~ token counts estimated');
    expect(first.stdout).toContain('8 run now, 0 already in');

    const records = readRecords(out);
    expect(records).toHaveLength(8);
    const byKey = new Map(records.map((r) => [`${r.config.method}:${r.itemId}`, r]));
    const dataset = await loadEvalDataset(HOTPOT_DEV, { limit: 4 });
    const [q1, q2, q3, q4] = dataset.items;
    expect(byKey.get(`vanilla:${q3!.id}`)).toMatchObject({
      question: q3!.input.question,
      golds: ['Animorphs'],
      prediction: 'Animorphs series',
      status: 'succeeded',
      error: null,
      llmCalls: 1,
      tokensEstimated: true,
      program: null,
      figures: { documentsRetrieved: 5 },
      score: { metrics: { em: 0, precision: 0.5, recall: 1 } },
    });
    expect(byKey.get(`vanilla:${q3!.id}`)!.score.metrics.f1).toBeCloseTo(2 / 3, 12);
    expect(byKey.get(`direct:${q2!.id}`)).toMatchObject({
      prediction: 'the Chief of Protocol',
      score: { metrics: { em: 1 } },
    });
    expect(byKey.get(`direct:${q4!.id}`)).toMatchObject({
      prediction: null,
      status: 'failed',
      error: { code: expect.any(String) },
      score: { missing: true, metrics: { em: 0, f1: 0 } },
    });
    // Direct retrieves nothing: no recall, no corpus in its key.
    expect(byKey.get(`direct:${q1!.id}`)!.score.metrics.paragraph_recall).toBeUndefined();
    expect(byKey.get(`direct:${q1!.id}`)!.config.corpus).toBeNull();

    // Every record links to its saved run; vanilla's recall is what that run's trace retrieved.
    const runs = await listRuns();
    expect(runs).toHaveLength(8);
    expect(new Set(records.map((r) => r.runId))).toEqual(new Set(runs.map((r) => r.id)));
    let recallSum = 0;
    for (const item of [q1, q2, q3, q4]) {
      const record = byKey.get(`vanilla:${item!.id}`)!;
      const shown = await reckon(['runs', 'show', record.runId, '--json']);
      const { run, events } = JSON.parse(shown.stdout) as { run: RunSummary; events: TraceEvent[] };
      expect(run).toMatchObject({ strategy: 'vanilla', question: item!.input.question });
      expect(record.retrievedTitles).toEqual(retrievedTitlesOf(events));
      const recall = paragraphRecall(item!.gold.supportingTitles!, retrievedTitlesOf(events)).recall;
      expect(record.score.metrics.paragraph_recall).toBe(recall);
      recallSum += recall;
    }

    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as EvalReport & {
      records: EvalRecord[];
    };
    const metric = (method: string, key: string) =>
      report.cells.find((c) => c.method === method)!.scores[0]!.metrics.find((m) => m.key === key)?.value;
    // vanilla: EM (1+1+0+0)/4, F1 (1+1+2/3+0)/4; direct: EM (0+1+1+0)/4, F1 the same.
    expect(metric('vanilla', 'em')).toBe(0.5);
    expect(metric('vanilla', 'f1')).toBeCloseTo((2 + 2 / 3) / 4, 12);
    expect(metric('vanilla', 'paragraph_recall')).toBeCloseTo(recallSum / 4, 12);
    expect(metric('direct', 'em')).toBe(0.5);
    expect(metric('direct', 'f1')).toBe(0.5);
    expect(metric('direct', 'paragraph_recall')).toBeUndefined();
    expect(
      report.cells.map((c) => [c.method, c.questions, c.errors, c.llmCallsPerQuestion, c.tokensEstimated]),
    ).toEqual([
      ['vanilla', 4, 0, 1, true],
      ['direct', 4, 1, 1, true],
    ]);
    // Paired on EM: q1 vanilla better, q3 direct better, q2 and q4 tied.
    expect(report.comparisons).toEqual([expect.objectContaining({ aWins: 1, bWins: 1, ties: 2, pValue: 1 })]);
    expect(report.missing).toBe(0);
    expect(report.records).toHaveLength(8);

    const csv = fs.readFileSync(path.join(out, 'report.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^method,model,questions,errors,em,f1,/);
    expect(csv[1]).toMatch(
      new RegExp(`^vanilla,replay:[^,]+,4,0,0\\.5,${String((2 + 2 / 3) / 4).replace('.', '\\.')},`),
    );
    expect(csv[2]).toMatch(/^direct,replay:[^,]+,4,1,0\.5,0\.5,/);
    expect(fs.readFileSync(path.join(out, 'questions.csv'), 'utf8').trim().split('\r\n')).toHaveLength(9);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('data-eval-chart="accuracy"');
    expect(html).toContain('<td class="best">66.7</td>');
    expect(html).toContain(byKey.get(`direct:${q4!.id}`)!.runId);
    // Self-contained: the chart script is inlined, nothing is loaded from elsewhere.
    expect(html).not.toMatch(/<script\s+src|<link/);
  });

  it('resumes: the same command again runs nothing and adds no run', async () => {
    const before = fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8');
    const again = await reckon(evalArgs());
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('(already built)');
    expect(again.stderr).toContain('resuming: 8 already done, 0 to run');
    expect(again.stdout).toContain('0 run now, 8 already in');
    expect(again.stdout).toMatch(/^vanilla +replay:\S+ +4 +0 +50\.0 +66\.7 /m);
    expect(fs.readFileSync(path.join(out, 'results.jsonl'), 'utf8')).toBe(before);
    expect(await listRuns()).toHaveLength(8);
  });

  it('draws the same questions for the same --limit and --seed', async () => {
    fs.writeFileSync(
      path.join(tmp, 'direct.jsonl'),
      [1, 2, 3].map(() => JSON.stringify(answer('yes'))).join('\n'),
    );
    const runSeeded = async (dir: string) => {
      const run = await reckon([
        'eval',
        '--dataset',
        HOTPOT_DEV,
        '--methods',
        'direct',
        '--model',
        `replay:${path.join(tmp, 'direct.jsonl')}`,
        '--limit',
        '3',
        '--seed',
        '7',
        '--out',
        dir,
        '--json',
      ]);
      expect(run.code, run.stderr).toBe(0);
      return readRecords(dir).map((r) => r.itemId);
    };
    const a = await runSeeded(path.join(tmp, 'seed-a'));
    const b = await runSeeded(path.join(tmp, 'seed-b'));
    const expected = (await loadEvalDataset(HOTPOT_DEV, { limit: 3, seed: 7 })).items.map((item) => item.id);
    expect(a).toEqual(expected);
    expect(b).toEqual(expected);
    const firstThree = (await loadEvalDataset(HOTPOT_DEV, { limit: 3 })).items.map((item) => item.id);
    expect(a).not.toEqual(firstThree);
  });

  it('refuses a retrieval method on a dataset without paragraphs unless given --corpus', async () => {
    const file = path.join(tmp, 'own.jsonl');
    fs.writeFileSync(file, `${JSON.stringify({ question: 'Who?', answer: 'Me' })}\n`);
    const run = await reckon([
      'eval',
      '--dataset',
      file,
      '--methods',
      'vanilla',
      '--model',
      'replay:x.jsonl',
      '--out',
      path.join(tmp, 'own'),
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('pass --corpus <name>');
    expect(fs.existsSync(path.join(tmp, 'own', 'results.jsonl'))).toBe(false);
  });
});
