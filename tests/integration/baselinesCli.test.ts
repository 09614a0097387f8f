/**
 * The baselines through the `reckon` command over the real HotpotQA corpus: `reckon strategies`
 * lists them with their options; `reckon ask --strategy <id>` with a scripted replay model runs each
 * end to end and its JSON trace shows the method's own steps (Vanilla RAG in detail); and one run of
 * each on the generated tiny GGUF (the real node-llama-cpp path) ends in a typed result, whatever the
 * random model writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../../main/engine/runs/startRun.ts';
import type { StrategyInfo } from '../../preload/contract.ts';
import { makeTinyGguf } from '../fixtures/makeTinyGguf.ts';
import { type CliRun, HOTPOT_DEV, ofType, runReckon } from '../fixtures/runReckon.ts';

const BASELINES = ['direct', 'cot', 'vanilla', 'self-ask', 'ircot', 'iter-retgen'] as const;
const QUESTION = 'Were Scott Derrickson and Ed Wood of the same nationality?';

let tmp: string;
let env: NodeJS.ProcessEnv;
const reckon = (args: string[]): Promise<CliRun> => runReckon(args, env, { timeoutMs: 120_000 });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-baselines-cli-'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
  const ingest = await reckon(['ingest', HOTPOT_DEV, '--corpus', 'hotpot', '--embedder', 'none', '--quiet']);
  expect(ingest.code, ingest.stderr).toBe(0);
}, 120_000);

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Line = { role: string; output: string };

/** `reckon ask QUESTION --strategy <id>` with a replay file of `lines`, BM25, as JSON. */
async function askReplay(strategy: string, lines: Line[], extra: string[] = []): Promise<RunResult> {
  const file = path.join(tmp, `${strategy}.jsonl`);
  fs.writeFileSync(file, `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
  const run = await reckon([
    'ask',
    QUESTION,
    '--corpus',
    'hotpot',
    '--strategy',
    strategy,
    '--model',
    `replay:${file}`,
    '--mode',
    'bm25',
    '--json',
    ...extra,
  ]);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as RunResult;
}

const stepKinds = (result: RunResult): string[] => ofType(result.events, 'step').map((step) => step.kind);

describe('reckon strategies', () => {
  it('lists the six baselines with every option, its default and description', async () => {
    const run = await reckon(['strategies', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const { strategies } = JSON.parse(run.stdout) as { strategies: StrategyInfo[] };
    const byId = new Map(strategies.map((s) => [s.id, s]));
    for (const id of BASELINES) {
      const strategy = byId.get(id);
      expect(strategy, id).toBeDefined();
      expect(strategy!.options.length, id).toBeGreaterThan(0);
      for (const option of strategy!.options) expect(option.description).toMatch(/Default .+\.$/);
    }
    expect(byId.get('direct')!.corpus).toBe('none');
    expect(byId.get('vanilla')!.corpus).toBe('required');
    expect(byId.get('self-ask')!.options).toContainEqual(
      expect.objectContaining({ key: 'maxFollowUps', type: 'integer', default: 5 }),
    );
    expect(byId.get('ircot')!.options).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'maxSteps', default: 5 }),
        expect.objectContaining({ key: 'maxReaderDocs', default: 15 }),
      ]),
    );
    expect(byId.get('iter-retgen')!.options).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'rounds', default: 3 }),
        expect.objectContaining({
          key: 'queryFromGeneration',
          type: 'enum',
          default: 'reasoning-and-answer',
        }),
      ]),
    );
    expect(byId.get('ircot')!.metrics.map((m) => m.key)).toContain('documentsCollected');
  });
});

describe('reckon ask with a baseline strategy and a replay model', () => {
  it('runs vanilla end to end: one retrieval over HotpotQA, one answer citing what it found', async () => {
    const result = await askReplay('vanilla', [
      {
        role: 'answer',
        output:
          'Document [3] says Scott Derrickson is an American director and [1] says Ed Wood was an American filmmaker.\n<answer>yes</answer>',
      },
    ]);
    expect(result).toMatchObject({ status: 'succeeded', answer: 'yes', error: null });
    const [retrieval] = ofType(result.events, 'step');
    expect(retrieval).toMatchObject({ kind: 'retrieval', detail: QUESTION, data: { query: QUESTION, k: 5 } });
    const docs = retrieval!.data!.docs as { id: number; title: string }[];
    expect(docs).toHaveLength(5);
    expect(docs.map((d) => d.title)).toEqual(expect.arrayContaining(['Scott Derrickson', 'Ed Wood']));
    const final = ofType(result.events, 'final-answer')[0]!;
    expect(final.citations.map((c) => c.chunkId)).toEqual([docs[2]!.id, docs[0]!.id]);
    expect(final.citations.map((c) => c.title)).toContain('Scott Derrickson');
    expect(result.metrics).toMatchObject({
      llmCalls: 1,
      program: null,
      strategy: { documentsRetrieved: 5 },
    });

    const shown = await reckon(['runs', 'show', result.runId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`Retrieved 5 passages for the query: ${QUESTION}`);
    const scott = docs.find((d) => d.title === 'Scott Derrickson')!;
    expect(shown.stdout).toMatch(new RegExp(`#${scott.id} Scott Derrickson {2}\\(`));
    expect(shown.stdout).toMatch(/Answer: yes/);
  });

  it("shows each method's own steps in the JSON trace", async () => {
    const answer = (text: string, reasoning = 'Document [1] says so.'): Line => ({
      role: 'answer',
      output: `${reasoning}\n<answer>${text}</answer>`,
    });
    /** What `reckon runs show` prints of the method's own steps. */
    const printed: Partial<Record<(typeof BASELINES)[number], RegExp>> = {
      'self-ask': /Follow-up 1: What is Scott Derrickson's nationality\? → American\n {6}#\d+ /,
      ircot:
        /Thought 2: Ed Wood was an American filmmaker\.\n\nRetrieved 5 passages \(\d new\) for the query: Ed Wood/,
      'iter-retgen': /Round 3: yes \(query: Were Scott Derrickson/,
    };
    const scripts: Record<(typeof BASELINES)[number], { lines: Line[]; kinds: string[] }> = {
      direct: { lines: [answer('yes', 'Both were American.')], kinds: [] },
      cot: {
        lines: [
          { role: 'cot', output: 'Scott Derrickson is American. Ed Wood was American. So they were both.' },
          { role: 'extract-answer', output: '<answer>yes</answer>' },
        ],
        kinds: ['reasoning', 'answer-extraction'],
      },
      vanilla: { lines: [answer('yes')], kinds: ['retrieval'] },
      'self-ask': {
        lines: [
          { role: 'self-ask', output: " Yes.\nFollow up: What is Scott Derrickson's nationality?" },
          answer('American'),
          { role: 'self-ask', output: "\nFollow up: What is Ed Wood's nationality?" },
          answer('American'),
          { role: 'self-ask', output: '\nSo the final answer is: yes' },
        ],
        kinds: ['follow-up', 'follow-up', 'final-answer'],
      },
      ircot: {
        lines: [
          { role: 'ircot-thought', output: ' Scott Derrickson is an American director.' },
          { role: 'ircot-thought', output: ' Ed Wood was an American filmmaker.' },
          { role: 'ircot-thought', output: ' Both are American, so the answer is: yes.' },
          answer('yes'),
        ],
        kinds: ['retrieval', 'thought', 'retrieval', 'thought', 'retrieval', 'thought', 'reader'],
      },
      'iter-retgen': {
        lines: [answer('unknown', 'Document [1] is about Ed Wood.'), answer('yes'), answer('yes')],
        kinds: ['round', 'round', 'round'],
      },
    };
    for (const id of BASELINES) {
      const { lines, kinds } = scripts[id];
      const result = await askReplay(id, lines);
      expect(result.status, id).toBe('succeeded');
      expect(result.answer, id).toBe('yes');
      expect(stepKinds(result), id).toEqual(kinds);
      expect(result.metrics.llmCalls, id).toBe(lines.length);
      expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: 'succeeded' });
      const pattern = printed[id];
      if (pattern) expect((await reckon(['runs', 'show', result.runId])).stdout).toMatch(pattern);
    }
  }, 120_000);
});

