import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { laptopTable } from '../bench/laptopTable.ts';

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-laptop-table-'));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function save(
  name: string,
  startedAt: string,
  results: { benchmark: string; metric: string; value: number }[],
  mode: 'full' | 'quick' = 'full',
) {
  fs.writeFileSync(
    path.join(dir, name),
    JSON.stringify({
      startedAt,
      mode,
      machine: { cpuModel: 'Test CPU', cpus: 8, physicalCores: 4, totalMemoryGiB: 16, loadAverage: [0.5] },
      results: results.map((row) => ({ ...row, unit: 'ms' })),
    }),
  );
}

describe('laptopTable', () => {
  it('takes each row from the newest saved run that has it, and names what was never measured', () => {
    save('old.json', '2026-01-01T00:00:00.000Z', [
      { benchmark: 'overhead', metric: 'overhead per question p50', value: 45 },
      { benchmark: 'scale', metric: 'dense i8 index bytes per vector', value: 512 },
    ]);
    save('new.json', '2026-02-01T00:00:00.000Z', [
      { benchmark: 'overhead', metric: 'overhead per question p50', value: 12.5 },
    ]);
    // latest.json duplicates a dated file and is skipped.
    save('latest.json', '2026-03-01T00:00:00.000Z', [
      { benchmark: 'overhead', metric: 'overhead per question p50', value: 999 },
    ]);
    const table = laptopTable(dir);
    expect(table).toContain('Measured on: Test CPU, 8 logical CPUs (4 physical), 16 GiB RAM.');
    expect(table).toContain('| Reckon overhead per question (no model time) | 12.5 | ms | new (full, 0.5) |');
    // 512 B per vector × 21e6 vectors, in GiB.
    expect(table).toMatch(
      /dense i8 index \(21e6 × bytes per vector\) \| 10\.0 \| GiB \| old \(full, 0\.5\) \|/,
    );
    expect(table).toContain(
      '| Sandbox start, built worker | not measured yet | | `npm run bench -- --only sandbox` |',
    );
    expect(table).not.toContain('999');
  });

  it('prefers the newest full run to a newer --quick one, and takes a quick one when it is all there is', () => {
    save('full.json', '2026-01-01T00:00:00.000Z', [
      { benchmark: 'overhead', metric: 'overhead per question p50', value: 18.7 },
    ]);
    save(
      'smoke-quick.json',
      '2026-02-01T00:00:00.000Z',
      [
        { benchmark: 'overhead', metric: 'overhead per question p50', value: 37.3 },
        { benchmark: 'sandbox', metric: 'quickjs cold worker, built', value: 250 },
      ],
      'quick',
    );
    const table = laptopTable(dir);
    expect(table).toContain(
      '| Reckon overhead per question (no model time) | 18.7 | ms | full (full, 0.5) |',
    );
    expect(table).toContain('| Sandbox start, built worker | 250 | ms | smoke-quick (quick, 0.5) |');
  });
});
