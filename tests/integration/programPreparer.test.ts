import { afterAll, describe, expect, it } from 'vitest';
import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import { ProgramPreparer } from '../../main/engine/programs/ProgramPreparer.ts';

const PROGRAM = 'const docs = await retrieve("capital of France");\nreturn await answer("Which?", docs);';

describe('ProgramPreparer (preparation off the engine thread, under a deadline)', () => {
  const preparer = new ProgramPreparer();
  afterAll(() => preparer.close());

  it('prepares in its worker exactly what prepareProgram prepares', async () => {
    expect(await preparer.prepare(PROGRAM)).toEqual(prepareProgram(PROGRAM));
    expect(await preparer.prepare('const = ;')).toEqual(prepareProgram('const = ;'));
    // The worker's stack is larger than the main thread's, so this is deeper than prepareProgram's own tests.
    const deep = `return ${'('.repeat(30_000)}1${')'.repeat(30_000)};`;
    expect(await preparer.prepare(deep)).toMatchObject({ ok: false, error: { errorName: 'ProgramTooDeep' } });
  });

  it('stops a preparation past its deadline with a typed Timeout, and keeps serving', async () => {
    const hasty = new ProgramPreparer({ deadlineMs: 1 });
    try {
      // A 60 KiB program takes far longer than 1 ms to parse and instrument.
      const big = Array.from({ length: 1500 }, (_, i) => `const v${i} = await answer("q${i}");`).join('\n');
      expect(await hasty.prepare(`${big}\nreturn v0;`)).toMatchObject({
        ok: false,
        error: { kind: 'Timeout' },
      });
    } finally {
      await hasty.close();
    }
    // The shared preparer is unaffected, and a closed one answers without hanging.
    expect(await preparer.prepare(PROGRAM)).toMatchObject({ ok: true });
    expect(await hasty.prepare(PROGRAM)).toMatchObject({ ok: false, error: { message: /closed/ } });
  });
});
