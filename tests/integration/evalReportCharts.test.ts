/**
 * The HTML report's charts in a real browser: a report written by writeEvalReports (with the real
 * chart script — the Evaluate view's chart module bundled with Observable Plot) is opened from
 * file:// in Chromium with every network request refused, and each chart must draw one mark per
 * data point: a dot per method × model with a score, a dot per question's program.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import {
  EVAL_RECORD_VERSION,
  evalConfigKey,
  type EvalConfig,
  type EvalRecord,
} from '../../main/engine/eval/run/EvalRecord.ts';
import { summarizeEvaluation } from '../../main/engine/eval/run/summarizeEvaluation.ts';
import { summarizeEvalSuite } from '../../main/engine/eval/run/summarizeEvalSuite.ts';
import { writeEvalReports } from '../../main/engine/eval/run/writeEvalReports.ts';
import { CHROMIUM_ARGS, CHROMIUM_PATH, chromiumStatus } from '../e2e/e2eEnvironment.ts';

const status = chromiumStatus();

const config = (method: string): EvalConfig => ({
  datasetHash: '0123456789abcdef',
  datasetFormat: 'hotpotqa',
  method,
  model: 'replay:/tmp/model.jsonl',
  options: {},
  corpus: 'eval-x',
  topK: 5,
  searchMode: 'bm25',
});

function record(method: string, itemId: string, em: number, program?: [number, number]): EvalRecord {
  const cfg = config(method);
  return {
    version: EVAL_RECORD_VERSION,
    configKey: evalConfigKey(cfg),
    config: cfg,
    dataset: 'hotpotqa',
    itemId,
    category: null,
    question: `Question ${itemId} </script><b>not markup</b>`,
    golds: ['gold'],
    prediction: em ? 'gold' : 'other',
    score: {
      id: itemId,
      rule: 'hotpotqa',
      missing: false,
      prediction: 'p',
      golds: ['gold'],
      metrics: { em },
    },
    runId: `run-${method}-${itemId}`,
    status: 'succeeded',
    error: null,
    llmCalls: 2,
    promptTokens: 10,
    completionTokens: 5,
    tokensEstimated: true,
    seconds: method === 'pyrag' ? 3 : 1,
    retries: 0,
    program: program
      ? {
          repairs: 0,
          programAttempts: 1,
          executable: true,
          exceptionKind: null,
          cyclomaticComplexity: program[0],
          maxStackDepth: program[1],
        }
      : null,
    figures: {},
    retrievedTitles: [],
    finishedAt: 0,
  };
}

/** Summarizes `records` for the methods' configs and writes the reports into `<tmp>/<folder>`. */
function writeReport(folder: string, records: EvalRecord[], methods: string[], itemIds: string[]) {
  const report = summarizeEvaluation(records, {
    dataset: { name: 'hotpotqa', kind: 'hotpotqa', format: 'hotpotqa', path: '/d.json', total: 2, notes: [] },
    sample: { limit: null, seed: null, questions: itemIds.length },
    corpus: 'eval-x',
    configs: methods.map((method) => ({ configKey: evalConfigKey(config(method)), config: config(method) })),
    itemIds,
  });
  fs.mkdirSync(path.join(tmp, folder));
  return writeEvalReports(path.join(tmp, folder), summarizeEvalSuite([report]), records);
}

let tmp: string;
let browser: Browser | undefined;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-eval-charts-'));
  if (status.available)
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Opens a report from file:// offline; returns the dot count of each chart, page errors and requests. */
async function openReport(
  file: string,
): Promise<{ dots: Record<string, number>; errors: string[]; requests: string[] }> {
  const page = await browser!.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    requests.push(url);
    return url === pathToFileURL(file).href ? route.continue() : route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  await page.locator('[data-eval-chart="accuracy"] svg').first().waitFor({ timeout: 20_000 });
  const dots: Record<string, number> = {};
  for (const slot of await page.locator('[data-eval-chart]').all()) {
    const kind = (await slot.getAttribute('data-eval-chart')) ?? '';
    dots[kind] = await slot.locator('svg g[aria-label="dot"] circle').count();
  }
  await page.close();
  return { dots, errors, requests };
}

describe.skipIf(!status.available)('the HTML report in Chromium, offline from file://', () => {
  it('draws a dot per scored method and per program, with nothing fetched', async () => {
    const records = [
      record('vanilla', 'q1', 1),
      record('vanilla', 'q2', 0),
      record('pyrag', 'q1', 1, [3, 2]),
      record('pyrag', 'q2', 1, [5, 4]),
      // A third method with no record yet: a row with no score, hence no dot.
    ];
    const written = writeReport('out', records, ['vanilla', 'pyrag', 'direct'], ['q1', 'q2']);
    const html = fs.readFileSync(written.html, 'utf8');
    expect(html).not.toContain('<b>not markup</b>');

    const { dots, errors, requests } = await openReport(written.html);
    expect(errors).toEqual([]);
    expect(dots).toEqual({ accuracy: 2, complexity: 2 });
    expect(requests).toEqual([pathToFileURL(written.html).href]);
  }, 60_000);

  it('leaves the complexity chart out when no method wrote a program', async () => {
    const records = [record('vanilla', 'q1', 1), record('direct', 'q1', 0)];
    const written = writeReport('out2', records, ['vanilla', 'direct'], ['q1']);
    const { dots, errors } = await openReport(written.html);
    expect(errors).toEqual([]);
    expect(dots).toEqual({ accuracy: 2 });
  }, 60_000);
});
