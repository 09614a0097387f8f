/**
 * Loaders and official scoring on the real evaluation data in ../shared/data: every format loads
 * and recognizes itself, gold answers score full marks under each rule, no gold field reaches what a
 * method sees, and a HotpotQA predictions file with hand-made mistakes scores exactly what the
 * official hotpot_evaluate_v1.py prints for it.
 */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../fixtures/runReckon.ts';
import { loadEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import type { EvalDataset } from '../../main/engine/eval/datasets/EvalItem.ts';
import type { EvalPrediction } from '../../main/engine/eval/scoring/EvalScore.ts';
import { scorePredictions } from '../../main/engine/eval/scoring/scorePredictions.ts';
import { paragraphRecall } from '../../main/engine/eval/scoring/supportingFactScores.ts';
import {
  HOTPOT_EXPECTED,
  HOTPOT_FIRST53,
  hotpotPredictionsWithMistakes,
} from '../fixtures/hotpotPredictions.ts';

const DATA = path.resolve(REPO_ROOT, '../shared/data');

const FILES = [
  ['hotpotqa/dev_distractor_200.json', 'hotpotqa', 200, 'em'],
  ['2wikimultihopqa/dev_164.json', '2wikimultihopqa', 164, 'em'],
  ['musique/ans_dev_200.jsonl', 'musique', 200, 'em'],
  ['bamboogle/bamboogle.csv', 'bamboogle-csv', 125, 'em'],
  ['bamboogle/bamboogle_with_decomposition.json', 'bamboogle-json', 125, 'em'],
  ['bamboogle/bamboogle_flashrag.jsonl', 'flashrag', 125, 'em'],
  ['gsm8k/test_300.jsonl', 'gsm8k', 300, 'accuracy'],
  ['bbh/date_understanding.json', 'bbh', 250, 'accuracy'],
  ['bbh/web_of_lies.json', 'bbh', 250, 'accuracy'],
  ['pubmedqa/ori_pqal.json', 'pubmedqa', 500, 'accuracy'],
  ['strategyqa/dev_200.json', 'strategyqa', 200, 'accuracy'],
] as const;

/** The predictions a perfect method would make: the gold, in the form each rule extracts it from. */
function goldPredictions(dataset: EvalDataset): Map<string, EvalPrediction> {
  return new Map(
    dataset.items.map((item) => {
      const gold = item.gold.answers[0]!;
      const answer =
        item.dataset === 'gsm8k'
          ? `Worked out.\n#### ${gold}`
          : item.dataset === 'bbh'
            ? `So the answer is ${gold}.`
            : gold;
      return [item.id, { answer }];
    }),
  );
}

describe('every dataset format on the real files', () => {
  for (const [file, format, count, headline] of FILES) {
    it(`${file}: recognized as ${format}, ${count} questions, gold answers score 1`, async () => {
      const dataset = await loadEvalDataset(path.join(DATA, file));
      expect(dataset.format).toBe(format);
      expect(dataset.items).toHaveLength(count);
      for (const item of dataset.items) {
        expect(item.input.question.trim()).not.toBe('');
        expect(item.gold.answers.length).toBeGreaterThan(0);
        expect(
          Object.keys(item.input).every((key) => ['question', 'paragraphs', 'options'].includes(key)),
        ).toBe(true);
      }
      const result = scorePredictions(dataset, goldPredictions(dataset));
      expect(result.missing).toBe(0);
      const [summary] = result.summaries;
      expect(summary!.metrics.find((m) => m.key === headline)?.value).toBe(1);
      for (const metric of summary!.metrics) if (metric.official) expect(metric.value, metric.key).toBe(1);
    });
  }

  it('Bamboogle keeps the CSV’s alternative answers and shares ids across its three formats', async () => {
    const csv = await loadEvalDataset(path.join(DATA, 'bamboogle/bamboogle.csv'));
    const flashrag = await loadEvalDataset(path.join(DATA, 'bamboogle/bamboogle_flashrag.jsonl'));
    expect(csv.items.map((item) => [item.id, item.input.question])).toEqual(
      flashrag.items.map((item) => [item.id, item.input.question]),
    );
    const withAlternative = csv.items.find(
      (item) => item.input.question === 'Who is the mother of the father of George Washington?',
    );
    expect(withAlternative?.gold.answers).toEqual(['Mildred Warner', 'Mildred Gale']);
    // The alternative scores EM 1 under the golden-answers rule.
    const result = scorePredictions(csv, new Map([[withAlternative!.id, { answer: 'mildred gale' }]]));
    expect(result.perQuestion.find((q) => q.id === withAlternative!.id)?.metrics.em).toBe(1);
  });

  it('multi-hop contexts become the corpus and carry every supporting title', async () => {
    for (const file of [
      'hotpotqa/dev_distractor_200.json',
      '2wikimultihopqa/dev_164.json',
      'musique/ans_dev_200.jsonl',
    ]) {
      const dataset = await loadEvalDataset(path.join(DATA, file));
      expect(dataset.hasContexts).toBe(true);
      for (const item of dataset.items) {
        const titles = item.input.paragraphs!.map((p) => p.title);
        expect(paragraphRecall(item.gold.supportingTitles!, titles).allFound, `${file} ${item.id}`).toBe(1);
      }
    }
  });

  it('PubMedQA: the official 500 test PMIDs with their labels, and no answer field in what a method sees', async () => {
    const dataset = await loadEvalDataset(path.join(DATA, 'pubmedqa/ori_pqal.json'));
    const labels = JSON.parse(
      fs.readFileSync(path.join(DATA, 'pubmedqa/test_ground_truth.json'), 'utf8'),
    ) as Record<string, string>;
    const raw = JSON.parse(fs.readFileSync(path.join(DATA, 'pubmedqa/ori_pqal.json'), 'utf8')) as Record<
      string,
      { LONG_ANSWER: string }
    >;
    expect(dataset.items.map((item) => [item.id, item.gold.answers[0]])).toEqual(Object.entries(labels));
    for (const item of dataset.items) {
      const seen = JSON.stringify(item.input);
      expect(seen).not.toContain(raw[item.id]!.LONG_ANSWER);
      expect(seen).not.toMatch(/final_decision|LONG_ANSWER|reasoning_(free|required)_pred/);
    }
  });

  it('BBH: the task’s few-shot prompt without the canary', async () => {
    const dataset = await loadEvalDataset(path.join(DATA, 'bbh/web_of_lies.json'));
    expect(dataset.fewShotPrompt).toMatch(/^Evaluate a random boolean function/);
    expect(dataset.fewShotPrompt).not.toMatch(/canary|BENCHMARK DATA/i);
    expect(JSON.stringify(dataset.items)).not.toMatch(/canary/i);
  });

  it('StrategyQA: facts and decomposition stay gold', async () => {
    const dataset = await loadEvalDataset(path.join(DATA, 'strategyqa/dev_200.json'));
    const first = dataset.items[0]!;
    expect(first.gold.rationale).toContain('Albany, GA has around 75,000 people');
    expect(JSON.stringify(first.input)).not.toContain('75,000');
  });

  it('--limit and --seed draw the same questions every time', async () => {
    const file = path.join(DATA, 'musique/ans_dev_200.jsonl');
    const a = await loadEvalDataset(file, { limit: 10, seed: 7 });
    const b = await loadEvalDataset(file, { limit: 10, seed: 7 });
    expect(a.items.map((i) => i.id)).toEqual(b.items.map((i) => i.id));
    expect(a.total).toBe(200);
    expect((await loadEvalDataset(file, { limit: 3 })).items.map((i) => i.id)).toEqual([
      '2hop__574419_270105',
      expect.any(String),
      expect.any(String),
    ]);
  });
});

describe('HotpotQA official first 53', () => {
  it('gold answers and supporting facts score 1 on every metric', async () => {
    const dataset = await loadEvalDataset(HOTPOT_FIRST53);
    const predictions = new Map(
      dataset.items.map((item) => [
        item.id,
        { answer: item.gold.answers[0]!, supportingFacts: item.gold.supportingFacts! },
      ]),
    );
    const [summary] = scorePredictions(dataset, predictions).summaries;
    expect(summary!.metrics).toHaveLength(12);
    for (const metric of summary!.metrics) expect(metric.value, metric.key).toBe(1);
  });

  it('wrong and missing predictions score the hand-computed numbers', async () => {
    const dataset = await loadEvalDataset(HOTPOT_FIRST53);
    const { answer, sp } = hotpotPredictionsWithMistakes(dataset.items);
    const predictions = new Map<string, EvalPrediction>();
    for (const item of dataset.items)
      if (item.id in answer || item.id in sp)
        predictions.set(item.id, {
          answer: answer[item.id] ?? null,
          ...(sp[item.id] ? { supportingFacts: sp[item.id] } : {}),
        });
    const result = scorePredictions(dataset, predictions);
    expect(result).toMatchObject({ questions: 53, answered: 51, missing: 2 });
    expect(result.missingIds).toEqual([dataset.items[2]!.id, dataset.items[52]!.id]);
    const values = Object.fromEntries(result.summaries[0]!.metrics.map((m) => [m.key, m.value]));
    expect(Object.keys(values)).toEqual(Object.keys(HOTPOT_EXPECTED));
    for (const [key, expected] of Object.entries(HOTPOT_EXPECTED))
      expect(values[key], key).toBeCloseTo(expected, 12);
  });
});
