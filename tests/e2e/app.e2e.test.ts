/**
 * The real UI in Chromium, served by the real `reckon serve`, over the real engine: ingest the bundled
 * HotpotQA sample from the Library, choose a replay model in Models, pick PyRAG from the strategy
 * registry and change one of its options, ask the first sample question and watch the run live (a 503
 * retried with backoff, a runtime error repaired, a sentinel answer that boosts retrieval, the
 * unchanged calls of the boosted re-run served cached), open a citation, read the metrics, find the
 * run again in History, replay it, open Settings.
 * Screenshots go to test-results/e2e/. What the UI shows is checked against the server's own record
 * of the run, read over the same WebSocket bridge the page uses.
 *
 * The tests of the first describe form one user session and run in order, each building on the last.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { DEFAULT_STRATEGY_ID, type StrategyInfo } from '../../preload/contract.ts';
import { createWebSocketBridge, type BridgeSocket, type WebSocketBridge } from '../../renderer/src/bridge.ts';
import { formatMs } from '../../renderer/src/format.ts';
import {
  ARTIFACTS_DIR,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumStatus,
  isCi,
  loudNotice,
  REPO_ROOT,
} from './e2eEnvironment.ts';
import {
  EXPECTED_LLM_CALLS,
  LIVE_LLM_CALLS,
  QUESTION,
  REPAIRED_PROGRAM_LINES,
  replayFileContent,
} from '../fixtures/pyragReplayScript.ts';
import { startReckonServer, type ReckonServer } from './startReckonServer.ts';

const SAMPLE_DIR = path.join(REPO_ROOT, 'corpora', 'hotpotqa-sample');
const SAMPLE_FILE = 'hotpotqa-dev-first20.json';
/** Longest wait for the UI to reflect something (each step is event-driven; this is only a ceiling). */
const UI_TIMEOUT_MS = 30_000;
/** Longest wait for the whole scripted run to finish. */
const RUN_TIMEOUT_MS = 60_000;

const status = chromiumStatus();
if (!status.available) {
  // globalSetup already refuses CI without Chromium; this keeps the rule when the file runs alone.
  if (isCi()) throw new Error(`E2E suite FAILED in CI: ${status.message}`);
  console.warn(loudNotice(`E2E tests SKIPPED: ${status.message}`));
}

/** Distinct context paragraphs of the sample file: each becomes one section of the corpus. */
function sampleParagraphCount(): number {
  const questions = JSON.parse(fs.readFileSync(path.join(SAMPLE_DIR, SAMPLE_FILE), 'utf8')) as {
    context: [string, string[]][];
  }[];
  return new Set(
    questions.flatMap((q) => q.context.map(([title, sentences]) => `${title}\n${sentences.join('')}`)),
  ).size;
}

async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  await page.screenshot({
    path: path.join(ARTIFACTS_DIR, `${name}.png`),
    fullPage: options.fullPage ?? true,
  });
}

