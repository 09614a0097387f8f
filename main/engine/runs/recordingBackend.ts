/**
 * Puts every model call of a run on the record: an 'llm-call' trace event with tokens and duration,
 * and the exact output in the run store for replay. Retries are reported by the retry policy
 * itself through retryEventsTo(), so the intended composition is
 * `recordingBackend(withRetry(raw, { onRetry: retryEventsTo(recorder) }), recorder, { store })`:
 * one 'llm-call' per logical call, however many attempts it took. To keep the failed attempts too
 * (so a replay fails the same way and the retries reappear), put failedAttemptRecorder() inside the
 * retry policy: `recordingBackend(withRetry(failedAttemptRecorder(raw)), …)`.
 */
import { promptFingerprint } from '../models/ReplayBackend.ts';
import type { GenerateOptions, GenerateResult, LlmBackend } from '../models/LlmBackend.ts';
import { DEFAULT_ROLE } from '../models/LlmBackend.ts';
import type { RetryEvent } from '../models/RetryPolicy.ts';
import type { RunWriter } from './RunStore.ts';
import type { TraceRecorder } from './TraceRecorder.ts';

export interface RecordingBackendOptions {
  /** Where model outputs are kept for replay (RunStore.recordModelOutput). Default: the recorder's store, if any. */
  store?: RunWriter;
  /** Clock for measuring each call's durationMs. Default: performance.now (monotonic). */
  now?: () => number;
}

/** Totals over the successful calls made through a recording backend. */
export interface LlmCallStats {
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
}

/** The logical call an attempt belongs to, set by recordingBackend for the attempts under it. */
interface CallScope {
  callIndex: number;
  role: string;
  promptSha256: string;
  attempts: number;
  recordFailure(failure: { attempt: number; status: number; message: string; retryAfterMs?: number }): void;
}

/**
 * Where recordingBackend puts the scope of a call on the request it passes down. Wrappers between it
 * and failedAttemptRecorder pass the request on (withRetry and countingBackend do; an object spread
 * copies the key), so no AsyncLocalStorage is needed: on Node 20 that turns on promise hooks for
 * the whole process, which made every promise of a question slower (issue 12).
 */
const CALL_SCOPE: unique symbol = Symbol('reckon.llmCallScope');

/** A request as recordingBackend passes it down, with the scope of its call. */
type ScopedRequest = GenerateOptions & { [CALL_SCOPE]?: CallScope };

/**
 * Wraps the raw backend, inside the retry policy, so that every failed attempt that carries an
 * HTTP `status` (429, 503, a 400…) is recorded for the call it belongs to (RunStore
 * recordModelFailure, through the recordingBackend above it, which names the call on the request
 * it passes down: wrappers in between must pass the request on). Failures without a status (timeouts,
 * connection errors, cancellation) are not recorded: a replay cannot reproduce them as they were.
 * Attempts outside a recordingBackend's call pass through untouched.
 */
export function failedAttemptRecorder(backend: LlmBackend): LlmBackend {
  return {
    id: backend.id,
    parallelism: backend.parallelism,
    ...(backend.supportsGrammar !== undefined ? { supportsGrammar: backend.supportsGrammar } : {}),
    ...(backend.supportsTokenProbabilities !== undefined
      ? { supportsTokenProbabilities: backend.supportsTokenProbabilities }
      : {}),
    async generate(request) {
      const scope = (request as ScopedRequest)[CALL_SCOPE];
      const attempt = scope ? ++scope.attempts : 0;
      try {
        return await backend.generate(request);
      } catch (error) {
        const status = (error as { status?: unknown } | null)?.status;
        if (scope && typeof status === 'number' && status >= 100 && status <= 599) {
          const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
          scope.recordFailure({
            attempt,
            status,
            message: error instanceof Error ? error.message : String(status),
            ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
          });
        }
        throw error;
      }
    },
    dispose: () => backend.dispose(),
  };
}

/** An LlmBackend that records its calls, with running totals for the run's metrics. */
export type RecordingBackend = LlmBackend & { stats(): LlmCallStats };

/**
 * Wraps `backend` so that every successful generate() records its output with its prompt's
 * fingerprint (promptFingerprint; store:
 * options.store ?? recorder.store; nothing is stored without one) and then emits an 'llm-call'
 * event with callIndex, role (request.role ?? DEFAULT_ROLE), token counts and durationMs (by
 * options.now, default performance.now). callIndex is the call's position in the order generate()
 * was *called*, 0-based, taken before the inner backend is called: parallel calls finish in any
 * order, but the replay backend serves lines in call order, so that is the order recorded. A
 * failed call keeps its index (leaving a gap) and its error propagates unchanged; nothing is
 * recorded for it. stats() sums the successful calls. id, parallelism and dispose() pass through.
 */
