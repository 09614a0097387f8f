/**
 * What every E2E file does around its tests: a bridge of its own to the server (to check what the
 * page shows against the server's record), cleanups run newest first, and a screenshot plus the
 * server's stderr when a test fails.
 */
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { TestContext } from 'vitest';
import { WebSocket } from 'ws';
import { createWebSocketBridge, type BridgeSocket, type WebSocketBridge } from '../../renderer/src/bridge.ts';
import { ARTIFACTS_DIR } from './e2eEnvironment.ts';
import type { ReckonServer } from './startReckonServer.ts';

/** A WebSocket bridge to `server`, authenticated like the page. */
export function connectBridge(server: ReckonServer): WebSocketBridge {
  return createWebSocketBridge({
    url: `ws://127.0.0.1:${server.port}/bridge?token=${server.token}`,
    createSocket: (url) => new WebSocket(url) as unknown as BridgeSocket,
  });
}

/** Runs `cleanups` newest first (the bridge and browser before the server, the server before its folder); a failing one is logged, the rest still run. */
export async function runCleanups(cleanups: (() => unknown)[]): Promise<void> {
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('e2e cleanup failed:', error);
    }
  }
}

/** For beforeEach: when the test fails, a full-page screenshot `FAILED-<test>.png` and the server's stderr. */
export function screenshotOnFailure(
  { task, onTestFailed }: Pick<TestContext, 'task' | 'onTestFailed'>,
  page: () => Page | undefined,
  server: () => ReckonServer | undefined,
): void {
  onTestFailed(async () => {
    const name = `FAILED-${task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`;
    await page()
      ?.screenshot({ path: path.join(ARTIFACTS_DIR, `${name}.png`), fullPage: true })
      .catch(() => {});
    console.error(`e2e: screenshot ${name}.png; server stderr:\n${server()?.stderr() ?? '(no server)'}`);
  });
}