describe('the baselines on a tiny generated GGUF (the real node-llama-cpp path)', () => {
  /** Small token budgets and short prompts keep each run quick; the model's words are never checked. */
  const QUICK: Record<(typeof BASELINES)[number], string[]> = {
    direct: ['answerMaxTokens=16'],
    cot: ['reasoningMaxTokens=16', 'extractMaxTokens=8'],
    vanilla: ['answerMaxTokens=16'],
    'self-ask': ['stepMaxTokens=16', 'answerMaxTokens=16', 'finalMaxTokens=8', 'maxFollowUps=2'],
    ircot: ['thoughtMaxTokens=16', 'answerMaxTokens=16', 'maxSteps=2', 'maxReaderDocs=3'],
    'iter-retgen': ['answerMaxTokens=16', 'rounds=2'],
  };

  it('ends every strategy in a typed result whatever the random model writes', async () => {
    const gguf = await makeTinyGguf({ path: path.join(tmp, 'models', 'llm', 'tiny.gguf') });
    for (const id of BASELINES) {
      const run = await reckon([
        'ask',
        'Who directed Doctor Strange?',
        '--corpus',
        'hotpot',
        '--strategy',
        id,
        '--model',
        gguf,
        '--threads',
        '1',
        '--context-size',
        '2048',
        '--mode',
        'bm25',
        '-k',
        '2',
        ...QUICK[id].flatMap((option) => ['--option', option]),
        '--json',
      ]);
      expect([0, 1], `${id}: ${run.stderr}`).toContain(run.code);
      const result = JSON.parse(run.stdout) as RunResult;
      expect(['succeeded', 'failed'], id).toContain(result.status);
      expect(result.events[0]).toMatchObject({ type: 'run-started', strategy: id, model: gguf });
      expect(result.events.at(-1)).toMatchObject({ type: 'run-finished', status: result.status });
      // The model really ran.
      expect(result.metrics.llmCalls, id).toBeGreaterThanOrEqual(1);
      if (result.status === 'succeeded') expect(typeof result.answer).toBe('string');
      else expect(result.error?.message.length, id).toBeGreaterThan(0);
    }
  }, 240_000);
});