export function recordingBackend(
  backend: LlmBackend,
  recorder: TraceRecorder,
  options: RecordingBackendOptions = {},
): RecordingBackend {
  const store = options.store ?? recorder.store;
  const now = options.now ?? (() => performance.now());
  const totals: LlmCallStats = { llmCalls: 0, promptTokens: 0, completionTokens: 0 };
  let nextCallIndex = 0;
  const warned = new Set<string>();

  async function generate(request: GenerateOptions): Promise<GenerateResult> {
    const callIndex = nextCallIndex++;
    const role = request.role ?? DEFAULT_ROLE;
    const promptSha256 = promptFingerprint(request.messages);
    const scope: CallScope = {
      callIndex,
      role,
      promptSha256,
      attempts: 0,
      recordFailure: (failure) =>
        store?.recordModelFailure?.(recorder.runId, { callIndex, role, promptSha256, ...failure }),
    };
    const startedAt = now();
    const scoped: ScopedRequest = { ...request, [CALL_SCOPE]: scope };
    const result = await backend.generate(scoped);
    const durationMs = Math.max(0, now() - startedAt);
    const output = {
      callIndex,
      role,
      output: result.text,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      promptSha256,
      ...(result.tokens ? { tokens: result.tokens } : {}),
    };
    // The recorder's own store gets it with the step the llm-call event below ends.
    if (store === recorder.store) recorder.recordModelOutput(output);
    else store?.recordModelOutput(recorder.runId, output);
    // A backend's warning (a replay played against changed prompts) is shown once per run.
    if (result.warning !== undefined && !warned.has(result.warning)) {
      warned.add(result.warning);
      recorder.emit({ type: 'warning', message: result.warning });
    }
    totals.llmCalls++;
    totals.promptTokens += result.promptTokens;
    totals.completionTokens += result.completionTokens;
    recorder.emit({
      type: 'llm-call',
      callIndex,
      role,
      promptTokens: result.promptTokens,
      completionTokens: result.completionTokens,
      durationMs,
    });
    return result;
  }

  return {
    id: backend.id,
    parallelism: backend.parallelism,
    ...(backend.supportsGrammar !== undefined ? { supportsGrammar: backend.supportsGrammar } : {}),
    ...(backend.supportsTokenProbabilities !== undefined
      ? { supportsTokenProbabilities: backend.supportsTokenProbabilities }
      : {}),
    generate,
    dispose: () => backend.dispose(),
    stats: () => ({ ...totals }),
  };
}

/** Totals over every attempt made through a counting backend, failed ones included. */
export interface LlmAttemptStats {
  /** Attempts, successful or not (a call retried twice counts three). */
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** True when any attempt's token counts were estimates (GenerateResult.tokensEstimated). */
  tokensEstimated: boolean;
}

/**
 * Wraps `backend` so that every generate() attempt is counted: put it *inside* the retry policy
 * (`withRetry(countingBackend(raw))`) and each retried or failed attempt counts as a model call, as
 * the papers count them. Tokens are summed over the attempts that returned a result (a failed
 * attempt reports none). id, parallelism and dispose() pass through.
 */
export function countingBackend(backend: LlmBackend): LlmBackend & { stats(): LlmAttemptStats } {
  const totals: LlmAttemptStats = {
    llmCalls: 0,
    promptTokens: 0,
    completionTokens: 0,
    tokensEstimated: false,
  };
  return {
    id: backend.id,
    parallelism: backend.parallelism,
    ...(backend.supportsGrammar !== undefined ? { supportsGrammar: backend.supportsGrammar } : {}),
    ...(backend.supportsTokenProbabilities !== undefined
      ? { supportsTokenProbabilities: backend.supportsTokenProbabilities }
      : {}),
    async generate(request) {
      totals.llmCalls++;
      const result = await backend.generate(request);
      totals.promptTokens += result.promptTokens;
      totals.completionTokens += result.completionTokens;
      if (result.tokensEstimated) totals.tokensEstimated = true;
      return result;
    },
    dispose: () => backend.dispose(),
    stats: () => ({ ...totals }),
  };
}

/**
 * The `onRetry` callback for withRetry that turns each RetryEvent into a 'retry' trace event on
 * `recorder` (role, attempt, maxAttempts, delayMs, reason, outcome; the policy's elapsedMs is not
 * part of the trace). No defaults.
 */
export function retryEventsTo(recorder: TraceRecorder): (event: RetryEvent) => void {
  return (event) => {
    recorder.emit({
      type: 'retry',
      role: event.role,
      attempt: event.attempt,
      maxAttempts: event.maxAttempts,
      delayMs: event.delayMs,
      reason: event.reason,
      outcome: event.outcome,
    });
  };
}
