/**
 * First contact in the browser host, in Chromium against the real `reckon serve`: the view and the
 * open run live in the URL (navigate, reload, back, deep links), a navigation item always opens its
 * view at the top, the status pill shows its whole text on focus, Settings shows each field's range
 * from the settings schema and asks before dropping unsaved edits; documents dropped onto "Add
 * documents" (or chosen with "Upload files…") are uploaded to the server and indexed from its data
 * folder, and a Library search hit opens the passage drawer with its surrounding text — without the
 * desktop app's "Open file" or picker, which a browser cannot offer.
 *
 * The tests form one user session and run in order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { sandboxSettingsSchema } from '../../preload/contract.ts';
import { createWebSocketBridge, type BridgeSocket, type WebSocketBridge } from '../../renderer/src/bridge.ts';
import {
  ARTIFACTS_DIR,
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  chromiumStatus,
  isCi,
  loudNotice,
} from './e2eEnvironment.ts';
import { startReckonServer, type ReckonServer } from './startReckonServer.ts';

const UI_TIMEOUT_MS = 30_000;
/** The Direct run's error (a recorded HTTP 400): long enough that the status pill has to cut it. */
const LONG_ERROR = `The model server refused the request: ${'the prompt named a parameter it does not know, '.repeat(8)}end.`;
const DROPPED_NOTE = 'The lighthouse keeper counted forty ships passing the northern cape in one night.';
const CHOSEN_NOTE = 'Tide tables are printed every spring for the harbour master.';

/** expect.poll with the UI's ceiling rather than vitest's one second. */
function poll<T>(probe: () => T | Promise<T>): ReturnType<typeof expect.poll<T>> {
  return expect.poll(probe, { timeout: UI_TIMEOUT_MS, interval: 100 });
}

/**
 * Runs in the page (so it uses nothing from this module): whether an element's text is cut — wider
 * than its box, or still kept on one line. Typed structurally, as the tests' tsconfig has no DOM.
 */
function isCut(element: unknown): boolean {
  const el = element as { scrollWidth: number; clientWidth: number };
  const style = (
    globalThis as unknown as { getComputedStyle(e: unknown): { whiteSpace: string } }
  ).getComputedStyle(el);
  return el.scrollWidth > el.clientWidth + 1 || style.whiteSpace === 'nowrap';
}

const status = chromiumStatus();
if (!status.available) {
  if (isCi()) throw new Error(`E2E suite FAILED in CI: ${status.message}`);
  console.warn(loudNotice(`E2E tests SKIPPED: ${status.message}`));
}

