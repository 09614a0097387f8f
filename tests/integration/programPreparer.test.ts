import { afterAll, describe, expect, it } from 'vitest';
import { prepareProgram } from '../../main/engine/programs/prepareProgram.ts';
import {
  DEFAULT_IN_THREAD_PREPARE_MAX_BYTES,
  ProgramPreparer,
} from '../../main/engine/programs/ProgramPreparer.ts';

const PROGRAM = 'const docs = await retrieve("capital of France");\nreturn await answer("Which?", docs);';

describe('ProgramPreparer (preparation off the engine thread, under a deadline)', () => {
  // Every program goes to the worker here; the routing of short ones is tested below.
  const preparer = new ProgramPreparer({ inThreadMaxBytes: 0 });
  afterAll(() => preparer.close());

  it('prepares a program of up to 1 KiB on the calling thread, and a longer one in the worker', async () => {
    // No worker can start: only a program prepared on this thread can succeed.
    const workerless = new ProgramPreparer({ workerUrl: new URL('./no-such-worker.mjs', import.meta.url) });
    try {
      expect(await workerless.prepare(PROGRAM)).toEqual(prepareProgram(PROGRAM));
      expect(await workerless.prepare('const = ;')).toEqual(prepareProgram('const = ;'));
      const short = `${PROGRAM}\n${'x'.repeat(DEFAULT_IN_THREAD_PREPARE_MAX_BYTES - PROGRAM.length - 5)};`;
      expect(Buffer.byteLength(short)).toBeLessThanOrEqual(DEFAULT_IN_THREAD_PREPARE_MAX_BYTES);
      expect(await workerless.prepare(short)).toMatchObject({ ok: true });
      // Bytes, not characters: 400 three-byte characters are over the limit.
      for (const long of [`${short}\n// padding`, `${PROGRAM}\n// ${'€'.repeat(400)}`]) {
        expect(await workerless.prepare(long)).toMatchObject({ ok: false, error: { kind: 'RuntimeError' } });
      }
    } finally {
      await workerless.close();
    }
  });

  it('prepares in its worker exactly what prepareProgram prepares', async () => {
    expect(await preparer.prepare(PROGRAM)).toEqual(prepareProgram(PROGRAM));
    expect(await preparer.prepare('const = ;')).toEqual(prepareProgram('const = ;'));
    // The worker's stack is larger than the main thread's, so this is deeper than prepareProgram's own tests.
    const deep = `return ${'('.repeat(30_000)}1${')'.repeat(30_000)};`;
    expect(await preparer.prepare(deep)).toMatchObject({ ok: false, error: { errorName: 'ProgramTooDeep' } });
  });

  it('stops a preparation past its deadline with a typed Timeout, and keeps serving', async () => {
    const hasty = new ProgramPreparer({ deadlineMs: 1 });
    const closed = new ProgramPreparer();
    await closed.close();
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
    expect(await closed.prepare(PROGRAM)).toMatchObject({ ok: false, error: { message: /closed/ } });
  });
});
