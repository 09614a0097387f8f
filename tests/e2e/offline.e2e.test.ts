/**
 * Reckon with no network. `npm run test:e2e` runs the whole E2E suite in a network namespace with
 * only loopback where it can (see runE2e.ts), so the UI session in app.e2e.test.ts (`reckon serve`,
 * the page in Chromium, ingestion, a replay run) and the CLI smoke run here all happen offline; a
 * change that makes any of them reach the network fails. The first test proves the namespace has no
 * route, so the others cannot pass offline by accident.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT, RUNNING_OFFLINE } from './e2eEnvironment.ts';
import { runReckon } from '../fixtures/runReckon.ts';
import { QUESTION, replayFileContent } from '../fixtures/pyragReplayScript.ts';

/** An address on the internet (Cloudflare's resolver) that a machine with a route can reach. */
const OUTSIDE_ADDRESS = '1.1.1.1';
/** Longest wait for one CLI command (ingestion of the 20-question sample takes seconds). */
const COMMAND_TIMEOUT_MS = 120_000;

let tmp: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'reckon-offline-'));
  fs.mkdirSync(path.join(tmp, 'models'));
  env = { ...process.env, RECKON_HOME: path.join(tmp, 'data'), RECKON_MODELS_DIR: path.join(tmp, 'models') };
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function connectError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 5_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('offline', () => {
  it.runIf(RUNNING_OFFLINE)('runs in a network namespace with no route out', async () => {
    expect(await connectError(OUTSIDE_ADDRESS, 443)).toBe('ENETUNREACH');
    await expect(dns.lookup('registry.npmjs.org')).rejects.toThrow();
    // Loopback is up: `reckon serve` and Chromium need it.
    const server = net.createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as net.AddressInfo;
    expect(await connectError('127.0.0.1', port)).toBe('connected');
    server.close();
  });

  it('ingests the sample corpus, searches it and answers from a replay file with the CLI', async () => {
    const sample = path.join(REPO_ROOT, 'corpora', 'hotpotqa-sample');
    const ingest = await runReckon(['ingest', sample, '--corpus', 'sample', '--quiet'], env, {
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
    expect(ingest.code, ingest.stderr).toBe(0);
    expect(ingest.stdout).toMatch(/Corpus "sample": 1 added/);

    const search = await runReckon(
      ['search', 'Scott Derrickson nationality', '--corpus', 'sample', '--json'],
      env,
      { timeoutMs: COMMAND_TIMEOUT_MS },
    );
    expect(search.code, search.stderr).toBe(0);
    const hits = (JSON.parse(search.stdout) as { hits: { title: string }[] }).hits;
    expect(hits.map((hit) => hit.title)).toContain('Scott Derrickson');

    const replay = path.join(tmp, 'pyrag.jsonl');
    fs.writeFileSync(replay, replayFileContent({ slow: false }));
    const ask = await runReckon(
      [
        'ask',
        QUESTION,
        '--corpus',
        'sample',
        '--model',
        `replay:${replay}`,
        '--retry-base-ms',
        '1',
        '--json',
      ],
      env,
      { timeoutMs: COMMAND_TIMEOUT_MS },
    );
    expect(ask.code, ask.stderr).toBe(0);
    expect(JSON.parse(ask.stdout)).toMatchObject({ status: 'succeeded', answer: 'yes' });
  });
});