describe.skipIf(!status.available)('Navigation, layout and adding documents in the browser host', () => {
  let tmp: string;
  let dataDir: string;
  let server: ReckonServer;
  let browser: Browser;
  let page: Page;
  let bridge: WebSocketBridge;
  let runId: string;
  const pageErrors: string[] = [];
  const cleanups: (() => unknown)[] = [];

  const hash = (): string => new URL(page.url()).hash;

  beforeAll(async () => {
    fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-e2e-nav-'));
    cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
    dataDir = path.join(tmp, 'data');
    const modelsDir = path.join(tmp, 'models');
    fs.mkdirSync(modelsDir);
    const replayFile = path.join(tmp, 'direct.jsonl');
    fs.writeFileSync(
      replayFile,
      `${JSON.stringify({ role: 'answer', output: '', error: { status: 400, message: LONG_ERROR } })}\n`,
    );

    // A generous start: the E2E machines are often shared and busy.
    server = await startReckonServer({ dataDir, modelsDir, startTimeoutMs: 120_000 });
    cleanups.push(() => server.stop());
    bridge = createWebSocketBridge({
      url: `ws://127.0.0.1:${server.port}/bridge?token=${server.token}`,
      createSocket: (url) => new WebSocket(url) as unknown as BridgeSocket,
    });
    cleanups.push(() => bridge.close());

    // One saved run to link to: Direct (no corpus), failed by a scripted, long, non-retryable error.
    runId = (
      await bridge.invoke('startRun', {
        question: 'What is the capital of France?',
        corpus: null,
        strategy: 'direct',
        model: `replay:${replayFile}`,
      })
    ).runId;
    for (let i = 0; i < 300; i++) {
      const { run } = await bridge.invoke('getRun', { runId });
      if (run.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    cleanups.push(() => browser.close());
    page = await browser.newPage({ viewport: { width: 2200, height: 900 } });
    page.setDefaultTimeout(UI_TIMEOUT_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(server.url);
    await page.getByText('browser host').waitFor();
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('e2e cleanup failed:', error);
      }
    }
  });

  it('keeps the view in the URL: navigate, reload and back', async () => {
    expect(hash()).toBe('#/ask');
    await page.getByTestId('nav-library').click();
    expect(hash()).toBe('#/library');
    await page.reload();
    await poll(() => page.getByTestId('nav-library').getAttribute('aria-current')).toBe('page');
    await page.getByTestId('nav-models').click();
    expect(hash()).toBe('#/models');
    await page.goBack();
    await poll(() => page.getByTestId('nav-library').getAttribute('aria-current')).toBe('page');
    expect(hash()).toBe('#/library');
    // The token stays in the query through all of it.
    expect(new URL(page.url()).searchParams.get('token')).toBe(server.token);
    // The wide window is used.
    const box = await page.locator('.view').first().boundingBox();
    expect(box?.width).toBeGreaterThan(1600);
  });

  it('opens a run from a deep link, keeps it through a reload, and the nav item returns to the list', async () => {
    await page.goto(`${server.url}#/history/run/${encodeURIComponent(runId)}`);
    const pill = page.getByTestId('run-status');
    await poll(() => pill.getAttribute('data-run-id')).toBe(runId);
    await page.reload();
    await poll(() => pill.getAttribute('data-status')).toBe('failed');

    // The pill is cut to one line; its title and description carry the whole text, and focus unfolds it.
    const full = await pill.getAttribute('title');
    expect(full).toContain(LONG_ERROR);
    const describedBy = await pill.getAttribute('aria-describedby');
    expect(await page.locator(`[id="${describedBy}"]`).textContent()).toBe(full);
    expect(await pill.evaluate(isCut)).toBe(true);
    await pill.focus();
    expect(await pill.evaluate(isCut)).toBe(false);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'nav-run-deep-link.png') });

    await page.getByTestId('nav-history').click();
    expect(hash()).toBe('#/history');
    await page.getByTestId('history-list').waitFor();
    await page.goBack();
    await poll(() => pill.getAttribute('data-run-id')).toBe(runId);
    expect(hash()).toBe(`#/history/run/${encodeURIComponent(runId)}`);
  });

  it('shows Settings ranges from the schema and asks before dropping unsaved edits', async () => {
    await page.getByTestId('nav-settings').click();
    const stack = sandboxSettingsSchema.shape.stackBytes;
    const hint = page.locator('#field-settings-stack-hint');
    expect(await hint.textContent()).toContain(`${stack.minValue! / 1024}–${stack.maxValue! / 1024} KiB`);
    await page.getByTestId('settings-deadline').fill('5000');

    const questions: string[] = [];
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.getByTestId('nav-ask').click();
    await poll(() => questions.length).toBe(1);
    expect(questions[0]).toMatch(/unsaved changes/);
    expect(hash()).toBe('#/settings');
    expect(await page.getByTestId('settings-deadline').inputValue()).toBe('5000');

    // Back with the browser's button asks as well; staying puts the address back.
    page.once('dialog', (dialog) => {
      questions.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goBack();
    await poll(() => questions.length).toBe(2);
    await poll(hash).toBe('#/settings');
    expect(await page.getByTestId('settings-deadline').inputValue()).toBe('5000');

    // Reloading asks the browser's own question (beforeunload); leaving drops the edit.
    const kinds: string[] = [];
    page.once('dialog', (dialog) => {
      kinds.push(dialog.type());
      void dialog.accept();
    });
    await page.reload();
    expect(kinds).toEqual(['beforeunload']);
    await poll(() => page.getByTestId('settings-deadline').inputValue()).not.toBe('5000');
    expect(hash()).toBe('#/settings');

    // With nothing to lose, leaving asks nothing.
    await page.getByTestId('nav-ask').click();
    await poll(hash).toMatch(/^#\/ask/);
    expect(questions).toHaveLength(2);
  });

  it('uploads dropped and chosen files to the server and indexes them; a search hit opens the passage drawer', async () => {
    await page.getByTestId('nav-library').click();
    // The browser names its own controls: no picker, which only the desktop app has.
    expect(await page.getByTestId('choose-files').count()).toBe(0);
    expect(await page.getByTestId('drop-hint').textContent()).toMatch(/upload them to the Reckon server/);

    await page.getByTestId('upload-files-input').setInputFiles({
      name: 'chosen.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(CHOSEN_NOTE),
    });
    // A drop as the browser delivers it: a DataTransfer holding a File, dispatched on the form.
    await page.evaluate(`(() => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([${JSON.stringify(DROPPED_NOTE)}], 'dropped-note.md', { type: 'text/markdown' }));
      const zone = document.querySelector('[data-testid="add-documents"]');
      for (const type of ['dragenter', 'dragover', 'drop'])
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
    })()`);
    const staged = page.getByTestId('staged-uploads');
    await poll(() => staged.textContent()).toMatch(/2 files to upload/);
    expect(await staged.textContent()).toContain('dropped-note.md');

    await page.getByTestId('corpus-name').fill('dropped');
    await page.getByTestId('ingest-button').click();
    await poll(() => page.getByTestId('ingest-status').textContent()).toMatch(/finished/);
    expect(await staged.count()).toBe(0);

    const uploadsDir = path.join(dataDir, 'uploads');
    const [uploadDir] = fs.readdirSync(uploadsDir).filter((entry) => !entry.endsWith('.part'));
    expect(fs.readFileSync(path.join(uploadsDir, uploadDir!, 'dropped-note.md'), 'utf8')).toBe(DROPPED_NOTE);
    const { documents } = await bridge.invoke('listDocuments', { corpus: 'dropped' });
    expect(documents.map((d) => path.basename(d.path)).sort()).toEqual(['chosen.md', 'dropped-note.md']);

    await page.getByTestId('corpus-dropped').click();
    await page.getByTestId('search-query').fill('lighthouse ships');
    await page.getByTestId('search-button').click();
    await page.getByTestId('search-hit').first().click();
    const drawer = page.getByTestId('passage-view');
    await drawer.waitFor();
    await expect
      .poll(() => page.getByTestId('passage-highlight').textContent())
      .toContain('lighthouse keeper');
    expect(await drawer.textContent()).toContain('dropped-note.md');
    // Opening files on the server's disk is the desktop app's; the browser shows no such action.
    expect(await page.getByTestId('passage-open-file').count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS_DIR, 'nav-library-hit-drawer.png') });
    await page.keyboard.press('Escape');
    await poll(() => drawer.count()).toBe(0);

    // A nav item goes to its view's top, even when that view is showing.
    await page.setViewportSize({ width: 2200, height: 400 });
    await page.evaluate('window.scrollTo({ top: document.body.scrollHeight })');
    expect(await page.evaluate('window.scrollY')).toBeGreaterThan(0);
    await page.getByTestId('nav-library').click();
    await poll(() => page.evaluate('window.scrollY')).toBe(0);
    expect(pageErrors).toEqual([]);
  });
});
