/**
 * The results of one program execution's tool calls, by call inputs, and the calls of a later
 * execution that were served from an earlier one. PyRAG's boosted re-run reuses the first run's
 * calls through it; an edited program re-run (rerunProgram) reuses the recorded calls of the run it
 * came from. A call is reused only when its inputs are identical (same key), and each recorded
 * result serves at most one call, in call order, so a loop that asks the same thing twice gets the
 * two results it got before.
 */
import type { RetrievedDoc } from '../sandbox/SandboxTypes.ts';

/** Results by call key, each list in call order. */
export type ToolResultsByKey<T> = ReadonlyMap<string, readonly T[]>;

/** The key of a retrieve() call: the query and the k the search ran with (after any boost). */
export function retrieveCallKey(query: string, k: number): string {
  return JSON.stringify(['retrieve', query, k]);
}

/** The key of an answer() call: the question and the documents given (ids and texts). */
export function answerCallKey(question: string, docs: readonly RetrievedDoc[]): string {
  return JSON.stringify(['answer', question, docs.map((doc) => [doc.id, doc.text])]);
}

export class ToolResultCache<T> {
  /** This execution's results by call key, in call order (what a later execution may reuse). */
  readonly results = new Map<string, T[]>();
  /** Call indexes of this execution that were served from `previous`. */
  readonly cached = new Set<number>();
  readonly #previous: ToolResultsByKey<T> | undefined;
  readonly #served = new Map<string, number>();

  /** `previous`: the results calls may be served from. Default: none (every call runs). */
  constructor(previous?: ToolResultsByKey<T>) {
    this.#previous = previous;
  }

  /**
   * The next unused earlier result for `key`, marking call `callIndex` cached; undefined when there
   * is none left (the call must run).
   */
  reuse(key: string, callIndex: number): T | undefined {
    const results = this.#previous?.get(key);
    const used = this.#served.get(key) ?? 0;
    if (!results || used >= results.length) return undefined;
    this.#served.set(key, used + 1);
    this.cached.add(callIndex);
    return results[used];
  }

  /** Keeps a call's result (served or fresh) for a later execution. */
  remember(key: string, result: T): void {
    const list = this.results.get(key) ?? [];
    list.push(result);
    this.results.set(key, list);
  }

  /** Whether call `callIndex` was served from `previous` (the trace marks it cached). */
  isCached(callIndex: number): boolean {
    return this.cached.has(callIndex);
  }
}
