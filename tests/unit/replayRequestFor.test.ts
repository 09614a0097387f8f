import { describe, expect, it } from 'vitest';
import { replayRequestFor } from '../../main/engine/app/replayRequestFor.ts';
import { ReckonError } from '../../main/engine/errors.ts';

const run = {
  id: 'run-1',
  question: 'Who wrote it?',
  corpus: 'notes',
  strategy: 'pyrag',
  options: null as unknown,
};

describe('replayRequestFor', () => {
  it('repeats the question, corpus, strategy, k and search mode the run recorded', () => {
    expect(
      replayRequestFor({
        ...run,
        options: { kind: 'question', topK: 3, searchMode: 'bm25', retry: { maxAttempts: 2 } },
      }),
    ).toEqual({ question: 'Who wrote it?', corpus: 'notes', strategy: 'pyrag', k: 3, mode: 'bm25' });
  });

  it('leaves out what the run did not record or what is not understood', () => {
    expect(replayRequestFor(run)).toEqual({ question: 'Who wrote it?', corpus: 'notes', strategy: 'pyrag' });
    expect(replayRequestFor({ ...run, corpus: null, options: { topK: 0, searchMode: 'fuzzy' } })).toEqual({
      question: 'Who wrote it?',
      corpus: null,
      strategy: 'pyrag',
    });
    expect(replayRequestFor({ ...run, options: { topK: 7 } })).toMatchObject({ k: 7 });
    expect(replayRequestFor({ ...run, options: 'not an object' })).not.toHaveProperty('k');
  });

  it('refuses a strategy the app cannot start', () => {
    let caught: unknown;
    try {
      replayRequestFor({ ...run, strategy: 'user-program' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ReckonError);
    expect(caught).toMatchObject({ code: 'REPLAY_UNSUPPORTED' });
    expect((caught as Error).message).toMatch(/"user-program" strategy/);
  });

  it('tells a user program saved as "program" from a run of the PROGRAM strategy', () => {
    const saved = {
      ...run,
      strategy: 'program',
      options: { kind: 'program', code: 'return 1', model: null },
    };
    expect(() => replayRequestFor(saved)).toThrow(expect.objectContaining({ code: 'REPLAY_UNSUPPORTED' }));
    expect(replayRequestFor({ ...run, strategy: 'program', options: { kind: 'question' } })).toMatchObject({
      strategy: 'program',
    });
  });
});
