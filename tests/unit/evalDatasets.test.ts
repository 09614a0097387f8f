/**
 * Dataset parsing on small hand-written files: CSV quoting, the user's own formats, multiple choice,
 * seeded sampling, and the errors a broken or unrecognized file gets.
 */
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../main/engine/eval/datasets/parseCsv.ts';
import { parseEvalDataset } from '../../main/engine/eval/datasets/loadEvalDataset.ts';
import { sampleItems } from '../../main/engine/eval/datasets/sampleItems.ts';
import { stripBbhCanary } from '../../main/engine/eval/datasets/reasoningItems.ts';
import { ReckonError } from '../../main/engine/errors.ts';
import { evalCorpusParagraphs } from '../../main/engine/eval/datasets/evalCorpusParagraphs.ts';
import type { EvalItem } from '../../main/engine/eval/datasets/EvalItem.ts';

function errorOf(run: () => unknown): ReckonError {
  try {
    run();
  } catch (error) {
    if (error instanceof ReckonError) return error;
    throw error;
  }
  throw new Error('expected a ReckonError');
}

describe('parseCsv', () => {
  it('reads quoted commas, doubled quotes, line breaks in quotes and CRLF', () => {
    expect(parseCsv('a,"b, c","say ""hi"""\r\n"two\nlines",,x\n\n', 'f.csv')).toEqual([
      ['a', 'b, c', 'say "hi"'],
      ['two\nlines', '', 'x'],
    ]);
  });

  it('names the line of a quote that is never closed', () => {
    const error = errorOf(() => parseCsv('a,b\n"open,c\n', 'f.csv'));
    expect(error.code).toBe('BAD_DATASET');
    expect(error.message).toContain('line 2');
  });
});

describe('parseEvalDataset on the user’s own files', () => {
  it('reads a CSV with a header: question, answer and alias columns, ids by position', () => {
    const dataset = parseEvalDataset('Question,Answer,alias 1\nWho?,Ann,"Ann B."\nWhen?,1999,\n', {
      fileName: 'mine.csv',
    });
    expect(dataset).toMatchObject({ format: 'custom-csv', kind: 'custom', name: 'mine', total: 2 });
    expect(dataset.items).toEqual([
      { id: 'q0', dataset: 'custom', input: { question: 'Who?' }, gold: { answers: ['Ann', 'Ann B.'] } },
      { id: 'q1', dataset: 'custom', input: { question: 'When?' }, gold: { answers: ['1999'] } },
    ]);
  });

  it('reads JSON lines with ids, lists of answers, aliases and multiple-choice options', () => {
    const text = [
      JSON.stringify({ id: 'x', question: 'Capital of France?', answers: ['Paris', 'paris, france'] }),
      JSON.stringify({ id: 7, query: 'Is it?', answer: true }),
      JSON.stringify({ question: 'Pick', options: ['red', 'green'], answer: 'green' }),
      JSON.stringify({ question: 'Pick again', choices: { A: 'up', B: 'down' }, answer: '(a)' }),
    ].join('\n');
    const { items, format } = parseEvalDataset(text, { fileName: 'mine.jsonl' });
    expect(format).toBe('custom-jsonl');
    expect(
      items.map((item) => [item.id, item.gold.answers, item.input.options?.map((o) => o.label)]),
    ).toEqual([
      ['x', ['Paris', 'paris, france'], undefined],
      ['7', ['yes'], undefined],
      ['q2', ['B'], ['A', 'B']],
      ['q3', ['A'], ['A', 'B']],
    ]);
  });

  it('reads FlashRAG choices with gold indices as multiple choice', () => {
    const text = JSON.stringify({
      id: 'm1',
      question: 'Which?',
      golden_answers: [1],
      choices: ['x', 'y', 'z'],
    });
    const [item] = parseEvalDataset(text, { fileName: 'mmlu.jsonl' }).items;
    expect(item).toMatchObject({
      input: { options: [{ label: 'A' }, { label: 'B' }, { label: 'C' }] },
      gold: { answers: ['B'] },
    });
  });

  it('rejects an answer that names no option', () => {
    const text = JSON.stringify({ question: 'Pick', options: ['red', 'green'], answer: 'blue' });
    expect(errorOf(() => parseEvalDataset(text, { fileName: 'mine.jsonl' })).message).toContain('"blue"');
  });
});

