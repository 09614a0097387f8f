/**
 * PyRAG end to end through the `reckon` command with a scripted replay model over the real HotpotQA
 * corpus: decomposition, a program that fails at run time and is repaired, a sentinel answer that
 * boosts the retrieve() behind it, a 503 retried with backoff, and the final answer with citations.
 * Then the run is exported as a replay file that reproduces it exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import {
  EXPECTED_CACHED_CALLS,
  LIVE_LLM_CALLS,
  QUESTION,
  replayFileContent,
} from '../fixtures/pyragReplayScript.ts';
import { type CliRun, HOTPOT_DEV, ofType, runReckon } from '../fixtures/runReckon.ts';

let tmp: string;
let env: NodeJS.ProcessEnv;

const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env);

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-pyrag-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  fs.writeFileSync(path.join(tmp, 'script.jsonl'), replayFileContent({ slow: false }));
  const ingest = await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--embedder', 'none', '--quiet']);
  expect(ingest.code, ingest.stderr).toBe(0);
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('reckon ask --strategy pyrag with a replay model', () => {
  let result: RunResult;

  it('reproduces the scripted run end to end', async () => {
    const run = await reckon([
      'ask',
      QUESTION,
      '--corpus',
      'hotpot',
      '--model',
      `replay:${path.join(tmp, 'script.jsonl')}`,
      '--mode',
      'bm25',
      '--retry-base-ms',
      '5',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    result = JSON.parse(run.stdout) as RunResult;
    const events = result.events;
    expect(result.status).toBe('succeeded');
    expect(result.answer).toBe('yes');

    expect(ofType(events, 'decomposition')[0]).toMatchObject({
      subQuestions: ["What is Scott Derrickson's nationality?", "What is Ed Wood's nationality?"],
      fallback: false,
    });
    expect(ofType(events, 'program-generated').map((e) => e.purpose)).toEqual(['plan', 'repair']);

    const runtimeError = ofType(events, 'runtime-error')[0]!;
    expect(runtimeError).toMatchObject({
      execution: 1,
      kind: 'RuntimeError',
      errorName: 'TypeError',
      line: 4,
    });
    expect(ofType(events, 'repair-requested')).toEqual([
      expect.objectContaining({ round: 1, kind: 'RuntimeError', line: 4 }),
    ]);

    const boost = ofType(events, 'retrieval-boosted')[0]!;
    expect(boost).toMatchObject({ path: 'sentinel-answer', fromK: 5, toK: 10, sentinel: 'unknown' });
    const executions = ofType(events, 'execution-started');
    expect(executions.map((e) => e.execution)).toEqual([1, 2, 3]);
    expect(executions[2]!.boosted).toEqual([{ callIndex: boost.callIndex, k: 10 }]);

    // Retrieval really ran against the corpus: the first call finds the Scott Derrickson paragraph, and
    // the boosted call returned 10 passages.
    const retrieveResults = ofType(events, 'tool-result').filter((e) => e.tool === 'retrieve');
    expect(retrieveResults[0]!.chunks!.map((c) => c.title)).toContain('Scott Derrickson');
    const boostedResult = retrieveResults.find((e) => e.execution === 3 && e.callIndex === boost.callIndex)!;
    expect(boostedResult.chunks).toHaveLength(10);
    expect(boostedResult.cached).toBeUndefined();

    // The re-run serves what did not change from execution 2: the first retrieve() and its answer.
    const rerun = ofType(events, 'tool-result').filter((e) => e.execution === 3);
    expect(rerun.map((e) => [e.tool, e.cached === true])).toEqual([
      ['retrieve', true],
      ['answer', true],
      ['retrieve', false],
      ['answer', false],
      ['answer', false],
    ]);
    const second = ofType(events, 'tool-result').filter((e) => e.execution === 2);
    expect(rerun[0]!.chunks).toEqual(second[0]!.chunks);
    expect(rerun[1]!.answer).toBe('American');

    const bindings = ofType(events, 'binding').filter((e) => e.execution === 3);
    expect(bindings.map((b) => [b.name, b.line])).toEqual([
      ['docsA', 1],
      ['natA', 2],
      ['docsB', 3],
      ['natB', 4],
    ]);
    expect(bindings[1]!.preview).toContain('American');

    const retries = ofType(events, 'retry');
    expect(retries).toEqual([
      expect.objectContaining({
        role: 'answer',
        attempt: 1,
        outcome: 'retrying',
        reason: expect.stringMatching(/503/),
      }),
    ]);
    expect(retries[0]!.delayMs).toBeGreaterThanOrEqual(0);

    const final = ofType(events, 'final-answer')[0]!;
    expect(final.answer).toBe('yes');
    expect(final.citations.length).toBeGreaterThan(0);
    expect(final.citations.map((c) => c.title)).toContain('Scott Derrickson');
    for (const citation of final.citations) {
      expect(retrieveResults.some((r) => r.chunks?.some((c) => c.id === citation.chunkId))).toBe(true);
    }

    expect(result.metrics).toMatchObject({
      llmCalls: LIVE_LLM_CALLS,
      retries: 1,
      tokensEstimated: true,
      program: { repairs: 1, executions: 3, executable: true, cyclomaticComplexity: 1, maxStackDepth: 0 },
      strategy: { boosts: 1, boostPath: 'sentinel-answer', cachedCalls: EXPECTED_CACHED_CALLS },
    });
    expect(LIVE_LLM_CALLS).toBe(10);
    expect(events.at(-1)).toMatchObject({ type: 'run-finished', status: 'succeeded' });
  });

  it('is saved, listed and exported as a replay file that reproduces it', async () => {
    const list = JSON.parse((await reckon(['runs', 'list', '--json'])).stdout) as {
      runs: { id: string; answer: string }[];
    };
    expect(list.runs[0]).toMatchObject({ id: result.runId, answer: 'yes' });
    const replayFile = path.join(tmp, 'exported.jsonl');
    const exported = await reckon([
      'runs',
      'export',
      result.runId,
      '--out',
      path.join(tmp, 'run.json'),
      '--replay',
      replayFile,
    ]);
    expect(exported.code, exported.stderr).toBe(0);
    const again = await reckon([
      'ask',
      QUESTION,
      '--corpus',
      'hotpot',
      '--model',
      `replay:${replayFile}`,
      '--mode',
      'bm25',
      '--json',
    ]);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as RunResult;
    const shape = (r: RunResult) =>
      r.events
        .filter((e) => e.type !== 'retry' && e.type !== 'llm-call' && e.type !== 'metrics')
        .map((e) => {
          const { runId: _r, seq: _s, at: _a, ...body } = e as Record<string, unknown>;
          if (body.type === 'tool-result') delete body.durationMs;
          if (body.type === 'run-started') delete body.model;
          return body;
        });
    expect(shape(second)).toEqual(shape(result));
  });

  it('prints a readable trace without --json', async () => {
    const run = await reckon(['runs', 'show', result.runId]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Repair round 1/);
    expect(run.stdout).toMatch(/Adaptive retrieval: "unknown"/);
    expect(run.stdout).toMatch(/⟳ answer: attempt 1\/4 failed \(.*503.*\); retrying in \d+ ms/);
    expect(run.stdout).toMatch(/Answer: yes/);
    expect(run.stdout).toMatch(/cached from the previous execution/);
    expect(run.stdout).toMatch(/estimated/);
  });

  it('honours --option and rejects bad options with exit 2 before recording a run', async () => {
    const base = [
      'ask',
      QUESTION,
      '--corpus',
      'hotpot',
      '--model',
      `replay:${path.join(tmp, 'script.jsonl')}`,
      '--mode',
      'bm25',
      '--retry-base-ms',
      '5',
    ];
    const run = await reckon([...base, '--option', 'maxRepairs=0', '--json']);
    expect(run.code).toBe(1);
    const failed = JSON.parse(run.stdout) as RunResult;
    // The plan fails at run time and no repair is allowed.
    expect(ofType(failed.events, 'repair-requested')).toEqual([]);
    expect(failed.error).toMatchObject({ code: 'PROGRAM_RUNTIMEERROR' });

    const before = (JSON.parse((await reckon(['runs', 'list', '--json'])).stdout) as { runs: unknown[] }).runs
      .length;
    const badValue = await reckon([...base, '--option', 'maxRepairs=lots']);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/maxRepairs.*takes a number/);
    const outOfRange = await reckon([...base, '-o', 'maxRepairs=99']);
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toMatch(/"maxRepairs".*from 0 to 10, default 3/);
    const unknown = await reckon([...base, '--option', 'temperature=1']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no option "temperature".*maxRepairs/);
    const after = (JSON.parse((await reckon(['runs', 'list', '--json'])).stdout) as { runs: unknown[] }).runs
      .length;
    expect(after).toBe(before);
  });
});

describe('reckon strategies', () => {
  it('lists pyrag with every option, its default and description, from the registry', async () => {
    const run = await reckon(['strategies', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { strategies } = JSON.parse(run.stdout) as {
      strategies: { id: string; options: { key: string; default: unknown; description: string }[] }[];
    };
    const pyrag = strategies.find((s) => s.id === 'pyrag')!;
    expect(pyrag.options).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'maxRepairs', type: 'integer', default: 3, minimum: 0, maximum: 10 }),
        expect.objectContaining({ key: 'boostedTopK', default: 10 }),
        expect.objectContaining({ key: 'adaptiveRetrieval', type: 'boolean', default: true }),
      ]),
    );
    for (const option of pyrag.options) expect(option.description).toMatch(/Default/);
    const text = await reckon(['strategies']);
    expect(text.stdout).toMatch(/pyrag — PyRAG/);
    expect(text.stdout).toMatch(/maxRepairs = 3/);
  });
});