async function text(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** The program as the code view shows it, one string per line (no line numbers or annotations). */
async function programLines(page: Page): Promise<string[]> {
  return page.getByTestId('program-view').locator('[data-testid^="program-line-"] code').allTextContents();
}

/** The value of one metric tile. */
async function metric(page: Page, testId: string): Promise<string> {
  return text(page.getByTestId(testId).locator('dd'));
}

/** The label of one metric tile. */
async function metricLabel(page: Page, testId: string): Promise<string> {
  return text(page.getByTestId(testId).locator('dt'));
}

/** A command the page sent over its WebSocket bridge. */
interface SentInvoke {
  type: 'invoke';
  name: string;
  input: Record<string, unknown>;
}

/** Model calls of the live run (every attempt); a replay plays back only the recorded outputs: EXPECTED_LLM_CALLS. */
const LIVE_MODEL_CALLS = LIVE_LLM_CALLS;

/** The option PyRAG's E2E run changes from its default, and the value it sets. */
const CHANGED_OPTION = { key: 'maxRepairs', value: 2 };

describe.skipIf(!status.available)('Reckon in Chromium, served by `reckon serve`', () => {
  let tmp: string;
  let dataDir: string;
  let modelsDir: string;
  let replayFile: string;
  let server: ReckonServer;
  let browser: Browser;
  let page: Page;
  let bridge: WebSocketBridge;
  const pageErrors: string[] = [];
  const cleanups: (() => unknown)[] = [];
  /** The program the Ask view showed when the run finished, to compare with History. */
  let askedProgram: string[] = [];
  /** PyRAG as the server's registry describes it (listStrategies). */
  let pyrag: StrategyInfo;
  /** Every command the page sent over its bridge, in order (read from the page's WebSocket frames). */
  const sentInvokes: SentInvoke[] = [];

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-e2e-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    dataDir = path.join(tmp, 'data');
    modelsDir = path.join(tmp, 'models');
    replayFile = path.join(tmp, 'pyrag-script.jsonl');
    fs.mkdirSync(modelsDir);
    fs.writeFileSync(replayFile, replayFileContent());

    server = await startReckonServer({ dataDir, modelsDir });
    cleanups.push(() => server.stop());
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        if (typeof payload !== 'string') return;
        const message = JSON.parse(payload) as Partial<SentInvoke>;
        if (message.type === 'invoke') sentInvokes.push(message as SentInvoke);
      }),
    );

    bridge = createWebSocketBridge({
      url: `ws://127.0.0.1:${server.port}/bridge?token=${server.token}`,
      createSocket: (url) => new WebSocket(url) as unknown as BridgeSocket,
    });
    cleanups.push(() => bridge.close());

    await page.goto(server.url);
    await page.getByText('browser host').waitFor();
  });

  afterAll(async () => {
    // Newest first: the bridge and the browser before the server, the server before its folder.
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('e2e cleanup failed:', error);
      }
    }
  });

  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const name = `FAILED-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
      await page
        ?.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true })
        .catch(() => {});
      console.error(`e2e: screenshot ${name}.png; server stderr:\n${server?.stderr() ?? '(no server)'}`);
    });
  });

  it('ingests the bundled sample corpus from the Library', async () => {
    await page.getByTestId('nav-library').click();
    await page.getByTestId('add-sample').click();
    // The path comes from the server (getAppInfo.sampleCorpusDir), not guessed from the models folder,
    // which is a temporary folder here.
    await expect.poll(() => page.getByTestId('corpus-paths').inputValue()).toBe(SAMPLE_DIR);
    expect(await page.getByTestId('corpus-name').inputValue()).toBe('sample');

    await page.getByTestId('ingest-button').click();
    await page.getByTestId('ingest-progress').waitFor();
    const summary = page.getByTestId('ingest-summary');
    await summary.waitFor();
    await page.getByTestId('corpus-sample').waitFor();

    const sections = sampleParagraphCount();
    const listed = (await bridge.invoke('listCorpora', {})).corpora.find((c) => c.name === 'sample');
    expect(listed).toMatchObject({ documents: 1, sections, failedDocuments: 0, vectors: 0 });
    expect(listed!.chunks).toBeGreaterThanOrEqual(sections);
    expect(await text(summary)).toMatch(
      new RegExp(
        `^1 added · 0 updated · 0 unchanged · 0 removed · 0 failed · ${listed!.chunks} chunks written`,
      ),
    );
    expect(await text(page.getByTestId('ingest-status'))).toBe('Ingestion into sample finished.');

    const row = page
      .getByTestId('corpus-list')
      .getByTestId('corpus-row')
      .filter({
        has: page.getByTestId('corpus-sample'),
      });
    // Polled: the list may still show counts from a refresh made while the ingestion was running.
    await expect
      .poll(async () => (await row.locator('td').allTextContents()).map((c) => c.trim()))
      .toEqual(['sample', '1', String(sections), String(listed!.chunks), '0', 'none (BM25 only)', '0']);

    await page.getByTestId('corpus-sample').click();
    const documents = page.getByTestId('documents-table').getByTestId('document-row');
    await documents.first().waitFor();
    await expect.poll(() => documents.count()).toBe(1);
    const cells = (await documents.first().locator('td').allTextContents()).map((c) => c.trim());
    expect(cells[0]).toBe('ok');
    expect(cells[1]).toBe(path.join(SAMPLE_DIR, SAMPLE_FILE));
    expect(cells[4]).toBe(String(listed!.chunks));
    await screenshot(page, 'library');
  });

  it('makes a replay file the active model in Models', async () => {
    const spec = `replay:${replayFile}`;
    await page.getByTestId('nav-models').click();
    await page.getByTestId('model-spec').fill(spec);
    await page.getByTestId('model-spec-apply').click();
    await expect
      .poll(() => text(page.getByTestId('active-model-value')), { timeout: UI_TIMEOUT_MS })
      .toBe(spec);
    await page.getByTestId('active-model').getByText('ready', { exact: true }).waitFor();
    expect((await bridge.invoke('getSettings', {})).activeModel).toBe(spec);
  });

  it('offers the registry’s strategies and PyRAG’s options with their defaults, and resets them', async () => {
    const { strategies } = await bridge.invoke('listStrategies', {});
    const found = strategies.find((s) => s.id === DEFAULT_STRATEGY_ID);
    expect(found).toBeDefined();
    pyrag = found!;
    expect(pyrag.options.map((o) => o.key)).toContain(CHANGED_OPTION.key);

    await page.getByTestId('nav-ask').click();
    // The picker lists exactly the registry's strategies, by label, PyRAG selected with its description.
    const picker = page.getByTestId('ask-strategy');
    await expect
      .poll(() =>
        picker
          .locator('option')
          .evaluateAll((options) => options.map((o) => [o.getAttribute('value'), o.textContent])),
      )
      .toEqual(strategies.map((s) => [s.id, s.label]));
    expect(await picker.inputValue()).toBe(DEFAULT_STRATEGY_ID);
    expect(await text(page.getByTestId('ask-strategy-description'))).toBe(
      `${pyrag.label}: ${pyrag.description}`,
    );

    // The options form: one field per declared option, at its default, with its description.
    await page.getByTestId('strategy-options-toggle').click();
    expect(await text(page.getByTestId('strategy-options-changed'))).toBe('all at their defaults');
    for (const option of pyrag.options) {
      const field = page.getByTestId(`option-${option.key}`);
      if (option.type === 'boolean') {
        expect(await field.getAttribute('type')).toBe('checkbox');
        expect(await field.isChecked()).toBe(option.default);
      } else {
        expect(await field.inputValue()).toBe(String(option.default));
      }
      if (option.type === 'integer' || option.type === 'number') {
        expect(await field.getAttribute('type')).toBe('number');
        expect(await field.getAttribute('min')).toBe(
          option.minimum === undefined ? null : String(option.minimum),
        );
        expect(await field.getAttribute('max')).toBe(
          option.maximum === undefined ? null : String(option.maximum),
        );
      }
      const shownDefault =
        option.type === 'boolean' ? (option.default ? 'on' : 'off') : String(option.default);
      // "default 10 · 1 to 50": the default first, then the range of a number.
      expect((await text(page.getByTestId(`option-default-${option.key}`))).split(' · ')[0]).toBe(
        `default ${shownDefault}`,
      );
      expect(await text(page.getByTestId(`option-field-${option.key}`))).toContain(option.description);
    }

    // A changed option is marked; an invalid one is refused with what it takes; reset puts all back.
    const other = pyrag.options.find((o) => o.type === 'integer' && o.key !== CHANGED_OPTION.key)!;
    const boolean = pyrag.options.find((o) => o.type === 'boolean')!;
    await page.getByTestId(`option-${other.key}`).fill(String(Number(other.default) + 1));
    await page.getByTestId(`option-${boolean.key}`).setChecked(!boolean.default);
    expect(await page.getByTestId(`option-field-${other.key}`).getAttribute('data-changed')).toBe('true');
    expect(await text(page.getByTestId('strategy-options-changed'))).toBe('2 changed from the defaults');
    await page.getByTestId(`option-${CHANGED_OPTION.key}`).fill('99');
    expect(await text(page.getByTestId(`option-field-${CHANGED_OPTION.key}`))).toContain('Out of range');
    await screenshot(page, 'ask-options');
    await page.getByTestId('strategy-options-reset').click();
    expect(await page.getByTestId(`option-${other.key}`).inputValue()).toBe(String(other.default));
    expect(await page.getByTestId(`option-${boolean.key}`).isChecked()).toBe(boolean.default);
    expect(await page.getByTestId(`option-${CHANGED_OPTION.key}`).inputValue()).toBe(
      String(pyrag.options.find((o) => o.key === CHANGED_OPTION.key)!.default),
    );
    expect(await text(page.getByTestId('strategy-options-changed'))).toBe('all at their defaults');
    expect(await page.getByTestId('strategy-options-reset').isDisabled()).toBe(true);
  });

  it('answers the first HotpotQA question live: retry with backoff, repair, boost, cached calls, citations, metrics', async () => {
    await page.getByTestId('nav-ask').click();
    const defaultValue = pyrag.options.find((o) => o.key === CHANGED_OPTION.key)!.default;
    expect(CHANGED_OPTION.value).not.toBe(defaultValue);
    await page.getByTestId(`option-${CHANGED_OPTION.key}`).fill(String(CHANGED_OPTION.value));
    expect(await text(page.getByTestId('strategy-options-changed'))).toBe('1 changed from the default');
    await page.getByTestId('ask-question').fill(QUESTION);
    await page.getByTestId('ask-corpus').selectOption('sample');
    await page.getByTestId('ask-mode').selectOption('bm25');
    await page.getByTestId('ask-submit').click();

    // Mid-run: the 503 has been retried and the retried call is still in flight (it takes SLOW_CALL_MS),
    // so the run is still running when the screenshot is taken — checked before and after it.
    const runStatus = page.getByTestId('run-status');
    const retry = page.getByTestId('retry-event');
    await retry.first().waitFor();
    expect(await runStatus.getAttribute('data-status')).toBe('running');
    expect(await page.getByTestId('final-answer').count()).toBe(0);
    expect(await page.getByTestId('run-cancel').isVisible()).toBe(true);
    expect(await text(retry.first())).toMatch(/answer attempt 1\/\d+.*503.*retry in \d/);
    // The line whose answer() call is waiting on the model is marked as executing: in the boosted
    // execution line 2's call is served cached, so the slow call is Ed Wood's answer() on line 4.
    const executing = page.locator('[data-testid^="program-line-"][data-executing="true"]');
    await executing.waitFor();
    expect(await executing.getAttribute('data-testid')).toBe('program-line-4');
    await screenshot(page, 'ask-mid-run');
    expect(await runStatus.getAttribute('data-status')).toBe('running');

    await page
      .locator('[data-testid="run-status"][data-status="succeeded"]')
      .waitFor({ timeout: RUN_TIMEOUT_MS });

    // The server's record of the run, to hold the UI to.
    const [summary] = (await bridge.invoke('listRuns', { limit: 1 })).runs;
    expect(summary).toMatchObject({
      question: QUESTION,
      corpus: 'sample',
      status: 'succeeded',
      answer: 'yes',
    });
    const { events, run } = await bridge.invoke('getRun', { runId: summary!.id });
    const retries = events.flatMap((e) => (e.type === 'retry' ? [e] : []));
    expect(retries).toHaveLength(1);

    // The changed option went with the run, alone (the others are at their defaults), and the run
    // ran with it: the saved run records the options it was started with.
    const started = sentInvokes.filter((m) => m.name === 'startRun');
    expect(started).toHaveLength(1);
    expect(started[0]!.input).toMatchObject({
      question: QUESTION,
      corpus: 'sample',
      strategy: DEFAULT_STRATEGY_ID,
    });
    expect(started[0]!.input.options).toEqual({ [CHANGED_OPTION.key]: CHANGED_OPTION.value });
    const exported = JSON.parse(
      (await bridge.invoke('exportRun', { runId: summary!.id, format: 'json' })).content,
    ) as {
      run: { strategy: string; options: { strategy: string; options: Record<string, unknown> } };
    };
    expect(exported.run.strategy).toBe(DEFAULT_STRATEGY_ID);
    expect(exported.run.options.options[CHANGED_OPTION.key]).toBe(CHANGED_OPTION.value);

    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    expect(await text(runStatus)).toBe('Succeeded: yes');

    // The program: both attempts, the repaired one shown, line by line.
    const program = page.getByTestId('program-view');
    expect(await text(program)).toContain('retrieve(');
    await page.getByTestId('program-line-1').waitFor();
    await page.getByTestId('program-attempt-1').waitFor();
    await page.getByTestId('program-attempt-2').waitFor();
    askedProgram = await programLines(page);
    expect(askedProgram).toEqual(REPAIRED_PROGRAM_LINES);

    // Bindings of the last (boosted) execution.
    const bindingRows = page.getByTestId('bindings-table').getByTestId('binding-row');
    const bindings = await bindingRows.evaluateAll((rows) =>
      rows.map((row) => [...row.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
    );
    expect(bindings.map(([name, , line]) => [name, line])).toEqual([
      ['docsA', '1'],
      ['natA', '2'],
      ['docsB', '3'],
      ['natB', '4'],
    ]);
    expect(bindings[1]![1]).toContain('American');
    expect(bindings[3]![1]).toContain('American');

    // Retry with backoff, exactly as recorded.
    expect(await retry.count()).toBe(1);
    const retryText = await text(retry.first());
    expect(retryText).toContain('503');
    expect(retryText).toContain(`retry in ${formatMs(retries[0]!.delayMs)}`);
    await page.getByTestId('retry-timeline').waitFor();
    await page.getByTestId('tool-timeline').waitFor();

    // Repair of the runtime error and the boosted re-run.
    expect(await text(page.locator('.run__meta'))).toContain(pyrag.label);
    expect(await page.getByTestId('repair-event').count()).toBe(1);
    expect(await text(page.getByTestId('repair-event'))).toMatch(
      /^Repair round 1: asking the model to fix RuntimeError on line 4/,
    );
    expect(await page.getByTestId('boost-event').count()).toBe(1);
    expect(await text(page.getByTestId('boost-event'))).toMatch(
      /“unknown” → tool call #\d+ re-run at k=10 \(was 5\)/,
    );

    // The boosted re-run's calls whose inputs did not change were served from the run before it:
    // each is marked cached in the tool timeline, and no other call is.
    const cachedResults = events.flatMap((e) => (e.type === 'tool-result' && e.cached === true ? [e] : []));
    expect(cachedResults.map((e) => e.tool)).toEqual(['retrieve', 'answer']);
    const lastExecution = Math.max(
      ...events.flatMap((e) => (e.type === 'execution-started' ? [e.execution] : [])),
    );
    expect(cachedResults.every((e) => e.execution === lastExecution)).toBe(true);
    const cachedRows = page
      .getByTestId('tool-timeline')
      .locator('[data-testid="tool-call"][data-cached="true"]');
    expect(await cachedRows.evaluateAll((rows) => rows.map((row) => row.getAttribute('data-tool')))).toEqual(
      cachedResults.map((e) => e.tool),
    );
    expect(await page.getByTestId('tool-cached').count()).toBe(cachedResults.length);
    expect(await cachedRows.getByTestId('tool-cached').allTextContents()).toEqual(
      cachedResults.map(() => 'cached'),
    );
    expect(await text(page.getByTestId('execution-cached'))).toBe(
      `${cachedResults.length} of ${events.filter((e) => e.type === 'tool-call' && e.execution === lastExecution).length} tool calls served from the previous execution (inputs unchanged), not run again.`,
    );
    await page
      .getByTestId('tool-timeline')
      .screenshot({ path: path.join(ARTIFACTS_DIR, 'tool-timeline-cached.png') });

    // Metrics: the right numbers, the same as the server recorded — common, program, PyRAG's own.
    expect(run.metrics).toMatchObject({
      llmCalls: LIVE_MODEL_CALLS,
      retries: 1,
      tokensEstimated: true,
      program: { cyclomaticComplexity: 1, repairs: 1, programAttempts: 2, executions: 3, executable: true },
      strategy: { boosts: 1, cachedCalls: cachedResults.length },
    });
    expect(await metric(page, 'metric-complexity')).toBe('1');
    expect(await metric(page, 'metric-llm-calls')).toBe(String(LIVE_MODEL_CALLS));
    expect(await metric(page, 'metric-retries')).toBe('1');
    expect(await metric(page, 'metric-repairs')).toBe('1');
    expect(await metric(page, 'metric-attempts')).toBe('2 · 3');
    expect(await metric(page, 'metric-executable')).toBe('yes');
    // Replay counts no tokens: the counts are estimates and say so.
    expect(await metricLabel(page, 'metric-prompt-tokens')).toBe('Prompt tokens (estimated)');
    expect(await metricLabel(page, 'metric-generated-tokens')).toBe('Generated tokens (estimated)');
    expect(await metric(page, 'metric-prompt-tokens')).toBe(
      run.metrics!.promptTokens.toLocaleString('en-US'),
    );
    // PyRAG's own figures, labelled as the registry declares them.
    const figures = Object.keys(run.metrics!.strategy);
    expect(figures.length).toBeGreaterThan(0);
    for (const key of figures) {
      expect(await metricLabel(page, `metric-strategy-${key}`)).toBe(
        pyrag.metrics.find((m) => m.key === key)?.label ?? key,
      );
    }
    expect(await metric(page, 'metric-strategy-boosts')).toBe('1');
    expect(await metric(page, 'metric-strategy-cachedCalls')).toBe(String(cachedResults.length));
    await page.getByTestId('metrics-program').waitFor();
    await screenshot(page, 'ask-finished');
    await page.getByTestId('metrics-panel').screenshot({ path: path.join(ARTIFACTS_DIR, 'metrics.png') });

    // A citation opens its passage.
    await page.getByTestId('citation-1').click();
    const passage = page.getByTestId('passage-view');
    await passage.getByTestId('passage-highlight').waitFor();
    expect(await text(passage)).toContain('Scott Derrickson');
    expect(await text(passage.getByTestId('passage-highlight'))).toContain('Scott Derrickson');
    await screenshot(page, 'passage', { fullPage: false });
    await passage.getByRole('button', { name: 'Close passage' }).click();
    await passage.waitFor({ state: 'detached' });
  });

  it('lists the run in History and reopens it with the same program and answer', async () => {
    await page.getByTestId('nav-history').click();
    const items = page.getByTestId('history-list').getByTestId('history-item');
    await items.first().waitFor();
    expect(await items.count()).toBe(1);
    const cells = (await items.first().locator('td').allTextContents()).map((c) => c.trim());
    expect(cells.slice(1, 5)).toEqual([QUESTION, 'succeeded', 'yes', pyrag.label]);
    expect(cells[6]).toBe('sample');
    expect(cells[7]).toBe(String(LIVE_MODEL_CALLS));
    expect(cells[8]).toMatch(/^[\d,]+ \(estimated\)$/);
    await screenshot(page, 'history');

    await items.first().getByTestId('history-open').click();
    await page.locator('[data-testid="run-status"][data-status="succeeded"]').waitFor();
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    await page.getByTestId('program-line-1').waitFor();
    expect(await programLines(page)).toEqual(askedProgram);
    expect(await page.getByTestId('retry-event').count()).toBe(1);
    expect(await metric(page, 'metric-llm-calls')).toBe(String(LIVE_MODEL_CALLS));
    await page.getByTestId('export-json').waitFor();
    await page.getByTestId('rerun').waitFor();
    await screenshot(page, 'history-run');
  });

  it('replays the run from History with the model outputs it recorded', async () => {
    const originalId = await page.getByTestId('run-status').getAttribute('data-run-id');
    expect(originalId).toBeTruthy();
    const replay = page.getByTestId('replay-run');
    expect(await replay.getAttribute('title')).toBe('Run again with the model outputs recorded in this run');
    await replay.click();

    // The same detail view switches to the new run, which streams in like any run.
    const fresh = page.locator(`[data-testid="run-status"][data-run-id]:not([data-run-id="${originalId}"])`);
    await fresh.waitFor();
    const runId = (await fresh.getAttribute('data-run-id'))!;
    await page
      .locator(`[data-testid="run-status"][data-run-id="${runId}"][data-status="succeeded"]`)
      .waitFor({ timeout: RUN_TIMEOUT_MS });
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    await page.getByTestId('program-line-1').waitFor();
    expect(await programLines(page)).toEqual(askedProgram);
    expect(await metric(page, 'metric-llm-calls')).toBe(String(EXPECTED_LLM_CALLS));

    const { run } = await bridge.invoke('getRun', { runId });
    expect(run).toMatchObject({ question: QUESTION, corpus: 'sample', status: 'succeeded', answer: 'yes' });
    expect(run.model).toBe(`replay:${path.join(dataDir, 'replays', `${originalId}.jsonl`)}`);
    // The recording holds the outputs, not the 503 the original run retried.
    expect(run.metrics).toMatchObject({
      llmCalls: EXPECTED_LLM_CALLS,
      retries: 0,
      program: { repairs: 1 },
      strategy: { boosts: 1 },
    });
    // Same strategy, same options.
    expect(run.strategy).toBe(DEFAULT_STRATEGY_ID);
    const exported = JSON.parse((await bridge.invoke('exportRun', { runId, format: 'json' })).content) as {
      run: { options: { options: Record<string, unknown> } };
    };
    expect(exported.run.options.options[CHANGED_OPTION.key]).toBe(CHANGED_OPTION.value);
    expect(await page.getByTestId('tool-cached').count()).toBeGreaterThan(0);
    await screenshot(page, 'history-replay');
  });

  it('shows Settings with the folders the server was started with', async () => {
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => page.getByTestId('settings-data-dir').inputValue()).toBe(dataDir);
    expect(await page.getByTestId('settings-models-dir').inputValue()).toBe(modelsDir);
    await page.getByTestId('settings-attempts').waitFor();
    await page.getByTestId('settings-save').waitFor();
    await screenshot(page, 'settings');
  });

  it('threw no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
  });

  describe('without the token', () => {
    it('refuses the WebSocket bridge', async () => {
      const bridgeUrl = `ws://127.0.0.1:${server.port}/bridge`;
      expect(await upgradeStatus(bridgeUrl)).toBe(401);
      expect(await upgradeStatus(`${bridgeUrl}?token=${'0'.repeat(server.token.length)}`)).toBe(401);
      // The same request with the token is accepted, so the refusals above are about the token.
      expect(await upgradeStatus(`${bridgeUrl}?token=${server.token}`)).toBe(101);

      // From a page of the server's own origin too: the socket never opens.
      const outcome = await page.evaluate(`new Promise((resolve) => {
        const socket = new WebSocket(${JSON.stringify(bridgeUrl)});
        socket.onopen = () => resolve('open');
        socket.onclose = (event) => resolve('closed ' + event.code);
      })`);
      expect(outcome).toBe('closed 1006');
    });

    it('shows what to do on a page opened without it', async () => {
      const bare = await page.context().newPage();
      try {
        await bare.goto(`${server.origin}/`);
        const alert = bare.getByRole('alert');
        await alert.waitFor();
        expect(await text(alert)).toContain(
          'This page was opened without its access token. Open the exact address "reckon serve" printed',
        );
        expect(await text(alert)).toContain('NO_TOKEN');
        await screenshot(bare, 'no-token', { fullPage: false });
      } finally {
        await bare.close();
      }
    });
  });
});

/** The HTTP status the server answers a WebSocket upgrade with (101 = accepted). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (request, response) => {
      resolve(response.statusCode ?? 0);
      request.destroy();
    });
    socket.on('error', (error) => reject(error));
  });
}
