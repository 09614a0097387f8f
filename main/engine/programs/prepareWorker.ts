/**
 * The worker thread of ProgramPreparer: prepares programs (parse, analysis, instrumentation) off
 * the engine's thread, so that a large or pathological program can delay only itself, and a
 * preparation that runs past its deadline is stopped by terminating this worker.
 *
 *   host → worker  {id, code, options}
 *   worker → host  {id, result: PrepareProgramResult}
 */
import { parentPort } from 'node:worker_threads';
import {
  prepareProgramSafely,
  type PrepareProgramOptions,
  type PrepareProgramResult,
} from './prepareProgram.ts';

export interface PrepareRequest {
  id: number;
  code: string;
  options: PrepareProgramOptions;
}

export interface PrepareResponse {
  id: number;
  result: PrepareProgramResult;
}

const port = parentPort;
if (!port) throw new Error('prepareWorker.ts must run in a worker thread.');
port.on('message', (request: PrepareRequest) => {
  const result = prepareProgramSafely(request.code, request.options);
  port.postMessage({ id: request.id, result } satisfies PrepareResponse);
});
