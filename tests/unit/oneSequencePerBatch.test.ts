/**
 * The batch prioritization behind LlamaCppBackend's 'perSequence' decode batching, on hand-made
 * batch items: one sequence per llama_decode call, first in the queue among the most urgent.
 */
import type { BatchItem } from 'node-llama-cpp';
import { describe, expect, it } from 'vitest';
import { oneSequencePerBatch } from '../../main/engine/models/LlamaCppBackend.ts';

function item(tokens: number, evaluationPriority: BatchItem['evaluationPriority'] = 5): BatchItem {
  return {
    tokens: Array.from({ length: tokens }, (_, i) => i) as unknown as BatchItem['tokens'],
    logits: Array.from({ length: tokens }, (_, i) => (i === tokens - 1 ? true : undefined)),
    evaluationPriority,
  };
}

describe('oneSequencePerBatch', () => {
  it('puts only the first queued sequence in the batch, all of its tokens', () => {
    const items = [item(1), item(1), item(1), item(1)];
    expect(oneSequencePerBatch({ items, size: 512 })).toEqual([{ item: items[0], processAmount: 1 }]);
    const prompts = [item(80), item(3)];
    expect(oneSequencePerBatch({ items: prompts, size: 512 })).toEqual([
      { item: prompts[0], processAmount: 80 },
    ]);
  });

  it('cuts a prompt longer than the batch to the batch size (the rest comes first next time)', () => {
    const items = [item(700), item(1)];
    expect(oneSequencePerBatch({ items, size: 512 })).toEqual([{ item: items[0], processAmount: 512 }]);
  });

  it('prefers a higher evaluation priority over queue order', () => {
    const items = [item(1, 3), item(1, 5), item(1, 5)];
    expect(oneSequencePerBatch({ items, size: 512 })).toEqual([{ item: items[1], processAmount: 1 }]);
  });

  it('returns nothing for an empty queue', () => {
    expect(oneSequencePerBatch({ items: [], size: 512 })).toEqual([]);
  });
});
