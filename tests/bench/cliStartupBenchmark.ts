/**
 * How fast the `reckon` command starts, against bare Node on the same machine in the same run:
 * `reckon --help`, `reckon corpora` and a one-shot `reckon search` on the 200-question HotpotQA
 * corpus, each from the JavaScript build (dist/cli, what `npm install` makes) and from the
 * TypeScript sources through tsx (RECKON_FROM_SOURCE=1), as the median of repeated runs. The
 * issue's goal is `--help` within 3× of `node -e 0`.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Benchmark, BenchRow } from './Benchmark.ts';
import { REPO_ROOT, SHARED_DATA_DIR } from './Benchmark.ts';

const RECKON = path.join(REPO_ROOT, 'bin', 'reckon.mjs');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median wall time in ms of `node <args>` over `runs` runs (after one warm-up run). */
function timeNode(args: string[], env: NodeJS.ProcessEnv, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
    const elapsed = performance.now() - started;
    if (result.status !== 0)
      throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr.slice(0, 500)}`);
    if (i > 0) times.push(elapsed);
  }
  return median(times);
}

export const cliStartupBenchmark: Benchmark = {
  name: 'cli-startup',
  description: 'reckon --help / corpora / search start-up, built JS and from source, vs bare node',
  async run(context) {
    const runs = context.quick ? 3 : 10;
    const home = context.makeTempDir('reckon-bench-cli-');
    const env = {
      ...process.env,
      RECKON_HOME: path.join(home, 'data'),
      RECKON_MODELS_DIR: path.join(home, 'models'),
    };
    // bin/reckon.mjs runs the sources through tsx when dist/cli is older than any of them, which
    // would time tsx twice: build first, so "built" is the build.
    context.progress('building dist/cli (npm run build:cli)');
    const build = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'buildCli.mjs')], {
      encoding: 'utf8',
    });
    if (build.status !== 0) throw new Error(`npm run build:cli failed: ${build.stderr}`);
    context.progress('ingesting the HotpotQA 200 corpus');
    const ingest = spawnSync(
      process.execPath,
      [
        RECKON,
        'ingest',
        path.join(SHARED_DATA_DIR, 'hotpotqa', 'dev_distractor_200.json'),
        '--corpus',
        'hotpot',
        '--embedder',
        'none',
        '--quiet',
      ],
      { env, encoding: 'utf8' },
    );
    if (ingest.status !== 0) throw new Error(`ingest failed: ${ingest.stderr.slice(0, 500)}`);

    const bare = timeNode(['-e', '0'], env, runs);
    const rows: BenchRow[] = [{ metric: 'node -e 0', value: bare, unit: 'ms', notes: `median of ${runs}` }];
    const commands: [string, string[]][] = [
      ['--help', ['--help']],
      ['corpora', ['corpora']],
      ['search', ['search', 'Scott Derrickson nationality', '--corpus', 'hotpot', '--mode', 'bm25']],
    ];
    for (const [label, args] of commands) {
      context.progress(`timing reckon ${label}`);
      const fromBuild = timeNode([RECKON, ...args], env, runs);
      const fromSource = timeNode([RECKON, ...args], { ...env, RECKON_FROM_SOURCE: '1' }, runs);
      rows.push(
        { metric: `reckon ${label} (built)`, value: fromBuild, unit: 'ms', notes: `median of ${runs}` },
        { metric: `reckon ${label} (built) / node -e 0`, value: fromBuild / bare, unit: 'ratio' },
        {
          metric: `reckon ${label} (from source, tsx)`,
          value: fromSource,
          unit: 'ms',
          notes: `median of ${runs}`,
        },
        { metric: `reckon ${label}: source / built`, value: fromSource / fromBuild, unit: 'ratio' },
      );
    }
    return rows;
  },
};
