/**
 * PyRAG's re-execution after a retrieval boost, with and without serving unchanged tool calls from
 * the first execution (the `reuseUnchangedCalls` option): model calls per question, side by side,
 * on scripted replay runs (the real replay backend and sandbox; retrieval over a small fake corpus).
 * The scripts are the control-path tests' boost scenarios, so the counts are those of real runs of
 * the strategy, not a formula.
 */
import type { Benchmark, BenchRow } from './Benchmark.ts';
import { closeDefaultSandboxHost } from '../../main/engine/sandbox/runSandboxedProgram.ts';
import { finalSentinelScript, runScriptedPyrag, twoSentinelScript } from '../fixtures/scriptedPyrag.ts';

const SCENARIOS = [
  { name: 'two sentinel hops of three', script: twoSentinelScript },
  { name: 'sentinel final answer only', script: finalSentinelScript },
] as const;

export const pyragReuseBenchmark: Benchmark = {
  name: 'pyrag-reuse',
  description:
    'PyRAG boosted re-run: model calls per question with and without reusing unchanged calls (replay)',
  async run(context) {
    const dir = context.makeTempDir('reckon-bench-reuse-');
    const rows: BenchRow[] = [];
    let withReuse = 0;
    let without = 0;
    try {
      for (const scenario of SCENARIOS) {
        const reused = await runScriptedPyrag(dir, scenario.script(true), { reuseUnchangedCalls: true });
        const fresh = await runScriptedPyrag(dir, scenario.script(false), { reuseUnchangedCalls: false });
        for (const run of [reused, fresh]) {
          if (!run.consumedAll || run.outcome.failure)
            throw new Error(`scenario "${scenario.name}" did not run as scripted`);
        }
        context.progress(
          `${scenario.name}: ${reused.requests.length} vs ${fresh.requests.length} model calls`,
        );
        rows.push(
          { metric: `${scenario.name}: model calls, reuse on`, value: reused.requests.length, unit: 'calls' },
          { metric: `${scenario.name}: model calls, reuse off`, value: fresh.requests.length, unit: 'calls' },
        );
        withReuse += reused.requests.length;
        without += fresh.requests.length;
      }
    } finally {
      await closeDefaultSandboxHost();
    }
    rows.push(
      { metric: 'model calls per question, reuse on', value: withReuse / SCENARIOS.length, unit: 'calls' },
      { metric: 'model calls per question, reuse off', value: without / SCENARIOS.length, unit: 'calls' },
      {
        metric: 'model calls saved by reuse',
        value: (without - withReuse) / without,
        unit: 'ratio',
        notes: 'share of the calls without reuse',
      },
    );
    return rows;
  },
};
