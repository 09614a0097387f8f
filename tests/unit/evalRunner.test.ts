/**
 * The evaluation runner's pure parts: the resume key, the append-only results file (torn lines,
 * duplicates, other versions), reading retrieved titles off a trace, the per-question prompt, the
 * k-fold hook, `--option` routing, and the report's aggregation and statistics, on hand-made
 * records whose expected figures are worked out in the comments.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  EVAL_RECORD_VERSION,
  evalConfigKey,
  type EvalConfig,
  type EvalRecord,
} from '../../main/engine/eval/run/EvalRecord.ts';
import { EVAL_RESULTS_FILE, EvalResultsFile } from '../../main/engine/eval/run/EvalResultsFile.ts';
import { retrievedTitlesOf } from '../../main/engine/eval/run/retrievedTitlesOf.ts';
import {
  composeItemOptions,
  evalQuestionText,
  oracleDecompositionItemOptions,
} from '../../main/engine/eval/run/runEvaluation.ts';
import { distributionOf, summarizeEvaluation } from '../../main/engine/eval/run/summarizeEvaluation.ts';
import { questionsCsv, reportCsv, tableCsv } from '../../main/engine/eval/run/writeEvalReports.ts';
import { summarizeEvalSuite } from '../../main/engine/eval/run/summarizeEvalSuite.ts';
import { renderEvalHtml, renderEvalSuiteHtml } from '../../main/engine/eval/run/renderEvalHtml.ts';
import { evalCorpusName } from '../../main/engine/eval/run/prepareEvalCorpus.ts';
import { parseMethods } from '../../main/cli/commands/evalRunCommand.ts';
import { strategyRegistry } from '../../main/engine/strategies/registry.ts';
import type { EvalItem } from '../../main/engine/eval/datasets/EvalItem.ts';
import type { TraceEvent } from '../../preload/TraceEvent.ts';
import { ReckonError } from '../../main/engine/errors.ts';

const BASE: EvalConfig = {
  datasetHash: '0123456789abcdef',
  datasetFormat: 'hotpotqa',
  method: 'vanilla',
  model: 'replay:a.jsonl',
  options: { answerMaxTokens: 256 },
  corpus: 'eval-hotpotqa-000000000000',
  topK: 5,
  searchMode: 'bm25',
};

function record(overrides: Partial<EvalRecord> & { itemId: string; config?: EvalConfig }): EvalRecord {
  const config = overrides.config ?? BASE;
  return {
    version: EVAL_RECORD_VERSION,
    configKey: evalConfigKey(config),
    config,
    dataset: 'hotpotqa',
    category: null,
    question: `question ${overrides.itemId}`,
    golds: ['gold'],
    prediction: 'gold',
    score: {
      id: overrides.itemId,
      rule: 'hotpotqa',
      missing: false,
      prediction: 'gold',
      golds: ['gold'],
      metrics: { em: 1, f1: 1 },
    },
    runId: `run-${overrides.itemId}`,
    status: 'succeeded',
    error: null,
    llmCalls: 1,
    promptTokens: 100,
    completionTokens: 10,
    tokensEstimated: false,
    seconds: 1,
    retries: 0,
    program: null,
    figures: {},
    retrievedTitles: [],
    finishedAt: 0,
    ...overrides,
  };
}

const score = (id: string, em: number, f1 = em, extra: Record<string, number> = {}): EvalRecord['score'] => ({
  id,
  rule: 'hotpotqa',
  missing: false,
  prediction: 'p',
  golds: ['g'],
  metrics: { em, f1, ...extra },
});

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});
const tempDir = (): string => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-unit-')));

describe('evalConfigKey', () => {
  it('is the same whatever the order of the options, and 16 hex characters', () => {
    const a = evalConfigKey({ ...BASE, options: { x: 1, y: 'two' } });
    const b = evalConfigKey({ ...BASE, options: { y: 'two', x: 1 } });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it('changes with each thing that decides a run: dataset, method, model, options, corpus, k, search mode', () => {
    const keys = new Set([
      evalConfigKey(BASE),
      evalConfigKey({ ...BASE, datasetHash: 'fedcba9876543210' }),
      evalConfigKey({ ...BASE, method: 'direct' }),
      evalConfigKey({ ...BASE, model: 'replay:b.jsonl' }),
      evalConfigKey({ ...BASE, options: { answerMaxTokens: 128 } }),
      evalConfigKey({ ...BASE, corpus: null }),
      evalConfigKey({ ...BASE, topK: 10 }),
      evalConfigKey({ ...BASE, searchMode: 'hybrid' }),
    ]);
    expect(keys.size).toBe(8);
  });
});

describe('EvalResultsFile', () => {
  it('keeps what was appended across reopenings and never writes one measurement twice', () => {
    const dir = path.join(tempDir(), 'out');
    const file = EvalResultsFile.open(dir);
    expect(file.records()).toEqual([]);
    const first = record({ itemId: 'q1' });
    expect(file.append(first)).toBe(true);
    expect(file.append(record({ itemId: 'q2' }))).toBe(true);
    expect(file.append(record({ itemId: 'q1', prediction: 'again' }))).toBe(false);

    const reopened = EvalResultsFile.open(dir);
    expect(reopened.records().map((r) => r.itemId)).toEqual(['q1', 'q2']);
    expect(reopened.get(first.configKey, 'q1')).toEqual(first);
    expect(reopened.has(first.configKey, 'q3')).toBe(false);
    expect(reopened.has(evalConfigKey({ ...BASE, method: 'direct' }), 'q1')).toBe(false);
    expect(fs.readFileSync(path.join(dir, EVAL_RESULTS_FILE), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  it('cuts off a line torn by a kill, so the next append starts a clean line', () => {
    const dir = tempDir();
    const whole = JSON.stringify(record({ itemId: 'q1' }));
    fs.writeFileSync(path.join(dir, EVAL_RESULTS_FILE), `${whole}\n{"version":1,"configKey":"ab`);
    const file = EvalResultsFile.open(dir);
    expect(file.records().map((r) => r.itemId)).toEqual(['q1']);
    file.append(record({ itemId: 'q2' }));
    const lines = fs.readFileSync(path.join(dir, EVAL_RESULTS_FILE), 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((line) => (JSON.parse(line) as EvalRecord).itemId)).toEqual(['q1', 'q2']);
    expect(lines[2]).toBe('');
  });

  it('skips lines of another version or shape, and keeps the first of two equal measurements', () => {
    const dir = tempDir();
    const lines = [
      JSON.stringify({ ...record({ itemId: 'q1' }), version: 99 }),
      'not json',
      JSON.stringify(record({ itemId: 'q1', prediction: 'first' })),
      JSON.stringify(record({ itemId: 'q1', prediction: 'second' })),
    ];
    fs.writeFileSync(path.join(dir, EVAL_RESULTS_FILE), `${lines.join('\n')}\n`);
    const file = EvalResultsFile.open(dir);
    expect(file.skippedLines).toBe(2);
    expect(file.records().map((r) => r.prediction)).toEqual(['first']);
  });

  it('says which file it cannot read', () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, EVAL_RESULTS_FILE));
    expect(() => EvalResultsFile.open(dir)).toThrow(
      expect.objectContaining({
        code: 'EVAL_OUT_UNREADABLE',
        message: expect.stringContaining(EVAL_RESULTS_FILE),
      }),
    );
  });
});

describe('retrievedTitlesOf', () => {
  it('reads tool-result chunks and step docs, each title once, in first-seen order', () => {
    const at = { runId: 'r', seq: 0, at: 0 };
    const events = [
      {
        ...at,
        type: 'step',
        kind: 'retrieval',
        title: 't',
        detail: null,
        data: {
          docs: [
            { id: 1, title: 'B', score: 1, source: 's' },
            { id: 2, title: 'A', score: 1, source: 's' },
          ],
        },
      },
      {
        ...at,
        type: 'tool-result',
        execution: 1,
        callIndex: 0,
        tool: 'retrieve',
        durationMs: 1,
        summary: '',
        chunks: [
          { id: 3, title: 'C', score: 1, source: 's' },
          { id: 1, title: 'B', score: 1, source: 's' },
        ],
      },
      { ...at, type: 'step', kind: 'thought', title: 't', detail: null, data: { docs: 'not a list' } },
      {
        ...at,
        type: 'final-answer',
        answer: 'x',
        reasoning: null,
        citations: [{ chunkId: 9, title: 'Z', source: 's', excerpt: '' }],
      },
    ] as TraceEvent[];
    expect(retrievedTitlesOf(events)).toEqual(['B', 'A', 'C']);
  });
});

describe('evalQuestionText and the k-fold hook', () => {
  const item: EvalItem = {
    id: 'q1',
    dataset: 'custom',
    input: {
      question: 'Which is red?',
      options: [
        { label: 'A', text: 'apple' },
        { label: 'B', text: 'sky' },
      ],
    },
    gold: { answers: ['A'] },
  };

  it('lists options the question does not already hold, and puts a few-shot prompt first', () => {
    expect(evalQuestionText({}, item)).toBe('Which is red?\nOptions:\n(A) apple\n(B) sky');
    expect(
      evalQuestionText(
        {},
        { ...item, input: { ...item.input, question: 'Which is red? (A) apple (B) sky' } },
      ),
    ).toBe('Which is red? (A) apple (B) sky');
    expect(
      evalQuestionText({ fewShotPrompt: 'Q: 1+1?\nA: 2.\n' }, { ...item, input: { question: 'Q?' } }),
    ).toBe('Q: 1+1?\nA: 2.\n\nQ: Q?\nA:');
  });
});

describe('the oracle-decomposition hook', () => {
  const steps = [
    { question: 'Who founded the label?', answers: ['Ann Lee'] },
    { question: 'Where was #1 born?', answers: ['Leeds'] },
  ];
  const item: EvalItem = {
    id: 'q1',
    dataset: 'musique',
    input: { question: 'Q?' },
    gold: { answers: ['Leeds'], decomposition: steps },
  };
  const context = { options: {}, item, dataset: {} as never, strategies: strategyRegistry };
  const hook = composeItemOptions(oracleDecompositionItemOptions);

  it('gives the gold sub-questions, answers substituted, only to the methods that take givenSubQuestions', () => {
    const given = {
      givenSubQuestions: ['Who founded the label?', 'Where was Ann Lee born?'],
      givenSubQuestionsSource: 'gold-decomposition',
    };
    for (const id of strategyRegistry.ids()) {
      const takes = strategyRegistry
        .list()
        .find((s) => s.id === id)!
        .options.some((o) => o.key === 'givenSubQuestions');
      expect(oracleDecompositionItemOptions({ ...context, method: id })).toEqual(takes ? given : undefined);
    }
    expect(oracleDecompositionItemOptions({ ...context, method: 'program' })).toEqual(given);
    // Nothing for a question without a decomposition, or one longer than a method takes.
    const without = { ...item, gold: { answers: ['x'] } };
    expect(oracleDecompositionItemOptions({ ...context, item: without, method: 'pyrag' })).toBeUndefined();
    const long = {
      ...item,
      gold: { answers: ['x'], decomposition: Array.from({ length: 11 }, () => steps[0]!) },
    };
    expect(oracleDecompositionItemOptions({ ...context, item: long, method: 'pyrag' })).toBeUndefined();
  });

  it('composes with the caller itemOptions hook instead of replacing it', () => {
    const withFold = composeItemOptions(() => ({ fold: 3 }), oracleDecompositionItemOptions);
    expect(withFold({ ...context, method: 'pyrag' })).toEqual({
      fold: 3,
      givenSubQuestions: ['Who founded the label?', 'Where was Ann Lee born?'],
      givenSubQuestionsSource: 'gold-decomposition',
    });
    expect(withFold({ ...context, method: 'vanilla' })).toEqual({ fold: 3 });
    expect(hook({ ...context, method: 'vanilla' })).toBeUndefined();
    const later = composeItemOptions(
      () => ({ fold: 1, a: 1 }),
      () => ({ a: 2 }),
    );
    expect(later({ ...context, method: 'x' })).toEqual({ fold: 1, a: 2 });
  });
});

describe('parseMethods (--methods and --option)', () => {
  it('routes key=value to every chosen method that takes it, method.key=value to one', () => {
    expect(
      parseMethods('vanilla, direct,vanilla', ['answerMaxTokens=64', 'direct.answerMaxTokens=32']),
    ).toEqual([
      { id: 'vanilla', options: { answerMaxTokens: 64 } },
      { id: 'direct', options: { answerMaxTokens: 32 } },
    ]);
  });

  it('refuses an option no chosen method takes, a method not chosen, and an unknown method', () => {
    expect(() => parseMethods('direct', ['maxSteps=3'])).toThrow(
      /No chosen method takes the option "maxSteps"/,
    );
    expect(() => parseMethods('direct', ['ircot.maxSteps=3'])).toThrow(/not among --methods/);
    expect(() => parseMethods('direct,nope', [])).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_STRATEGY' }),
    );
    expect(() => parseMethods('direct', ['answerMaxTokens'])).toThrow(ReckonError);
  });
});

describe('evalCorpusName', () => {
  it('is deterministic, differs by content and embedder, and is a valid corpus name', () => {
    const name = evalCorpusName('bbh/web of lies', '{"title":"a","text":"b"}\n', 'none');
    expect(name).toMatch(/^eval-bbh-web-of-lies-[0-9a-f]{12}$/);
    expect(evalCorpusName('bbh/web of lies', '{"title":"a","text":"b"}\n', 'none')).toBe(name);
    expect(evalCorpusName('bbh/web of lies', '{"title":"a","text":"c"}\n', 'none')).not.toBe(name);
    expect(evalCorpusName('bbh/web of lies', '{"title":"a","text":"b"}\n', 'auto')).not.toBe(name);
    expect(evalCorpusName('x'.repeat(200), '', 'auto').length).toBeLessThanOrEqual(64);
  });
});

describe('statistics', () => {
  it('distribution: min, median (mean of the middle two), max, mean; null when nothing is present', () => {
    expect(distributionOf([3, null, 1, 4, 2])).toEqual({ n: 4, min: 1, median: 2.5, max: 4, mean: 2.5 });
    expect(distributionOf([5, 1, 9])).toMatchObject({ median: 5 });
    expect(distributionOf([null])).toBeNull();
  });
});

describe('summarizeEvaluation', () => {
  const PYRAG: EvalConfig = { ...BASE, method: 'pyrag', options: {} };
  const configs = [BASE, PYRAG].map((config) => ({ configKey: evalConfigKey(config), config }));
  const summarize = (records: EvalRecord[], itemIds = ['q1', 'q2', 'q3', 'q4']) =>
    summarizeEvaluation(records, {
      dataset: {
        name: 'hotpotqa',
        kind: 'hotpotqa',
        format: 'hotpotqa',
        path: 'd.json',
        total: 200,
        notes: [],
      },
      sample: { limit: 4, seed: null, questions: itemIds.length },
      corpus: BASE.corpus,
      configs,
      itemIds,
    });

  const vanilla = [
    record({
      itemId: 'q1',
      score: score('q1', 1, 1, { paragraph_recall: 1, paragraph_all_found: 1 }),
      llmCalls: 1,
      promptTokens: 100,
      completionTokens: 10,
      seconds: 1,
    }),
    record({
      itemId: 'q2',
      score: score('q2', 0, 0.5, { paragraph_recall: 0.5, paragraph_all_found: 0 }),
      llmCalls: 1,
      promptTokens: 200,
      completionTokens: 20,
      seconds: 3,
      tokensEstimated: true,
    }),
    record({
      itemId: 'q3',
      score: score('q3', 0, 0, { paragraph_recall: 0, paragraph_all_found: 0 }),
      error: { code: 'MODEL_CALL_FAILED', message: 'x' },
      status: 'failed',
      prediction: null,
      llmCalls: 2,
      promptTokens: 0,
      completionTokens: 0,
      seconds: 2,
    }),
    // Outside the sample: ignored.
    record({ itemId: 'q9', score: score('q9', 1) }),
  ];
  const program = (
    repairs: number,
    executable: boolean | null,
    cc: number | null,
    depth: number | null,
    exception: string | null = null,
  ) => ({
    repairs,
    programAttempts: repairs + 1,
    executable,
    exceptionKind: exception,
    cyclomaticComplexity: cc,
    maxStackDepth: depth,
  });
  const pyrag = [
    record({
      config: PYRAG,
      itemId: 'q1',
      score: score('q1', 1),
      program: program(0, true, 2, 3),
      figures: { boosts: 0 },
    }),
    record({
      config: PYRAG,
      itemId: 'q2',
      score: score('q2', 1),
      program: program(2, true, 5, 4),
      figures: { boosts: 1 },
    }),
    record({
      config: PYRAG,
      itemId: 'q3',
      score: score('q3', 1),
      program: program(1, false, null, null, 'RuntimeError'),
      figures: { boosts: 2 },
    }),
    record({
      config: PYRAG,
      itemId: 'q4',
      score: score('q4', 0),
      program: program(0, true, 4, 1),
      figures: { boosts: 0 },
    }),
  ];

  it('averages the official scores, cost and recall per method × model, over the sample only', () => {
    const report = summarize([...vanilla, ...pyrag]);
    const [v, p] = report.cells;
    // vanilla: q1..q3 recorded (q4 not yet) → EM (1+0+0)/3, F1 (1+0.5+0)/3, recall (1+0.5+0)/3.
    expect(v).toMatchObject({
      method: 'vanilla',
      questions: 3,
      errors: 1,
      tokensEstimated: true,
      programQuestions: 0,
    });
    const metric = (cell: typeof v, key: string) =>
      cell!.scores[0]!.metrics.find((m) => m.key === key)?.value;
    expect(metric(v, 'em')).toBeCloseTo(1 / 3, 12);
    expect(metric(v, 'f1')).toBeCloseTo(0.5, 12);
    expect(metric(v, 'paragraph_recall')).toBeCloseTo(0.5, 12);
    expect(metric(v, 'paragraph_all_found')).toBeCloseTo(1 / 3, 12);
    expect(v!.primary).toBeCloseTo(1 / 3, 12);
    // calls (1+1+2)/3, tokens (110+220+0)/3, seconds (1+3+2)/3.
    expect(v!.llmCallsPerQuestion).toBeCloseTo(4 / 3, 12);
    expect(v!.tokensPerQuestion).toBeCloseTo(110, 12);
    expect(v!.secondsPerQuestion).toBeCloseTo(2, 12);
    expect(v).toMatchObject({
      repairRate: null,
      boostRate: null,
      executableRate: null,
      cyclomaticComplexity: null,
    });
    expect(report.primaryMetric).toBe('em');
    // 2 configs × 4 questions − 7 records.
    expect(report.missing).toBe(1);

    // pyrag: repaired on q2, q3 → 2/4; boosted on q2, q3 → 2/4; executable 3/4; exception 1/4;
    // complexity of the three executed programs 2, 5, 4 → min 2, median 4, max 5; depth 3, 4, 1.
    expect(p).toMatchObject({
      method: 'pyrag',
      questions: 4,
      errors: 0,
      programQuestions: 4,
      repairRate: 0.5,
      boostRate: 0.5,
      executableRate: 0.75,
      exceptionRate: 0.25,
      primary: 0.75,
    });
    expect(p!.cyclomaticComplexity).toEqual({ n: 3, min: 2, median: 4, max: 5, mean: 11 / 3 });
    expect(p!.maxStackDepth).toMatchObject({ min: 1, median: 3, max: 4 });
  });

  it('compares every two cells question by question on the main metric', () => {
    const [comparison] = summarize([...vanilla, ...pyrag]).comparisons;
    // Common questions q1..q3: q1 1–1 tie, q2 0–1 and q3 0–1 pyrag better.
    expect(comparison).toMatchObject({
      a: { method: 'vanilla' },
      b: { method: 'pyrag' },
      metric: 'em',
      questions: 3,
      aWins: 0,
      bWins: 2,
      ties: 1,
    });
    // McNemar: b = 0, c = 2 → exact p = 2 × (1/2)² = 0.5; too few discordant questions for χ².
    expect(comparison!.mcnemar).toEqual({ b: 0, c: 2, exactPValue: 0.5, chiSquare: null });
  });

  it('writes the CSV with raw values, the estimated flag, and an HTML report that holds the same numbers', () => {
    const records = [...vanilla.slice(0, 3), ...pyrag];
    const report = summarize(records);
    const [header, vRow, pRow] = reportCsv(summarizeEvalSuite([report]))
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    const column = (row: string[] | undefined, id: string) => row![header!.indexOf(id)];
    expect(header).toEqual(
      expect.arrayContaining([
        'method',
        'model',
        'em',
        'f1',
        'paragraph_recall',
        'tokens_estimated',
        'repair_rate',
        'boost_rate',
        'executable_rate',
        'cyclomatic_median',
      ]),
    );
    expect(Number(column(vRow, 'em'))).toBeCloseTo(1 / 3, 12);
    expect(column(vRow, 'tokens_estimated')).toBe('yes');
    expect(column(vRow, 'repair_rate')).toBe('');
    expect(column(pRow, 'em')).toBe('0.75');
    expect(column(pRow, 'cyclomatic_median')).toBe('4');

    const questions = questionsCsv(records).trimEnd().split('\r\n');
    expect(questions).toHaveLength(1 + 7);
    expect(questions[3]).toContain('MODEL_CALL_FAILED: x');

    const html = renderEvalHtml(report, records, {
      generatedAt: '2026-01-01T00:00:00.000Z',
      chartScript: () => '/* the chart script */',
    });
    expect(html).toMatch(/^<!doctype html>/);
    // The only scripts are the inlined chart script and its data; nothing is loaded from anywhere.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([
      '<script type="application/json" id="reckon-eval-chart-data-0">',
      '<script>',
    ]);
    expect(html).toContain('<script>/* the chart script */</script>');
    expect(html).not.toMatch(/\s(src|href)=|<link/);
    expect(html).toContain('data-eval-chart="accuracy"');
    expect(html).toContain('<td class="best">75.0</td>');
    expect(html).toContain('33.3');
    expect(html).toContain('Program complexity');
    expect(html).toContain('run-q2');
    expect(html).toContain('McNemar exact p (two-sided)');
    expect(html).toContain('<td>0</td><td>2</td><td>0.500</td><td>—</td>');
  });

  it('puts several datasets into one method × dataset table, best per column, with iterations per cell', () => {
    const hotpot = summarize([...vanilla.slice(0, 3), ...pyrag]);
    // A second dataset (GSM8K, accuracy) where only pyrag ran, on two questions, with iteration figures.
    const GSM: EvalConfig = { ...PYRAG, datasetHash: 'fedcba9876543210', datasetFormat: 'gsm8k' };
    const accuracy = (id: string, value: number): EvalRecord['score'] => ({
      id,
      rule: 'gsm8k',
      missing: false,
      prediction: 'p',
      golds: ['g'],
      metrics: { accuracy: value },
    });
    const gsmRecords = [
      record({ config: GSM, itemId: 'g1', score: accuracy('g1', 1), figures: { rounds: 2 } }),
      record({ config: GSM, itemId: 'g2', score: accuracy('g2', 0), figures: { iterations: 4, rounds: 9 } }),
    ];
    const gsm = summarizeEvaluation(gsmRecords, {
      dataset: { name: 'gsm8k', kind: 'gsm8k', format: 'gsm8k', path: 'g.jsonl', total: 300, notes: [] },
      sample: { limit: 2, seed: null, questions: 2 },
      corpus: null,
      configs: [{ configKey: evalConfigKey(GSM), config: GSM }],
      itemIds: ['g1', 'g2'],
    });
    // The first of iterations / rounds / steps / followUps present: 2 and 4.
    expect(gsm.cells[0]!.iterations).toEqual({ n: 2, min: 2, median: 3, max: 4, mean: 3 });
    expect(hotpot.cells[0]!.iterations).toBeNull();

    const suite = summarizeEvalSuite([hotpot, gsm]);
    expect(suite.missing).toBe(1);
    expect(suite.table.columns.map((c) => [c.datasetName, c.metric, c.best])).toEqual([
      ['hotpotqa', 'em', 0.75],
      ['hotpotqa', 'f1', 0.75],
      // One row only: nothing to mark.
      ['gsm8k', 'accuracy', null],
    ]);
    // Rows in first-seen order; vanilla has no GSM8K cell. F1: vanilla (1 + 0.5 + 0)/3, pyrag 3/4.
    expect(suite.table.rows.map((row) => [row.method, row.cells])).toEqual([
      ['vanilla', [0, null]],
      ['pyrag', [1, 0]],
    ]);
    expect(suite.table.rows[0]!.values).toEqual([1 / 3, 0.5, null]);
    expect(suite.table.rows[1]!.values).toEqual([0.75, 0.75, 0.5]);

    const [head, ...rows] = tableCsv(suite).trimEnd().split('\r\n');
    expect(head).toBe('method,model,hotpotqa em,hotpotqa f1,gsm8k accuracy');
    expect(rows[1]).toBe('pyrag,replay:a.jsonl,0.75,0.75,0.5');
    const long = reportCsv(suite).trimEnd().split('\r\n');
    expect(long).toHaveLength(1 + 3);
    expect(long[0]).toMatch(/^dataset,method,model,/);
    expect(long[0]).toContain('iterations_median');
    expect(long[3]).toMatch(/^gsm8k,pyrag,/);

    const html = renderEvalSuiteHtml(suite, [...vanilla, ...pyrag, ...gsmRecords], {
      generatedAt: 'now',
      chartScript: () => '/* the chart script */',
    });
    expect(html).toContain('<h2>Methods × datasets</h2>');
    // Each dataset's charts read their own data; the script is inlined once.
    expect(html.match(/<script\b[^>]*>/g)).toEqual([
      '<script type="application/json" id="reckon-eval-chart-data-0">',
      '<script type="application/json" id="reckon-eval-chart-data-1">',
      '<script>',
    ]);
    expect(html).toContain('data-eval-chart="accuracy" data-eval-chart-data="reckon-eval-chart-data-1"');
    expect(html).toContain('<th colspan="2">hotpotqa</th><th colspan="1">gsm8k</th>');
    expect(html).toContain(
      '<tr><td class="text">pyrag</td><td class="best">75.0</td><td class="best">75.0</td><td>50.0</td></tr>',
    );
    expect(html).toContain('<h1>Evaluation: gsm8k</h1>');
    // A column where every row scores the same marks nothing.
    // (q1 alone: both EM 1, F1 1.)
    const tied = summarizeEvalSuite([summarize([...vanilla, ...pyrag], ['q1'])]);
    expect(tied.table.rows.map((row) => row.values)).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(tied.table.columns.map((c) => [c.metric, c.best])).toEqual([
      ['em', null],
      ['f1', null],
    ]);
    // Two datasets of one name are told apart by their file names.
    expect(
      summarizeEvalSuite([
        hotpot,
        { ...hotpot, dataset: { ...hotpot.dataset, path: 'x/other.json' } },
      ]).table.columns.map((c) => c.datasetName),
    ).toEqual(['hotpotqa (d.json)', 'hotpotqa (d.json)', 'hotpotqa (other.json)', 'hotpotqa (other.json)']);
  });

  it('escapes text from the data in the HTML', () => {
    const records = [record({ itemId: 'q1', question: '<img src=x onerror=alert(1)>' })];
    const html = renderEvalHtml(summarize(records, ['q1']), records, {
      generatedAt: 'now',
      chartScript: () => '',
    });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
