/** The ICRAG version view's line diff (jsdiff): kept, added and removed lines between c_n and c_n+1. */
import { describe, expect, it } from 'vitest';
import { versionDiff } from '../../renderer/src/run/versionDiff.ts';

describe('versionDiff', () => {
  it('marks each line of c_n → c_n+1 as kept, removed or added, in order', () => {
    const before = 'const hours = 8;\nconst rate = hourly_wage("Ann");\nreturn hours * rate;';
    const after = 'const hours = 8;\nconst rate = 12;\nconst pay = hours * rate;\nreturn pay;';
    expect(versionDiff(before, after)).toEqual([
      { kind: 'same', text: 'const hours = 8;' },
      { kind: 'removed', text: 'const rate = hourly_wage("Ann");' },
      { kind: 'removed', text: 'return hours * rate;' },
      { kind: 'added', text: 'const rate = 12;' },
      { kind: 'added', text: 'const pay = hours * rate;' },
      { kind: 'added', text: 'return pay;' },
    ]);
  });

  it('gives only kept lines for an unchanged version', () => {
    expect(versionDiff('return 1;\n', 'return 1;\n')).toEqual([{ kind: 'same', text: 'return 1;' }]);
  });
});
