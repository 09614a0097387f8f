/**
 * The engine-process protocol over a real structured-clone channel (worker_threads MessageChannel),
 * with a small fake service: init, invokes matched by id, events, close, and a crash.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { connectAppService, type MessagePortLike } from '../../main/engine/app/AppServicePort.ts';
import { runAppServiceHost } from '../../main/engine/app/runAppServiceHost.ts';
import type { AppService, ServiceListener } from '../../main/engine/app/AppService.ts';
import type { EventName } from '../../preload/contract.ts';

const channels: MessageChannel[] = [];

function portOf(port: MessagePort): MessagePortLike {
  return {
    postMessage: (message) => port.postMessage(message),
    onMessage: (listener) => {
      port.on('message', listener);
      return () => port.off('message', listener);
    },
  };
}

function fakeService(): AppService & { closed: boolean; emit(name: EventName, payload: unknown): void } {
  const listeners = new Map<string, Set<ServiceListener<EventName>>>();
  const service = {
    closed: false,
    async handle(name: string) {
      if (name === 'listCorpora') return { corpora: [] };
      throw new Error(`not faked: ${name}`);
    },
    on(event: EventName, listener: ServiceListener<EventName>) {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    async close() {
      service.closed = true;
    },
    emit(name: EventName, payload: unknown) {
      for (const listener of listeners.get(name) ?? []) listener(payload as never);
    },
  };
  return service as unknown as AppService & {
    closed: boolean;
    emit(name: EventName, payload: unknown): void;
  };
}

afterEach(() => {
  for (const channel of channels.splice(0)) {
    channel.port1.close();
    channel.port2.close();
  }
});

describe('AppService over a message port', () => {
  it('creates the service from init, runs commands through dispatchCommand, forwards events and closes', async () => {
    const channel = new MessageChannel();
    channels.push(channel);
    const service = fakeService();
    let initSeen: unknown;
    let closedCalls = 0;
    runAppServiceHost(portOf(channel.port1), {
      createService: (init) => {
        initSeen = init;
        return service;
      },
      dispatch: { onUnexpectedError: () => {} },
      onClosed: () => closedCalls++,
    });
    const connection = connectAppService(portOf(channel.port2), {
      dataDir: '/d',
      modelsDir: '/m',
      host: 'electron',
      validateOutput: true,
    });
    await connection.ready;
    expect(initSeen).toEqual({ dataDir: '/d', modelsDir: '/m', host: 'electron', validateOutput: true });

    const [ok, bad, unknown, thrown] = await Promise.all([
      connection.invoke('listCorpora', {}),
      connection.invoke('listCorpora', { extra: 1 }),
      connection.invoke('rm -rf', {}),
      connection.invoke('getAppInfo', {}),
    ]);
    expect(ok).toEqual({ ok: true, value: { corpora: [] } });
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_COMMAND' } });
    expect(thrown).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });

    const seen: unknown[] = [];
    connection.onEvent((name, payload) => seen.push([name, payload]));
    service.emit('onDidRecordTraceStep', { runId: 'r', seq: 0 });
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(seen).toEqual([['onDidRecordTraceStep', { runId: 'r', seq: 0 }]]);

    await connection.close(2_000);
    expect(service.closed).toBe(true);
    expect(closedCalls).toBe(1);
  });

  it('reports a failed start and answers waiting commands when the process dies', async () => {
    const channel = new MessageChannel();
    channels.push(channel);
    runAppServiceHost(portOf(channel.port1), {
      createService: () => {
        throw Object.assign(new Error('The data folder is read-only.'), {
          name: 'ReckonError',
          code: 'DATA_DIR_READONLY',
        });
      },
    });
    const connection = connectAppService(portOf(channel.port2), {
      dataDir: '/d',
      modelsDir: '/m',
      host: 'electron',
    });
    await expect(connection.ready).rejects.toMatchObject({
      code: 'DATA_DIR_READONLY',
      message: 'The data folder is read-only.',
    });
    const waiting = connection.invoke('listCorpora', {});
    expect(await waiting).toMatchObject({ ok: false, error: { code: 'NOT_READY' } });

    // A host that never answers (a crashed process): failPending resolves what waits.
    const silent = new MessageChannel();
    channels.push(silent);
    const orphan = connectAppService(portOf(silent.port2), {
      dataDir: '/d',
      modelsDir: '/m',
      host: 'electron',
    });
    const pending = orphan.invoke('listCorpora', {});
    orphan.failPending({ name: 'ReckonError', code: 'ENGINE_CRASHED', message: 'gone' });
    expect(await pending).toEqual({
      ok: false,
      error: { name: 'ReckonError', code: 'ENGINE_CRASHED', message: 'gone' },
    });
  });
});
