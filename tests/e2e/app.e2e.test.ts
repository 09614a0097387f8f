/**
 * The real UI in Chromium, served by the real `reckon serve`, over the real engine: ingest the bundled
 * HotpotQA sample from the Library, choose a replay model in Models, pick PyRAG from the strategy
 * registry and change one of its options, ask the first sample question and watch the run live (a 503
 * retried with backoff, a runtime error repaired, a sentinel answer that boosts retrieval, the
 * unchanged calls of the boosted re-run served cached), open a citation, read the metrics, find the
 * run again in History, replay it, open Settings. Then one run each of Self-Ask, IRCoT, ICRAG and
 * PROGRAM (each from its own replay script, written over the active replay file: a replay backend
 * reads its file afresh for every run) rendered in its own trace view: the follow-up chain, the
 * interleaved sentences and retrievals, the code versions as diffs with simulated values marked, the
 * per-round program table stepped through; a step's passage opens in the passage drawer.
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
import type { WebSocketBridge } from '../../renderer/src/bridge.ts';
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
  LIVE_LLM_CALLS,
  QUESTION,
  REPAIRED_PROGRAM_LINES,
  replayFileContent,
} from '../fixtures/pyragReplayScript.ts';
import {
  BASELINE_QUESTION,
  IRCOT_SCRIPT,
  IRCOT_SENTENCES,
  replayContent,
  SELF_ASK_FOLLOW_UPS,
  SELF_ASK_SCRIPT,
} from '../fixtures/baselineReplayScripts.ts';
import {
  ICRAG_ANSWER,
  ICRAG_QUERY,
  ICRAG_SCRIPT,
  ICRAG_SIMULATED,
  ICRAG_TASK,
  ICRAG_VERSIONS,
} from '../fixtures/icragReplayScript.ts';
import {
  PROGRAM_CANDIDATES,
  PROGRAM_QUESTION,
  PROGRAM_ROUNDS,
  PROGRAM_SCRIPT,
  PROGRAM_STATUSES,
  PROGRAM_TYPES,
} from '../fixtures/programReplayScript.ts';
import {
  FLARE_LOW_TOKEN,
  FLARE_QUERY,
  FLARE_SCRIPT,
  ITER_RETGEN_ANSWERS,
  ITER_RETGEN_SCRIPT,
} from '../fixtures/flareIterRetgenReplayScripts.ts';
import { connectBridge, runCleanups, screenshotOnFailure } from './e2eSession.ts';
import { startReckonServer, type ReckonServer } from './startReckonServer.ts';
import type { TraceEventOf } from '../../preload/TraceEvent.ts';

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

/** The program as the code view shows it, one string per line (no line numbers, values or badges). */
async function programLines(page: Page): Promise<string[]> {
  return page
    .getByTestId('program-view')
    .locator('.cm-line')
    .evaluateAll((lines) =>
      lines.map((line) =>
        [...line.childNodes]
          // Widgets (values, badges) are not editable text: leave them out.
          .filter((node) => (node as { contentEditable?: string }).contentEditable !== 'false')
          .map((node) => node.textContent ?? '')
          .join(''),
      ),
    );
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

/** Model calls of the run (every attempt, the 503 included); its replay makes the same ones, the 503 recorded too. */
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
  /** Console errors about the Content-Security-Policy (CodeMirror mounts its styles as <style>). */
  const cspViolations: string[] = [];
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
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
        cspViolations.push(message.text());
    });
    page.on('websocket', (socket) =>
      socket.on('framesent', ({ payload }) => {
        if (typeof payload !== 'string') return;
        const message = JSON.parse(payload) as Partial<SentInvoke>;
        if (message.type === 'invoke') sentInvokes.push(message as SentInvoke);
      }),
    );

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
        option.type === 'boolean'
          ? option.default
            ? 'on'
            : 'off'
          : option.default === ''
            ? '(empty)'
            : String(option.default);
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
      `${cachedResults.length} of ${events.filter((e) => e.type === 'tool-call' && e.execution === lastExecution).length} tool calls served from the previous execution of this run (inputs unchanged), not run again.`,
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
    expect(await metric(page, 'metric-llm-calls')).toBe(String(LIVE_MODEL_CALLS));

    const { run } = await bridge.invoke('getRun', { runId });
    expect(run).toMatchObject({ question: QUESTION, corpus: 'sample', status: 'succeeded', answer: 'yes' });
    expect(run.model).toBe(`replay:${path.join(dataDir, 'replays', `${originalId}.jsonl`)}`);
    // The recording holds every attempt, the 503 included, so the replay retries it as the run did.
    expect(run.metrics).toMatchObject({
      llmCalls: LIVE_MODEL_CALLS,
      retries: 1,
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

  it('edits a run’s program in the editor and re-runs it, reusing the recorded calls, linked to its source', async () => {
    const sourceId = (await page.getByTestId('run-status').getAttribute('data-run-id'))!;
    // The editor's own styles applied under the CSP: read-only code, long lines wrapped.
    const content = page.getByTestId('program-view').locator('.cm-content');
    expect(await content.getAttribute('contenteditable')).toBe('false');
    expect(
      await content.evaluate(
        (el) =>
          (
            globalThis as unknown as { getComputedStyle(e: unknown): { whiteSpace: string } }
          ).getComputedStyle(el).whiteSpace,
      ),
    ).toMatch(/pre-wrap|break-spaces/);
    // Reuse the repaired program's first execution (all its calls at the run's k).
    await page.getByTestId('bindings-execution').selectOption('2');
    expect(await programLines(page)).toEqual(REPAIRED_PROGRAM_LINES);

    await page.getByTestId('program-edit').click();
    expect(await content.getAttribute('contenteditable')).toBe('true');
    await content.click();
    await page.keyboard.press('Control+Home');
    const added = 'const extra = await retrieve("Ed Wood filmography");';
    await page.keyboard.type(added);
    await page.keyboard.press('Enter');
    expect(await programLines(page)).toEqual([added, ...REPAIRED_PROGRAM_LINES]);
    await screenshot(page, 'program-editing');
    await page.getByTestId('program-run-edited').click();

    const fresh = page.locator(`[data-testid="run-status"][data-run-id]:not([data-run-id="${sourceId}"])`);
    await fresh.waitFor();
    const runId = (await fresh.getAttribute('data-run-id'))!;
    await page
      .locator(`[data-testid="run-status"][data-run-id="${runId}"][data-status="succeeded"]`)
      .waitFor({ timeout: RUN_TIMEOUT_MS });
    await page.getByTestId('program-line-1').waitFor();
    expect(await programLines(page)).toEqual([added, ...REPAIRED_PROGRAM_LINES]);

    // The server's record: only the new call ran; every unchanged call came from the source run.
    const { events, run } = await bridge.invoke('getRun', { runId });
    expect(run).toMatchObject({ parentRunId: sourceId, strategy: 'program-edit', status: 'succeeded' });
    const results = events.flatMap((e) => (e.type === 'tool-result' ? [e] : []));
    expect(results.map((r) => r.cached === true)).toEqual([false, ...results.slice(1).map(() => true)]);
    expect(results.length).toBeGreaterThan(2);
    expect(run.metrics).toMatchObject({ llmCalls: 0 });
    // …and the editor marks those calls as cached, saying where from.
    const cachedCalls = page.getByTestId('program-view').locator('[data-call="cached"]');
    expect(await cachedCalls.count()).toBe(results.length - 1);
    expect(await cachedCalls.first().getAttribute('title')).toContain(sourceId);
    await screenshot(page, 'program-edited-run');

    // The link back, and from the source to what was made from it.
    expect(await text(page.getByTestId('run-lineage'))).toBe(`Edited from ${sourceId}`);
    await page.getByTestId('run-parent').click();
    await page.locator(`[data-testid="run-status"][data-run-id="${sourceId}"]`).waitFor();
    expect(await page.getByTestId('run-child').allTextContents()).toEqual([runId]);
  });

  it('shows Settings with the folders the server was started with', async () => {
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => page.getByTestId('settings-data-dir').inputValue()).toBe(dataDir);
    expect(await page.getByTestId('settings-models-dir').inputValue()).toBe(modelsDir);
    await page.getByTestId('settings-attempts').waitFor();
    await page.getByTestId('settings-save').waitFor();
    await screenshot(page, 'settings');
  });

  /**
   * Asks `question` with `strategy` over the sample corpus (BM25), the active replay file holding
   * `script`; waits for the run to succeed and returns its id and the `step` events the server saved.
   */
  async function askScripted(
    strategy: string,
    question: string,
    script: readonly object[],
  ): Promise<{ runId: string; steps: TraceEventOf<'step'>[] }> {
    fs.writeFileSync(replayFile, replayContent(script));
    const before = new Set((await bridge.invoke('listRuns', {})).runs.map((r) => r.id));
    await page.getByTestId('nav-ask').click();
    await page.getByTestId('ask-strategy').selectOption(strategy);
    await page.getByTestId('ask-question').fill(question);
    await page.getByTestId('ask-corpus').selectOption('sample');
    await page.getByTestId('ask-mode').selectOption('bm25');
    await page.getByTestId('ask-submit').click();
    let runId = '';
    await expect
      .poll(async () => {
        runId = (await bridge.invoke('listRuns', {})).runs.find((r) => !before.has(r.id))?.id ?? '';
        return runId;
      })
      .not.toBe('');
    await page
      .locator(`[data-testid="run-status"][data-run-id="${runId}"][data-status="succeeded"]`)
      .waitFor({ timeout: RUN_TIMEOUT_MS });
    const { events } = await bridge.invoke('getRun', { runId });
    return { runId, steps: events.flatMap((e) => (e.type === 'step' ? [e] : [])) };
  }

  /** The chunk ids of the passage buttons inside `scope`, in order. */
  async function docIds(scope: Locator): Promise<number[]> {
    return (
      await scope
        .getByTestId('step-doc')
        .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('data-chunk-id')))
    ).map(Number);
  }

  /** The ids of a step's data.docs. */
  const idsOf = (step: TraceEventOf<'step'> | undefined): number[] =>
    ((step?.data?.docs ?? []) as { id: number }[]).map((doc) => doc.id);

  /** Opens the passage behind a step's button and checks the drawer shows that chunk, then closes it. */
  async function opensPassage(button: Locator, title: string): Promise<void> {
    await button.click();
    const passage = page.getByTestId('passage-view');
    await passage.getByTestId('passage-highlight').waitFor();
    expect(await text(passage.locator('#passage-title'))).toBe(title);
    await passage.getByRole('button', { name: 'Close passage' }).click();
    await passage.waitFor({ state: 'detached' });
  }

  it('renders a Self-Ask run as its follow-up chain, each follow-up’s passages opening', async () => {
    const { steps } = await askScripted('self-ask', BASELINE_QUESTION, SELF_ASK_SCRIPT);
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    const chain = page.getByTestId('self-ask-chain');
    const followUps = chain.getByTestId('self-ask-follow-up');
    await expect.poll(() => followUps.count()).toBe(SELF_ASK_FOLLOW_UPS.length);
    expect(await followUps.getByTestId('self-ask-question').allTextContents()).toEqual(
      SELF_ASK_FOLLOW_UPS.map((f) => f.question),
    );
    expect(await followUps.getByTestId('self-ask-intermediate').allTextContents()).toEqual(
      SELF_ASK_FOLLOW_UPS.map((f) => f.answer),
    );
    expect(await text(chain.getByTestId('self-ask-final'))).toBe('So the final answer is: yes');
    // Each follow-up lists exactly the passages its retrieval found, as the server recorded them.
    const recorded = steps.filter((s) => s.kind === 'follow-up');
    expect(recorded).toHaveLength(SELF_ASK_FOLLOW_UPS.length);
    for (const [i, step] of recorded.entries()) {
      const ids = idsOf(step);
      expect(ids.length).toBeGreaterThan(0);
      expect(await docIds(followUps.nth(i))).toEqual(ids);
    }
    // The dedicated view replaces the generic step list.
    expect(await page.getByTestId('strategy-steps').count()).toBe(0);
    await screenshot(page, 'ask-self-ask');
    const first = (recorded[1]!.data!.docs as { title: string }[])[0]!;
    await opensPassage(followUps.nth(1).getByTestId('step-doc').first(), first.title);
  });

  it('renders an IRCoT run as interleaved sentences and retrievals, then the reader', async () => {
    const { steps } = await askScripted('ircot', BASELINE_QUESTION, IRCOT_SCRIPT);
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    const chain = page.getByTestId('ircot-chain');
    await chain.getByTestId('ircot-reader').waitFor();
    // retrieval (question) → thought 1 → retrieval (thought 1) → thought 2 → retrieval → thought 3 (the answer).
    const order = await chain
      .locator('[data-testid="ircot-retrieval"], [data-testid="ircot-thought"], [data-testid="ircot-reader"]')
      .evaluateAll((items) => items.map((item) => item.getAttribute('data-testid')));
    expect(order).toEqual([
      'ircot-retrieval',
      'ircot-thought',
      'ircot-retrieval',
      'ircot-thought',
      'ircot-retrieval',
      'ircot-thought',
      'ircot-reader',
    ]);
    expect(await chain.getByTestId('ircot-sentence').allTextContents()).toEqual([...IRCOT_SENTENCES]);
    expect(await chain.getByTestId('ircot-query').allTextContents()).toEqual([
      BASELINE_QUESTION,
      ...IRCOT_SENTENCES.slice(0, -1),
    ]);
    const retrievals = steps.filter((s) => s.kind === 'retrieval');
    for (const [i, step] of retrievals.entries())
      expect(await docIds(chain.getByTestId('ircot-retrieval').nth(i))).toEqual(idsOf(step));
    const reader = steps.find((s) => s.kind === 'reader');
    expect(await docIds(chain.getByTestId('ircot-reader'))).toEqual(idsOf(reader));
    await screenshot(page, 'ask-ircot');
    const read = (reader!.data!.docs as { title: string }[])[0]!;
    await opensPassage(chain.getByTestId('ircot-reader').getByTestId('step-doc').first(), read.title);
  });

  it('shows an ICRAG run’s code versions as diffs and marks its simulated values', async () => {
    await askScripted('icrag', ICRAG_TASK, ICRAG_SCRIPT);
    expect(await text(page.getByTestId('final-answer-text'))).toBe(ICRAG_ANSWER);
    const versions = page.getByTestId('icrag-versions').getByTestId('icrag-version');
    await expect.poll(() => versions.count()).toBe(ICRAG_VERSIONS.length);
    // c0 in full; c1 adds `const pay` and replaces the return; c2 replaces the return again.
    const linesOf = async (i: number, kind: string): Promise<string[]> =>
      (await versions.nth(i).locator(`.icrag-diff__line[data-kind="${kind}"]`).allTextContents()).map((l) =>
        l.slice(2),
      );
    expect(await versions.nth(0).locator('.icrag-diff__line').allTextContents()).toEqual(
      ICRAG_VERSIONS[0].split('\n'),
    );
    expect(await linesOf(1, 'added')).toEqual(['const pay = hours * rate;', 'return pay;']);
    expect(await linesOf(1, 'removed')).toEqual(['return hours * rate;']);
    expect(await linesOf(2, 'added')).toEqual(['return pay + bonus_of("Ann");']);
    expect(await linesOf(2, 'removed')).toEqual(['return pay;']);
    expect(await page.getByTestId('icrag-next-query').allTextContents()).toEqual([
      `Next query: ${ICRAG_QUERY}`,
      'Next query: none — refinement stops.',
    ]);
    // The simulated calls with their values, and the bindings those values made, marked simulated.
    const simulated = page.getByTestId('simulated-calls').getByTestId('simulated-call');
    expect(await simulated.count()).toBe(ICRAG_SIMULATED.length);
    for (const [i, call] of ICRAG_SIMULATED.entries()) {
      const cells = (await simulated.nth(i).locator('td').allTextContents()).map((c) => c.trim());
      expect(cells[0]).toBe(String(call.line));
      expect(cells[1]).toBe(call.call);
      expect(await text(simulated.nth(i).getByTestId('simulated-value'))).toBe(String(call.value));
    }
    // The final program's lines, each run by the sandbox or simulated by the model.
    const modes = await page
      .getByTestId('simulated-lines')
      .getByTestId('simulated-line')
      .evaluateAll((lines) => lines.map((line) => line.getAttribute('data-mode')));
    expect(modes).toEqual(
      ICRAG_VERSIONS[2]
        .split('\n')
        .map((_, i) => (ICRAG_SIMULATED.some((call) => call.line === i + 1) ? 'simulated' : 'executed')),
    );
    const rate = page.getByTestId('bindings-table').getByTestId('binding-row').filter({ hasText: 'rate' });
    expect(await rate.getByTestId('binding-simulated').count()).toBe(1);
    const hours = page.getByTestId('bindings-table').getByTestId('binding-row').filter({ hasText: 'hours' });
    expect(await hours.getByTestId('binding-simulated').count()).toBe(0);
    await screenshot(page, 'ask-icrag');
  });

  it('renders a PROGRAM run’s per-round table and steps through its rounds', async () => {
    const { steps } = await askScripted('program', PROGRAM_QUESTION, PROGRAM_SCRIPT);
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    const view = page.getByTestId('program-rounds');
    const table = view.getByTestId('program-round-table');
    expect(await text(view.getByTestId('program-types'))).toBe(`Program types: ${PROGRAM_TYPES.join(', ')}`);
    const statuses = (): Promise<string[]> => table.getByTestId('program-status').allTextContents();
    const rounds = steps.filter((s) => s.kind === 'program-round');
    expect(rounds).toHaveLength(PROGRAM_ROUNDS);

    // The latest round first; then round 1, 2 … by the controls.
    expect(await table.getAttribute('data-round')).toBe(String(PROGRAM_ROUNDS));
    expect(await statuses()).toEqual([...PROGRAM_STATUSES[PROGRAM_ROUNDS - 1]!]);
    await view.getByTestId('program-round-1').click();
    expect(await table.getAttribute('data-round')).toBe('1');
    expect(await text(view.getByTestId('program-round-label'))).toMatch(/^Round 1 of 2/);
    expect(await view.getByTestId('program-round-prev').isDisabled()).toBe(true);
    for (let round = 1; round <= PROGRAM_ROUNDS; round++) {
      if (round > 1) await view.getByTestId('program-round-next').click();
      expect(await table.getAttribute('data-round')).toBe(String(round));
      expect(await statuses()).toEqual([...PROGRAM_STATUSES[round - 1]!]);
      // Each row as recorded: sub-query, and the passages the program held (its earlier retrievals).
      const rows = (rounds[round - 1]!.data!.programs as { subQuery: string; documents: number }[]) ?? [];
      expect(await table.getByTestId('program-subquery').allTextContents()).toEqual(
        rows.map((r) => r.subQuery),
      );
      expect(await table.getByTestId('program-docs-count').allTextContents()).toEqual(
        rows.map((r) => String(r.documents)),
      );
      if (round === 1) await screenshot(page, 'ask-program-round-1');
    }
    expect(await view.getByTestId('program-round-next').isDisabled()).toBe(true);

    // Each program's candidates with their scores, the chosen one marked.
    const candidates = table.getByTestId('program-candidates');
    expect(await candidates.count()).toBe(PROGRAM_TYPES.length);
    for (const [i, queries] of PROGRAM_CANDIDATES.entries()) {
      const rows = candidates.nth(i).getByTestId('program-candidate');
      expect(await rows.count()).toBe(queries.length);
      expect(await candidates.nth(i).locator('[data-chosen="true"]').count()).toBe(1);
    }

    // The pool in rerank order, the kept passages marked.
    const rerank = steps.find((s) => s.kind === 'program-rerank')!;
    const order = rerank.data!.order as { id: number; kept: boolean; title: string }[];
    const entries = view.getByTestId('program-rerank').getByTestId('program-rerank-entry');
    expect(await docIds(view.getByTestId('program-rerank'))).toEqual(order.map((o) => o.id));
    expect(await entries.evaluateAll((items) => items.map((i) => i.getAttribute('data-kept')))).toEqual(
      order.map((o) => String(o.kept)),
    );
    await screenshot(page, 'ask-program');
    await opensPassage(entries.first().getByTestId('step-doc'), order[0]!.title);
  });

  it('renders FLARE’s low-confidence token and the retrieval it triggered, and ITER-RETGEN’s rounds', async () => {
    const flare = await askScripted('flare', BASELINE_QUESTION, FLARE_SCRIPT);
    expect(await text(page.getByTestId('final-answer-text'))).toBe('yes');
    const sentences = page.getByTestId('flare-sentences').getByTestId('flare-sentence');
    await expect.poll(() => sentences.count()).toBe(3);
    expect(
      await sentences.evaluateAll((items) => items.map((item) => item.getAttribute('data-triggered'))),
    ).toEqual(['false', 'true', 'false']);
    const triggered = sentences.nth(1);
    expect(await triggered.getByTestId('flare-low-token').allTextContents()).toEqual([FLARE_LOW_TOKEN]);
    expect(await text(triggered.getByTestId('flare-query'))).toBe(FLARE_QUERY);
    const recorded = flare.steps.filter((s) => s.kind === 'sentence')[1]!;
    expect(await docIds(triggered)).toEqual(recorded.data!.retrievedIds);
    await screenshot(page, 'ask-flare');
    await triggered.getByTestId('step-doc').first().click();
    await page.getByTestId('passage-view').getByTestId('passage-highlight').waitFor();
    await page.getByRole('button', { name: 'Close passage' }).click();

    const iter = await askScripted('iter-retgen', BASELINE_QUESTION, ITER_RETGEN_SCRIPT);
    const rounds = page.getByTestId('iter-retgen-rounds').getByTestId('iter-retgen-round');
    await expect.poll(() => rounds.count()).toBe(ITER_RETGEN_ANSWERS.length);
    for (const [i, step] of iter.steps.filter((s) => s.kind === 'round').entries()) {
      expect(await docIds(rounds.nth(i))).toEqual(idsOf(step));
      expect(await text(rounds.nth(i))).toContain(`Generation: ${ITER_RETGEN_ANSWERS[i]}`);
    }
    await screenshot(page, 'ask-iter-retgen');
  });

  it('threw no uncaught errors in the page', () => {
    expect(pageErrors).toEqual([]);
    expect(cspViolations).toEqual([]);
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
