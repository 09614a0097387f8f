import { describe, expect, it } from 'vitest';
import { RUN_ID_PATTERN, newRunId } from '../../main/engine/runs/ids.ts';

describe('newRunId', () => {
  it('formats the UTC time and a suffix from the injected random source', () => {
    const at = Date.UTC(2026, 10, 21, 17, 15, 0, 999);
    // k=20, 3=3, x=33, 9=9; the middle of each character's interval.
    const digits = [20, 3, 33, 9].map((index) => (index + 0.5) / 36);
    let next = 0;
    const id = newRunId(
      () => at,
      () => digits[next++] ?? 0,
    );
    expect(id).toBe('run-20261121-171500-k3x9');
    expect(id).toMatch(RUN_ID_PATTERN);
  });

  it('pads single digits and survives a random source that returns 1', () => {
    expect(
      newRunId(
        () => Date.UTC(2027, 0, 2, 3, 4, 5),
        () => 1,
      ),
    ).toBe('run-20270102-030405-zzzz');
  });

  it('sorts ids of later runs after earlier ones', () => {
    const times = [Date.UTC(2026, 0, 1, 23, 59, 59), Date.UTC(2026, 0, 2, 0, 0, 0), Date.UTC(2026, 9, 1)];
    const ids = times.map((time) => newRunId(() => time));
    expect([...ids].sort()).toEqual(ids);
    for (const id of ids) expect(id).toMatch(RUN_ID_PATTERN);
  });

  it('rejects a clock that returns an invalid time', () => {
    expect(() => newRunId(() => Number.NaN)).toThrow(RangeError);
  });
});
