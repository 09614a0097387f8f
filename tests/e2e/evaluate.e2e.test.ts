/**
 * The Evaluate view in Chromium, served by the real `reckon serve` under the app's
 * Content-Security-Policy: tick the HotpotQA sample shipped with the app, Vanilla RAG and Direct,
 * a scripted replay model and two questions; watch the progress reach its end; read the method ×
 * dataset table (best marked) and the charts drawn with Observable Plot (one dot per method, none
 * per program: neither writes one); open a cell's questions, a question's run, and the two methods'
 * runs of one question side by side. What the page shows is checked against the server's own
 * results, read over the same WebSocket bridge the page uses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import type { WebSocketBridge } from '../../renderer/src/bridge.ts';
import {
  ARTIFACTS_DIR,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumStatus,
  isCi,
  loudNotice,
  REPO_ROOT,
} from './e2eEnvironment.ts';
import { connectBridge, runCleanups, screenshotOnFailure } from './e2eSession.ts';
import { startReckonServer, type ReckonServer } from './startReckonServer.ts';

const SAMPLE_FILE = path.join(REPO_ROOT, 'corpora', 'hotpotqa-sample', 'hotpotqa-dev-first20.json');
const UI_TIMEOUT_MS = 30_000;
/** Each scripted answer waits this long, so the progress can be seen moving. */
const ANSWER_DELAY_MS = 600;

/**
 * The sample's first two questions (golds "yes", "Chief of Protocol"), question by question,
 * Vanilla RAG then Direct: Vanilla gets both right (EM 100), Direct neither (EM 0).
 */
const SCRIPT = ['yes', 'no', 'Chief of Protocol', 'a diplomat'].map((answer) => ({
  role: 'answer',
  output: `From the passages.\n<answer>${answer}</answer>`,
  delayMs: ANSWER_DELAY_MS,
}));

const status = chromiumStatus();
if (!status.available) {
  if (isCi()) throw new Error(`E2E suite FAILED in CI: ${status.message}`);
  console.warn(loudNotice(`E2E tests SKIPPED: ${status.message}`));
}

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

