/**
 * The gold-decomposition ceiling on hand-made items and a hand-written retriever whose answers
 * depend on the query and on k, so that which query was searched with how many passages shows in
 * the recalls worked out in the comments.
 */
import { describe, expect, it } from 'vitest';
import type { SearchOptions, SearchResult } from '../../main/engine/corpus/search/searchCorpus.ts';
import { CancelledError } from '../../main/engine/errors.ts';
import type { EvalDataset, EvalItem } from '../../main/engine/eval/datasets/EvalItem.ts';
import { goldSubQuestions, measureOracleRecall } from '../../main/engine/eval/run/measureOracleRecall.ts';

describe('goldSubQuestions', () => {
  it('substitutes earlier gold answers for #1, #2 …, and leaves a reference with no answer as written', () => {
    expect(
      goldSubQuestions([
        { question: 'Who wrote Dune?', answers: ['Frank Herbert', 'Herbert'] },
        { question: 'Where was #1 born?', answers: ['Tacoma'] },
        { question: 'What river runs through #2, near #1?', answers: [] },
        { question: 'Is #3 long, unlike #9?', answers: [] },
      ]),
    ).toEqual([
      'Who wrote Dune?',
      'Where was Frank Herbert born?',
      'What river runs through Tacoma, near Frank Herbert?',
      'Is #3 long, unlike #9?',
    ]);
  });
});

const item = (id: string, steps: string[], titles: string[]): EvalItem => ({
  id,
  dataset: 'musique',
  input: { question: `question ${id}` },
  gold: {
    answers: ['x'],
    supportingTitles: titles,
    decomposition: steps.map((question, index) => ({ question, answers: [`a${index + 1}`] })),
  },
});

const dataset = (items: EvalItem[]): EvalDataset => ({
  kind: 'musique',
  format: 'musique',
  path: 'm.jsonl',
  name: 'musique',
  items,
  total: items.length,
  hasContexts: true,
  notes: [],
});

/**
 * Searches answer from a table of query → titles in rank order, cut to k; every call is logged.
 */
function fakeRetriever(table: Record<string, string[]>) {
  const calls: { query: string; k: number | undefined; mode: string | undefined }[] = [];
  return {
    calls,
    retriever: {
      async search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
        calls.push({ query, k: options.k, mode: options.mode });
        if (options.signal?.aborted) throw new CancelledError();
        const titles = (table[query] ?? []).slice(0, options.k ?? 5);
        return {
          requestedMode: options.mode ?? 'hybrid',
          mode: options.mode ?? 'hybrid',
          warnings: [],
          hits: titles.map((title, index) => ({
            chunkId: index,
            documentId: index,
            path: 'p',
            title,
            text: 't',
            start: 0,
            end: 1,
            page: null,
            score: -index,
            ranks: {},
          })),
        };
      },
    },
  };
}

describe('measureOracleRecall', () => {
  it('searches the question with steps × k passages and each sub-question with k, and averages the recalls', async () => {
    const { retriever, calls } = fakeRetriever({
      // q1 (2 steps, k = 2 → question gets 4): finds A at rank 1 and B at rank 5, cut off → recall 1/2.
      'question q1': ['A', 'x', 'y', 'z', 'B'],
      'Who is #1?': ['never searched: #1 is substituted'],
      'Who is a1?': ['B', 'w'],
      'First of q1': ['A', 'v'],
      // q2 (1 step → question gets 2): finds nothing; the sub-question finds C → 0 vs 1.
      'question q2': ['u', 'v', 'C'],
      'Only of q2': ['C'],
    });
    const report = await measureOracleRecall({
      dataset: dataset([
        item('q1', ['First of q1', 'Who is #1?'], ['A', 'B']),
        item('q2', ['Only of q2'], ['C']),
        // A decomposition without supporting titles cannot be scored: skipped.
        item('q3', ['Anything'], []),
        // No decomposition: not part of it.
        { ...item('q4', [], ['D']), gold: { answers: ['x'], supportingTitles: ['D'] } },
      ]),
      retriever,
      topK: 2,
      modes: ['bm25'],
    });
    expect(calls).toEqual([
      { query: 'question q1', k: 4, mode: 'bm25' },
      { query: 'First of q1', k: 2, mode: 'bm25' },
      { query: 'Who is a1?', k: 2, mode: 'bm25' },
      { query: 'question q2', k: 2, mode: 'bm25' },
      { query: 'Only of q2', k: 2, mode: 'bm25' },
    ]);
    expect(report).not.toBeNull();
    expect(report!.topK).toBe(2);
    expect(report!.skipped).toBe(1);
    const [bm25] = report!.modes;
    expect(bm25!.questions).toBe(2);
    expect(bm25!.perQuestion.map((row) => [row.itemId, row.passages, row.question, row.gold])).toEqual([
      ['q1', 4, { recall: 0.5, allFound: 0 }, { recall: 1, allFound: 1 }],
      ['q2', 2, { recall: 0, allFound: 0 }, { recall: 1, allFound: 1 }],
    ]);
    // Question alone: (1/2 + 0)/2 = 0.25, all found 0; gold: 1 and 1.
    expect(bm25!.question).toEqual({ recall: 0.25, allFound: 0 });
    expect(bm25!.gold).toEqual({ recall: 1, allFound: 1 });
  });

  it('measures each mode on its own, is null with nothing to measure, and stops when cancelled', async () => {
    const { retriever, calls } = fakeRetriever({ 'question q1': ['A'] });
    const both = await measureOracleRecall({
      dataset: dataset([item('q1', ['s'], ['A'])]),
      retriever,
      topK: 3,
      modes: ['bm25', 'dense'],
    });
    expect(both!.modes.map((mode) => [mode.mode, mode.question.recall, mode.gold.recall])).toEqual([
      ['bm25', 1, 0],
      ['dense', 1, 0],
    ]);
    expect(calls.map((call) => call.mode)).toEqual(['bm25', 'bm25', 'dense', 'dense']);

    expect(
      await measureOracleRecall({
        dataset: dataset([{ ...item('q', [], ['A']), gold: { answers: ['x'] } }]),
        retriever,
        topK: 3,
        modes: ['bm25'],
      }),
    ).toBeNull();

    const controller = new AbortController();
    controller.abort();
    await expect(
      measureOracleRecall({
        dataset: dataset([item('q1', ['s'], ['A'])]),
        retriever,
        topK: 3,
        modes: ['bm25'],
        signal: controller.signal,
      }),
    ).rejects.toBeInstanceOf(CancelledError);
  });
});
