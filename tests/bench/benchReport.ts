/**
 * How a benchmark run is reported: the machine it ran on, and values and rows formatted for the
 * Markdown report (runBenchmarks writes it beside the JSON) and the README's laptop table.
 */
import type { BenchRow } from './Benchmark.ts';

/** A result row with the benchmark it came from. */
export interface BenchResultRow extends BenchRow {
  benchmark: string;
}

/** The machine a run was measured on, saved with its results. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  physicalCores: number;
  availableParallelism: number;
  totalMemoryBytes: number;
  totalMemoryGiB: number;
  node: string;
  platform: string;
  arch: string;
  loadAverage: number[];
  sqlite: string;
  libraries: Record<string, string | undefined>;
}

/** Formats a value for the table: integers as is, others with about three significant digits. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toPrecision(3);
}

/** What formatMarkdownReport needs of a saved report. */
export interface MarkdownReportInput {
  startedAt: string;
  durationSeconds: number;
  mode: string;
  only: readonly string[] | null;
  machine: MachineInfo;
  loadAverageAtEnd: readonly number[];
  results: readonly BenchResultRow[];
  failures: readonly { benchmark: string; message: string }[];
}

/**
 * The report as Markdown, the same content as the JSON: the machine it ran on (CPU model, logical
 * and physical cores, memory, Node, SQLite and library versions, load average) and every row.
 * Thread counts are in the rows' notes, where each benchmark sets its own.
 */
export function formatMarkdownReport(report: MarkdownReportInput): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const { machine } = report;
  const libraries = Object.entries(machine.libraries)
    .map(([name, version]) => `${name} ${version ?? '(not installed)'}`)
    .join(', ');
  const lines = [
    `# Reckon benchmarks, ${report.startedAt}`,
    '',
    `- Mode: ${report.mode}${report.only ? ` (only ${report.only.join(', ')})` : ''}; ${report.durationSeconds} s`,
    `- CPU: ${machine.cpuModel}; ${machine.cpus} logical CPUs, ${machine.physicalCores} physical cores; ${machine.totalMemoryGiB} GiB`,
    `- Node ${machine.node} on ${machine.platform} (${machine.arch}); SQLite ${machine.sqlite}; ${libraries}`,
    `- Load average (1, 5, 15 min): ${machine.loadAverage.join(', ')} at the start, ${report.loadAverageAtEnd.join(', ')} at the end`,
    '',
    '| benchmark | metric | value | unit | notes |',
    '| --- | --- | ---: | --- | --- |',
    ...report.results.map(
      (row) =>
        `| ${cell(row.benchmark)} | ${cell(row.metric)} | ${formatValue(row.value)} | ${cell(row.unit)} | ${cell(row.notes ?? '')} |`,
    ),
  ];
  if (report.failures.length > 0) {
    lines.push('', '## Failures', '');
    for (const failure of report.failures)
      lines.push(`- ${failure.benchmark}: ${cell(failure.message.split('\n')[0] ?? '')}`);
  }
  return `${lines.join('\n')}\n`;
}