describe.skipIf(!status.available)('Evaluate in Chromium, served by `reckon serve`', () => {
  let tmp: string;
  let server: ReckonServer;
  let browser: Browser;
  let page: Page;
  let bridge: WebSocketBridge;
  let replayFile: string;
  const problems: string[] = [];
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-e2e-eval-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    fs.mkdirSync(path.join(tmp, 'models'));
    replayFile = path.join(tmp, 'eval-script.jsonl');
    fs.writeFileSync(replayFile, SCRIPT.map((line) => JSON.stringify(line)).join('\n'));
    server = await startReckonServer({
      dataDir: path.join(tmp, 'data'),
      modelsDir: path.join(tmp, 'models'),
    });
    cleanups.push(() => server.stop());
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => problems.push(error.message));
    // A chart that needed eval or inline script would be refused by the CSP and say so here.
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    bridge = connectBridge(server);
    cleanups.push(() => bridge.close());
    await page.goto(server.url);
    await page.getByText('browser host').waitFor();
  });

  afterAll(() => runCleanups(cleanups));

  beforeEach((context) =>
    screenshotOnFailure(
      context,
      () => page,
      () => server,
    ),
  );

  it('runs a small evaluation and shows its progress, table and charts', async () => {
    await page.getByTestId('nav-evaluate').click();
    const sample = page.getByTestId('eval-datasets').locator('li').filter({ hasText: SAMPLE_FILE });
    await sample.waitFor();
    expect(await text(sample)).toContain('hotpotqa');
    await sample.getByTestId('eval-dataset').check();
    await page.getByTestId('eval-method-vanilla').check();
    await page.getByTestId('eval-method-direct').check();
    await page.getByTestId('eval-models').fill(`replay:${replayFile}`);
    await page.getByTestId('eval-limit').fill('2');
    await page.getByTestId('eval-start').click();

    // Live: the progress text counts the finished measurements of 4, with an estimate once one is done.
    const progressText = page.getByTestId('eval-progress-text');
    await expect.poll(() => text(progressText), { timeout: 60_000 }).toMatch(/[123] of 4 questions/);
    expect(await text(progressText)).toMatch(/left \(estimate\)/);
    await expect.poll(() => text(page.getByTestId('eval-status')), { timeout: 60_000 }).toBe('done');
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'evaluate.png'), fullPage: true });

    const { evaluations } = await bridge.invoke('listEvaluations', {});
    expect(evaluations).toHaveLength(1);
    const { datasets } = await bridge.invoke('getEvaluation', { evaluationId: evaluations[0]!.id });
    expect(datasets[0]!.rows.map((row) => [row.method, row.primary])).toEqual([
      ['vanilla', 1],
      ['direct', 0],
    ]);

    const matrix = page.getByTestId('eval-matrix');
    await expect
      .poll(async () =>
        (await matrix.locator('tbody tr').allTextContents()).map((row) => row.replace(/\s+/g, ' ')),
      )
      .toEqual(['Vanilla RAG100.0 (best)', expect.stringMatching(/^Direct.*0\.0$/)]);
    expect(await matrix.locator('[data-best]').count()).toBe(1);
    // The HTML report of the dataset is written where the view says.
    expect(await text(page.getByTestId('eval-report-path'))).toBe(datasets[0]!.reportPath);
    expect(fs.existsSync(datasets[0]!.reportPath!)).toBe(true);
    // The charts: one dot per method with a score; no program chart (neither method writes programs).
    await expect
      .poll(() => page.getByTestId('eval-chart-accuracy').locator('svg g[aria-label="dot"] circle').count())
      .toBe(2);
    expect(await page.getByTestId('eval-chart-complexity').count()).toBe(0);
    expect(problems).toEqual([]);
  });

  it("opens a cell's questions and a question's run", async () => {
    await page.getByTestId('eval-cell').first().click();
    const questions = page.getByTestId('eval-questions').getByTestId('eval-question');
    await expect.poll(() => questions.count()).toBe(2);
    expect(await text(questions.first())).toContain(
      'Were Scott Derrickson and Ed Wood of the same nationality?',
    );
    await questions.first().getByTestId('eval-open-run').click();
    await expect.poll(() => text(page.getByTestId('final-answer-text'))).toBe('yes');
    await page.getByTestId('eval-back').click();
  });

  it("shows two methods' runs of one question side by side", async () => {
    const questions = page.getByTestId('eval-questions').getByTestId('eval-question');
    await questions.first().waitFor();
    const select = questions.first().getByTestId('eval-compare');
    const direct = await select
      .locator('option')
      .filter({ hasText: /^direct/ })
      .getAttribute('value');
    await select.selectOption(direct!);
    const answers = page.getByTestId('eval-focus-compare').getByTestId('final-answer-text');
    await expect.poll(() => answers.allTextContents()).toEqual(['yes', 'no']);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'evaluate-compare.png'), fullPage: true });
    expect(problems).toEqual([]);
  });

  it('cancels a running evaluation and resumes it without asking a question twice', async () => {
    await page.getByTestId('eval-back').click();
    // The second answer waits long enough to be cancelled; the resumed run gets the three left.
    const lines = SCRIPT.map((line) => JSON.stringify(line));
    fs.writeFileSync(
      replayFile,
      [lines[0], JSON.stringify({ ...SCRIPT[1], delayMs: 60_000 }), ...lines.slice(2)].join('\n'),
    );
    await page.getByTestId('eval-start').click();
    await expect.poll(() => text(page.getByTestId('eval-status'))).toBe('running');
    await expect.poll(() => text(page.getByTestId('eval-progress-text'))).toMatch(/1 of 4 questions/);
    await page.getByTestId('eval-cancel').click();
    await expect.poll(() => text(page.getByTestId('eval-status'))).toBe('cancelled');
    const { evaluations } = await bridge.invoke('listEvaluations', {});
    expect(evaluations.map((e) => e.status)).toEqual(['cancelled', 'done']);
    const stopped = await bridge.invoke('getEvaluation', { evaluationId: evaluations[0]!.id });
    expect(stopped.datasets[0]!.missing).toBe(3);

    fs.writeFileSync(replayFile, lines.slice(1).join('\n'));
    await page.getByTestId('eval-resume').click();
    await expect.poll(() => text(page.getByTestId('eval-status')), { timeout: 60_000 }).toBe('done');
    const { datasets } = await bridge.invoke('getEvaluation', { evaluationId: evaluations[0]!.id });
    expect(datasets[0]!.missing).toBe(0);
    expect(datasets[0]!.rows.map((row) => row.primary)).toEqual([1, 0]);
    expect(new Set(datasets[0]!.questionRows.map((row) => row.runId)).size).toBe(4);
    expect(problems).toEqual([]);
  });
});
