import { describe, expect, it } from 'vitest';
import { formatMarkdownReport, formatValue, type MachineInfo } from '../bench/benchReport.ts';

const machine: MachineInfo = {
  cpus: 2,
  cpuModel: 'AMD EPYC 7B13',
  physicalCores: 2,
  availableParallelism: 2,
  totalMemoryBytes: 24 * 1024 ** 3,
  totalMemoryGiB: 24,
  node: 'v20.20.2',
  platform: 'linux 6.1',
  arch: 'x64',
  loadAverage: [1.5, 2, 2.5],
  sqlite: '3.50.4',
  libraries: { 'better-sqlite3': '12.4.1', usearch: '2.21.0', 'node-llama-cpp': undefined },
};

describe('formatMarkdownReport', () => {
  it('gives the machine, library versions and every row, with pipes and newlines kept out of the table', () => {
    const markdown = formatMarkdownReport({
      startedAt: '2026-11-30T14:40:08.190Z',
      durationSeconds: 563,
      mode: 'full',
      only: ['overhead'],
      machine,
      loadAverageAtEnd: [1.6, 1.9, 2.4],
      results: [
        {
          benchmark: 'overhead',
          metric: 'overhead per question p50',
          value: 30.4123,
          unit: 'ms',
          notes: 'a | b\nc',
        },
        { benchmark: 'llm-parallel', metric: 'fastest parallel vs fastest serial', value: 1.07, unit: '×' },
      ],
      failures: [{ benchmark: 'scale', message: 'disk full\nstack…' }],
    });
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('# Reckon benchmarks, 2026-11-30T14:40:08.190Z');
    expect(markdown).toContain('- Mode: full (only overhead); 563 s');
    expect(markdown).toContain('AMD EPYC 7B13; 2 logical CPUs, 2 physical cores; 24 GiB');
    expect(markdown).toContain(
      'SQLite 3.50.4; better-sqlite3 12.4.1, usearch 2.21.0, node-llama-cpp (not installed)',
    );
    expect(markdown).toContain('1.5, 2, 2.5 at the start, 1.6, 1.9, 2.4 at the end');
    expect(lines).toContain('| overhead | overhead per question p50 | 30.4 | ms | a \\| b c |');
    expect(lines).toContain('| llm-parallel | fastest parallel vs fastest serial | 1.07 | × |  |');
    expect(markdown).toContain('## Failures\n\n- scale: disk full\n');
  });

  it('rounds values to about three significant digits, integers as they are', () => {
    expect([formatValue(1234.5), formatValue(12.345), formatValue(1.2345), formatValue(0.012345)]).toEqual([
      '1235',
      '12.3',
      '1.23',
      '0.0123',
    ]);
    expect(formatValue(42)).toBe('42');
  });
});