describe('parseEvalDataset errors', () => {
  it('lists the formats it knows when it cannot tell what a file is', () => {
    const error = errorOf(() => parseEvalDataset('{"foo": 1}\n{"foo": 2}\n', { fileName: 'x.jsonl' }));
    expect(error.code).toBe('UNKNOWN_DATASET_FORMAT');
    expect(error.message).toContain('foo');
    expect(error.message).toContain('MuSiQue JSON lines');
    expect(error.message).toContain('--format');
  });

  it('names the broken line of a JSON-lines file', () => {
    const error = errorOf(() =>
      parseEvalDataset('{"question": "a", "answer": "b"}\n{"question": \n', { fileName: 'x.jsonl' }),
    );
    expect(error.code).toBe('BAD_DATASET');
    expect(error.message).toContain('line 2');
  });

  it('names the record and the field when --format does not fit', () => {
    const text = JSON.stringify([
      { _id: 'a', question: 'q', answer: 'x', context: [], supporting_facts: [] },
      { _id: 'b' },
    ]);
    const error = errorOf(() => parseEvalDataset(text, { fileName: 'h.json', format: 'hotpotqa' }));
    expect(error.code).toBe('BAD_DATASET');
    expect(error.message).toMatch(/HotpotQA JSON: record 2: expected "context" to be a list/);
  });

  it('refuses duplicate ids, since predictions are matched by id', () => {
    const text = [
      '{"id": "a", "question": "q", "answer": "x"}',
      '{"id": "a", "question": "r", "answer": "y"}',
    ].join('\n');
    expect(errorOf(() => parseEvalDataset(text, { fileName: 'x.jsonl' })).message).toContain('"a" twice');
  });

  it('refuses a GSM8K line without "#### <n>"', () => {
    const text = [
      '{"question": "q", "answer": "x\\n#### 3"}',
      '{"question": "r", "answer": "no number"}',
    ].join('\n');
    const error = errorOf(() => parseEvalDataset(text, { fileName: 'g.jsonl' }));
    expect(error.message).toMatch(/GSM8K.*line 2.*#### <number>/);
  });
});

describe('sampleItems', () => {
  const items = Array.from({ length: 50 }, (_, i) => i);

  it('takes the first N without a seed', () => {
    expect(sampleItems(items, { limit: 3 })).toEqual([0, 1, 2]);
  });

  it('draws the same sample for the same seed, in file order, and a larger limit extends it', () => {
    const five = sampleItems(items, { limit: 5, seed: 42 });
    expect(sampleItems(items, { limit: 5, seed: 42 })).toEqual(five);
    expect(five).toEqual([...five].sort((a, b) => a - b));
    expect(five).not.toEqual([0, 1, 2, 3, 4]);
    expect(sampleItems(items, { limit: 5, seed: 43 })).not.toEqual(five);
    const ten = sampleItems(items, { limit: 10, seed: 42 });
    expect(five.every((i) => ten.includes(i))).toBe(true);
  });
});

describe('BBH cot prompts', () => {
  it('strips everything through the ----- line (the canary)', () => {
    expect(stripBbhCanary('CANARY GUID 123\n-----\nTask.\n\nQ: x\nA: y\n')).toBe('Task.\n\nQ: x\nA: y');
    expect(stripBbhCanary('CANARY GUID 123\nno rule')).toBeUndefined();
  });
});

describe('evalCorpusParagraphs', () => {
  it('collects each distinct paragraph once, in first-seen order, without sentences', () => {
    const paragraph = (title: string, text: string) => ({ title, text, sentences: [text] });
    const items = [
      {
        id: '1',
        dataset: 'hotpotqa',
        input: { question: 'a', paragraphs: [paragraph('A', 'x'), paragraph('B', 'y')] },
        gold: { answers: ['1'] },
      },
      {
        id: '2',
        dataset: 'hotpotqa',
        input: { question: 'b', paragraphs: [paragraph('B', 'y'), paragraph('B', 'z')] },
        gold: { answers: ['2'] },
      },
      { id: '3', dataset: 'gsm8k', input: { question: 'c' }, gold: { answers: ['3'] } },
    ] as const satisfies readonly EvalItem[];
    expect(evalCorpusParagraphs(items)).toEqual([
      { title: 'A', text: 'x' },
      { title: 'B', text: 'y' },
      { title: 'B', text: 'z' },
    ]);
  });
});
