/**
 * The engine side of the AppService port protocol (see AppServicePort.ts): runs in the engine's
 * process, creates the service from the first message and answers every request.
 */
import { EVENT_NAMES } from '../../../preload/contract.ts';
import { createAppService, type AppService } from './AppService.ts';
import type { AppServiceInit, MessagePortLike, PortRequest, PortResponse } from './AppServicePort.ts';
import { dispatchCommand, type DispatchOptions } from './dispatchCommand.ts';

/** Options of runAppServiceHost; all optional. */
export interface AppServiceHostOptions {
  /** Creates the service from the init message. Default: createAppService. */
  createService?: (init: AppServiceInit) => AppService;
  /** Passed to dispatchCommand (validateOutput comes from the init message). Default: {}. */
  dispatch?: Omit<DispatchOptions, 'validateOutput'>;
  /** Called after a 'close' request was handled (the engine process exits here). Default: nothing. */
  onClosed?: () => void;
}

/**
 * The engine side: waits for `{type: 'init'}`, creates the service (default createAppService with
 * the init options) and answers `ready` (or `init-failed`), then runs each `invoke` through
 * dispatchCommand and posts its `result`, forwards every contract event as `event`, and on `close`
 * closes the service and answers `closed`. Invokes that arrive before init are answered with a
 * 'NOT_READY' error. Returns a function that detaches from the port (without closing the service).
 */
export function runAppServiceHost(port: MessagePortLike, options: AppServiceHostOptions = {}): () => void {
  let service: AppService | undefined;
  let dispatch: DispatchOptions = { ...options.dispatch };
  let unsubscribeEvents: (() => void)[] = [];
  const post = (message: PortResponse): void => port.postMessage(message);

  const detach = port.onMessage((raw) => {
    const message = raw as PortRequest;
    if (typeof message !== 'object' || message === null) return;
    if (message.type === 'init') {
      if (service) return;
      try {
        service = (options.createService ?? createAppService)(message.init);
      } catch (error) {
        const reckon = error as { name?: unknown; code?: unknown; message?: unknown };
        post({
          type: 'init-failed',
          error: {
            name: typeof reckon.name === 'string' ? reckon.name : 'ReckonError',
            code: typeof reckon.code === 'string' ? reckon.code : 'INTERNAL',
            message: typeof reckon.message === 'string' ? reckon.message : 'The engine could not start.',
          },
        });
        return;
      }
      dispatch = { ...options.dispatch, validateOutput: message.init.validateOutput ?? false };
      const started = service;
      unsubscribeEvents = EVENT_NAMES.map((name) =>
        started.on(name, (payload: unknown) => post({ type: 'event', name, payload })),
      );
      post({ type: 'ready' });
      return;
    }
    if (message.type === 'invoke') {
      const { id } = message;
      if (!service) {
        post({
          type: 'result',
          id,
          result: {
            ok: false,
            error: {
              name: 'ReckonError',
              code: 'NOT_READY',
              message: 'The engine is still starting; try again in a moment.',
            },
          },
        });
        return;
      }
      void dispatchCommand(service, message.name, message.input, dispatch).then((result) =>
        post({ type: 'result', id, result }),
      );
      return;
    }
    if (message.type === 'close') {
      const { id } = message;
      for (const unsubscribe of unsubscribeEvents) unsubscribe();
      unsubscribeEvents = [];
      void (service?.close() ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => {
          post({ type: 'closed', id });
          options.onClosed?.();
        });
    }
  });
  return () => {
    for (const unsubscribe of unsubscribeEvents) unsubscribe();
    detach();
  };
}
