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
import { goldSubQuestions } from '../../main/engine/eval/run/measureOracleRecall.ts';
import type { EvalSuiteReport } from '../../main/engine/eval/run/summarizeEvalSuite.ts';
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

    const suite = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as EvalSuiteReport & {
      records: EvalRecord[];
    };
    expect(suite.datasets).toHaveLength(1);
    const report = suite.datasets[0]!;
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
    expect(report.comparisons).toEqual([
      expect.objectContaining({
        aWins: 1,
        bWins: 1,
        ties: 2,
        mcnemar: { b: 1, c: 1, exactPValue: 1, chiSquare: null },
      }),
    ]);
    expect(report.missing).toBe(0);
    expect(suite.records).toHaveLength(8);

    const csv = fs.readFileSync(path.join(out, 'report.csv'), 'utf8').split('\r\n');
    expect(csv[0]).toMatch(/^dataset,method,model,questions,errors,em,f1,/);
    expect(csv[1]).toMatch(
      new RegExp(`^hotpotqa,vanilla,replay:[^,]+,4,0,0\\.5,${String((2 + 2 / 3) / 4).replace('.', '\\.')},`),
    );
    expect(csv[2]).toMatch(/^hotpotqa,direct,replay:[^,]+,4,1,0\.5,0\.5,/);
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

  it('runs several --dataset files into one method × dataset table, each dataset resuming on its own', async () => {
    // Two models, Direct only. Each model answers the first two HotpotQA questions (golds yes, Chief
    // of Protocol), and then the two questions of `own` (golds the same): so both replay files play
    // from their first line for HotpotQA alone, and again for `own` when HotpotQA is resumed.
    const own = path.join(tmp, 'own2.jsonl');
    fs.writeFileSync(
      own,
      [
        { question: 'Is it so?', answer: 'yes' },
        { question: 'Which office?', answer: 'Chief of Protocol' },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    const right = path.join(tmp, 'right.jsonl');
    const half = path.join(tmp, 'half.jsonl');
    fs.writeFileSync(
      right,
      [answer('yes'), answer('Chief of Protocol')].map((l) => JSON.stringify(l)).join('\n'),
    );
    fs.writeFileSync(
      half,
      [answer('no'), answer('Chief of Protocol')].map((l) => JSON.stringify(l)).join('\n'),
    );
    const dir = path.join(tmp, 'multi');
    const args = (datasets: string[]) => [
      'eval',
      ...datasets.flatMap((file) => ['--dataset', file]),
      '--methods',
      'direct',
      '--model',
      `replay:${right}`,
      '--model',
      `replay:${half}`,
      '--limit',
      '2',
      '--out',
      dir,
    ];
    const hotpotOnly = await reckon(args([HOTPOT_DEV]));
    expect(hotpotOnly.code, hotpotOnly.stderr).toBe(0);
    expect(hotpotOnly.stdout).toContain('4 run now, 0 already in');

    const both = await reckon(args([HOTPOT_DEV, own]));
    expect(both.code, both.stderr).toBe(0);
    expect(both.stdout).toContain('4 run now, 4 already in');
    // Progress names the dataset when there are several (the last question: own2's second).
    expect(both.stderr).toMatch(/\[8\/8\] 100% direct · own2\/q1 EM 1\.00/);
    expect(both.stdout).toContain('Methods × datasets');
    // EM and F1 of each dataset; the right model is best in every column.
    expect(both.stdout).toMatch(/^direct +replay:\S+right\.jsonl +100\.0\* +100\.0\* +100\.0\* +100\.0\*$/m);
    expect(both.stdout).toMatch(/^direct +replay:\S+half\.jsonl +50\.0 +50\.0 +50\.0 +50\.0$/m);
    const records = readRecords(dir);
    expect(records).toHaveLength(8);
    expect(new Set(records.map((r) => r.dataset))).toEqual(new Set(['hotpotqa', 'own2']));

    const suite = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvalSuiteReport;
    expect(suite.datasets.map((report) => report.dataset.name)).toEqual(['hotpotqa', 'own2']);
    expect(suite.missing).toBe(0);
    expect(suite.table.columns.map((c) => `${c.datasetName} ${c.metric} ${c.best}`)).toEqual([
      'hotpotqa em 1',
      'hotpotqa f1 1',
      'own2 em 1',
      'own2 f1 1',
    ]);
    expect(suite.table.rows.map((row) => row.values)).toEqual([
      [1, 1, 1, 1],
      [0.5, 0.5, 0.5, 0.5],
    ]);
    const table = fs.readFileSync(path.join(dir, 'table.csv'), 'utf8').trimEnd().split('\r\n');
    expect(table[0]).toBe('method,model,hotpotqa em,hotpotqa f1,own2 em,own2 f1');
    expect(table[2]).toMatch(/^direct,replay:\S+half\.jsonl,0\.5,0\.5,0\.5,0\.5$/);
    expect(fs.readFileSync(path.join(dir, 'report.csv'), 'utf8').trimEnd().split('\r\n')).toHaveLength(5);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Methods × datasets</h2>');
    expect(html).toContain('<th colspan="2">own2</th>');
    expect(html).toContain('<h1>Evaluation: own2</h1>');
  });

  it('measures the gold-decomposition recall ceiling on MuSiQue and shows it beside the method’s recall', async () => {
    const musique = path.resolve(path.dirname(HOTPOT_DEV), '../musique/ans_dev_200.jsonl');
    const script = path.join(tmp, 'three.jsonl');
    fs.writeFileSync(script, [1, 2, 3].map(() => JSON.stringify(answer('x'))).join('\n'));
    const dir = path.join(tmp, 'oracle');
    const run = await reckon([
      'eval',
      '--dataset',
      musique,
      '--methods',
      'vanilla',
      '--model',
      `replay:${script}`,
      '--limit',
      '3',
      '--k',
      '2',
      '--out',
      dir,
      '--embedder',
      'none',
      '--mode',
      'bm25',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      'Gold-decomposition recall ceiling of musique measured on 3 questions (bm25).',
    );
    expect(run.stdout).toMatch(
      /Gold-decomposition ceiling \(bm25, 3 questions, 2 passages per sub-question\): supporting-paragraph recall \d+\.\d with the question alone vs \d+\.\d with the gold sub-questions/,
    );
    const suite = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvalSuiteReport;
    const report = suite.datasets[0]!;
    const oracle = report.oracle!;
    expect(oracle).toMatchObject({ topK: 2, skipped: 0 });
    expect(oracle.modes.map((mode) => [mode.mode, mode.questions])).toEqual([['bm25', 3]]);
    const items = (await loadEvalDataset(musique, { limit: 3 })).items;
    const [first] = oracle.modes[0]!.perQuestion;
    expect(first!.itemId).toBe(items[0]!.id);
    expect(first!.passages).toBe(items[0]!.gold.decomposition!.length * 2);
    // The question-alone recall is that of the real search over the corpus the runs used.
    const corpus = report.corpus!;
    const searched = await reckon([
      'search',
      items[0]!.input.question,
      '--corpus',
      corpus,
      '--mode',
      'bm25',
      '--k',
      String(first!.passages),
      '--json',
    ]);
    expect(searched.code, searched.stderr).toBe(0);
    const titles = (JSON.parse(searched.stdout) as { hits: { title: string }[] }).hits.map(
      (hit) => hit.title,
    );
    expect(first!.question).toEqual(paragraphRecall(items[0]!.gold.supportingTitles!, titles));
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    expect(html).toContain('Where did it go wrong? Retrieval with the gold decomposition');
    expect(html).toContain('gold sub-questions, bm25 (2 passages each): the ceiling');
    expect(html).toContain('vanilla (as run)');
  });

  it('gives PyRAG the gold sub-questions with --oracle-decomposition, under a key and label of its own beside its own run', async () => {
    // Three MuSiQue questions; the third loses its decomposition, so it runs as usual.
    const lines = fs
      .readFileSync(path.resolve(path.dirname(HOTPOT_DEV), '../musique/ans_dev_200.jsonl'), 'utf8')
      .split('\n')
      .slice(0, 3)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    delete lines[2]!.question_decomposition;
    const musique = path.join(tmp, 'musique3.jsonl');
    fs.writeFileSync(musique, lines.map((line) => JSON.stringify(line)).join('\n'));
    const items = (await loadEvalDataset(musique, {})).items;
    expect(items.map((item) => item.gold.decomposition?.length ?? 0)).toEqual([2, 2, 0]);

    const program = (query: string) => ({
      role: 'plan',
      output: `\`\`\`javascript\nconst d = await retrieve(${JSON.stringify(query)});\nreturn await answer(${JSON.stringify(query)}, d);\n\`\`\``,
    });
    const decompose = { role: 'decompose', output: '["Who is it?"]' };
    const dir = path.join(tmp, 'oracle-decomposition');
    const args = (script: string[], oracle: boolean, methods = 'pyrag'): string[] => {
      // One file, rewritten: the model spec (its path) is part of the config key.
      const file = path.join(tmp, 'pyrag.jsonl');
      fs.writeFileSync(file, script.join('\n'));
      return [
        'eval',
        '--dataset',
        musique,
        '--methods',
        methods,
        '--model',
        `replay:${file}`,
        '--out',
        dir,
        '--embedder',
        'none',
        '--mode',
        'bm25',
        '--no-oracle',
        ...(oracle ? ['--oracle-decomposition'] : []),
      ];
    };
    const line = (value: object): string => JSON.stringify(value);
    // The method's own run: it decomposes every question.
    const own = await reckon(
      args(
        [1, 2, 3].flatMap(() => [line(decompose), line(program('q')), line(answer('x'))]),
        false,
      ),
    );
    expect(own.code, own.stderr).toBe(0);
    // The oracle run: no decomposition call where the gold one is given; the third question decomposes.
    const oracleScript = [
      line(program('first')),
      line(answer('x')),
      line(program('second')),
      line(answer('x')),
      line(decompose),
      line(program('third')),
      line(answer('x')),
    ];
    const oracle = await reckon(args(oracleScript, true));
    expect(oracle.code, oracle.stderr).toBe(0);

    const records = readRecords(dir);
    const oracleRecords = records.filter((record) => record.config.oracle === 'decomposition');
    const ownRecords = records.filter((record) => record.config.oracle === undefined);
    expect(ownRecords).toHaveLength(3);
    expect(oracleRecords.map((record) => record.itemId)).toEqual(items.map((item) => item.id));
    expect(oracleRecords[0]!.configKey).not.toBe(ownRecords[0]!.configKey);
    // The gold sub-questions, earlier gold answers substituted, went to the method as its options.
    expect(oracleRecords.map((record) => record.itemOptions)).toEqual([
      {
        givenSubQuestions: goldSubQuestions(items[0]!.gold.decomposition!),
        givenSubQuestionsSource: 'gold-decomposition',
      },
      {
        givenSubQuestions: goldSubQuestions(items[1]!.gold.decomposition!),
        givenSubQuestionsSource: 'gold-decomposition',
      },
      undefined,
    ]);
    expect(items[0]!.gold.decomposition![1]!.question).toContain('#1');
    expect(oracleRecords[0]!.itemOptions!.givenSubQuestions).not.toContain(
      items[0]!.gold.decomposition![1]!.question,
    );
    expect(oracleRecords.map((record) => record.figures.givenSubQuestions)).toEqual([2, 2, 0]);
    expect(ownRecords.map((record) => record.figures.givenSubQuestions)).toEqual([0, 0, 0]);

    // The report: the own run beside the oracle run, labelled, with the count of questions given.
    const suite = JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvalSuiteReport;
    const cells = suite.datasets[0]!.cells;
    expect(cells.map((cell) => [cell.label, cell.questions, cell.oracle])).toEqual([
      ['pyrag', 3, null],
      ['pyrag (oracle decomposition)', 3, { given: 2, without: 1 }],
    ]);
    expect(suite.table.rows.map((row) => row.label)).toEqual(['pyrag', 'pyrag (oracle decomposition)']);
    expect(oracle.stdout).toMatch(/^pyrag \(oracle decomposition\) +replay:\S+ +3 +0 +2 of 3 /m);
    expect(oracle.stdout).toMatch(/^pyrag +replay:\S+ +3 +0 +— /m);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toContain('pyrag (oracle decomposition)');

    // Resumes: the same command runs nothing.
    const again = await reckon(args(oracleScript, true));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('0 run now, 3 already in');

    // A method that takes no given sub-questions cannot be run in oracle mode alone.
    const refused = await reckon(args([], true, 'vanilla'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /--oracle-decomposition feeds gold sub-questions to the methods that take givenSubQuestions \(.*pyrag.*\); none of the chosen methods does/,
    );
  });
});
