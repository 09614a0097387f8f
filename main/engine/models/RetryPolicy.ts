/**
 * The one retry policy every LLM backend call goes through: bounded attempts, exponential backoff
 * with full jitter (or the server's Retry-After), a per-call timeout, and caller cancellation.
 *
 * Retryability convention: an error is retried when it carries an own `retryable: true` property
 * (ModelCallError sets it; any backend may set it on its own errors). An explicit
 * `retryable: false` is never retried. Errors without the property are classified by shape:
 * a numeric `status` in RETRYABLE_HTTP_STATUSES, a network `code` (on the error or its causes) in
 * RETRYABLE_NETWORK_CODES, or undici's `TypeError: fetch failed`. ReplayMismatchError and
 * CancelledError are never retried. Servers may suggest a wait with `retryAfterMs`.
 */
import { CancelledError, ModelError, ReplayMismatchError } from '../errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend } from './LlmBackend.ts';
import { DEFAULT_ROLE } from './LlmBackend.ts';
import { abortableSleep } from '../util/abortableSleep.ts';
import { untilAborted } from '../util/untilAborted.ts';

/** Attempts per generate() call, the first one included. */
export const DEFAULT_MAX_ATTEMPTS = 4;
/** Backoff ceiling of the first retry; it doubles with each further attempt. */
export const DEFAULT_BASE_DELAY_MS = 500;
/** No single wait (backoff or Retry-After) is longer than this. */
export const DEFAULT_MAX_DELAY_MS = 20_000;
/** A single generate() attempt is aborted after this long. */
export const DEFAULT_CALL_TIMEOUT_MS = 120_000;

/**
 * HTTP statuses that say "try again later": 408 Request Timeout, 409 Conflict, 425 Too Early,
 * 429 Too Many Requests and every 5xx (checked by isRetryableStatus).
 */
export const RETRYABLE_HTTP_STATUSES: ReadonlySet<number> = new Set([408, 409, 425, 429]);

/** Socket and DNS error codes that are usually transient. */
export const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True for the HTTP statuses worth retrying: RETRYABLE_HTTP_STATUSES and all 5xx. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_HTTP_STATUSES.has(status) || (status >= 500 && status <= 599);
}

/**
 * A failed backend call with what the retry policy needs to know: whether it is worth retrying
 * (`retryable`), the HTTP `status` if there was one, the server's suggested wait (`retryAfterMs`,
 * from Retry-After) and a short `reason` for retry events ("HTTP 429 Too Many Requests").
 * Code: 'MODEL_CALL_FAILED'. Defaults: not retryable, no status, no Retry-After, reason = message.
 */
export class ModelCallError extends ModelError {
  override name = 'ModelCallError';
  readonly retryable: boolean;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly reason: string;

  constructor(
    message: string,
    options: {
      retryable?: boolean;
      status?: number;
      retryAfterMs?: number;
      reason?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause, code: 'MODEL_CALL_FAILED' });
    this.retryable = options.retryable ?? false;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.reason = options.reason ?? message;
  }
}

/** A single attempt took longer than the per-call timeout. Always retryable. */
export class CallTimeoutError extends ModelCallError {
  override name = 'CallTimeoutError';
  constructor(timeoutMs: number) {
    super(`The model did not answer within ${timeoutMs} ms.`, {
      retryable: true,
      reason: `timeout after ${timeoutMs} ms`,
    });
  }
}

export interface RetryPolicyOptions {
  /** Attempts per call, the first one included. Default: DEFAULT_MAX_ATTEMPTS (4). */
  maxAttempts?: number;
  /** Backoff ceiling before the first retry; doubles per attempt. Default: DEFAULT_BASE_DELAY_MS (500). */
  baseDelayMs?: number;
  /** Longest single wait, also caps Retry-After. Default: DEFAULT_MAX_DELAY_MS (20 000). */
  maxDelayMs?: number;
  /** Per-attempt timeout; the inner call's signal fires when it passes. Default: DEFAULT_CALL_TIMEOUT_MS (120 000). */
  timeoutMs?: number;
  /** Uniform [0, 1) source for the jitter. Default: Math.random. */
  random?: () => number;
  /** Waits between attempts; must reject (or return early) when the signal fires. Default: a setTimeout sleep. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Clock for measuring attempts (RetryEvent.elapsedMs). Default: performance.now. */
  now?: () => number;
}

/**
 * Emitted for every failed attempt that was retried, and for the last attempt of a call that had
 * been retried; the last one of such a call has outcome 'giving-up'. A deterministic failure on
 * the first attempt (a non-retryable error: HTTP 400, a replay mismatch) is no retry and emits none.
 */
export interface RetryEvent {
  type: 'retry';
  /** The attempt that failed, 1-based. */
  attempt: number;
  maxAttempts: number;
  /** How long the policy waits before the next attempt; 0 when giving up. */
  delayMs: number;
  /** Short cause: "HTTP 429 Too Many Requests", "timeout after 120000 ms", "ECONNRESET". */
  reason: string;
  role: string;
  outcome: 'retrying' | 'giving-up';
  /** How long the failed attempt ran, by the policy's clock. */
  elapsedMs: number;
}

/**
 * Wraps a backend so that every generate() call follows the retry policy: up to `maxAttempts`
 * (default 4) attempts; between them a wait of `random() * min(maxDelayMs, baseDelayMs * 2^(n-1))`
 * (full jitter; defaults 500 ms base, 20 s cap) or the server's Retry-After capped at maxDelayMs;
 * each attempt aborted after `timeoutMs` (default 120 s) through a signal combined with the
 * caller's. A caller abort throws CancelledError at once. Non-retryable errors are rethrown as they
 * are; when all attempts fail the result is a ModelError with code 'MODEL_UNAVAILABLE' whose cause
 * is the last error. `onRetry` receives a RetryEvent for every failed attempt except a
 * non-retryable failure of the first attempt, which is no retry (default: none).
 */
export function withRetry(
  backend: LlmBackend,
  options: RetryPolicyOptions & { onRetry?: (event: RetryEvent) => void } = {},
): LlmBackend {
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS));
  const baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? abortableSleep;
  const now = options.now ?? (() => performance.now());

  async function generate(request: GenerateOptions): Promise<GenerateResult> {
    const callerSignal = request.signal;
    const role = request.role ?? DEFAULT_ROLE;
    if (callerSignal?.aborted) throw new CancelledError();

    for (let attempt = 1; ; attempt++) {
      // The attempt's signal fires on its timeout or when the caller's does. The caller's is
      // forwarded by a listener removed after the attempt: AbortSignal.any costs several times as
      // much per call on Node 20 and keeps each attempt's signal tied to the run's (issue 12).
      const attemptController = new AbortController();
      const signal = attemptController.signal;
      const timer = setTimeout(() => attemptController.abort(new CallTimeoutError(timeoutMs)), timeoutMs);
      const forward = (): void => attemptController.abort(callerSignal?.reason);
      callerSignal?.addEventListener('abort', forward, { once: true });
      const startedAt = now();
      let failure: unknown;
      try {
        return await untilAborted(backend.generate({ ...request, signal }), signal, { reason: 'signal' });
      } catch (error) {
        failure = error;
      } finally {
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', forward);
      }

      if (callerSignal?.aborted) throw new CancelledError();
      // The inner call may reject with anything once its signal fires (AbortError, our reason,
      // its own CancelledError); what happened is a timeout.
      if (signal.aborted) failure = new CallTimeoutError(timeoutMs);

      const retryable = isRetryable(failure);
      const givingUp = !retryable || attempt >= maxAttempts;
      const delayMs = givingUp ? 0 : backoffDelay(failure, attempt, { baseDelayMs, maxDelayMs, random });
      const reason = describeFailure(failure);
      // A deterministic error on the first attempt is an error, not a retry: it is thrown as is.
      if (!retryable && attempt === 1) throw failure;
      options.onRetry?.({
        type: 'retry',
        attempt,
        maxAttempts,
        delayMs,
        reason,
        role,
        outcome: givingUp ? 'giving-up' : 'retrying',
        elapsedMs: Math.max(0, now() - startedAt),
      });

      if (!retryable) throw failure;
      if (givingUp) {
        throw new ModelError(
          `The model backend failed ${attempt} ${attempt === 1 ? 'time' : 'times'} in a row ` +
            `(last: ${reason}). Check that the model server is running and reachable, or try ` +
            `again later.`,
          { code: 'MODEL_UNAVAILABLE', cause: failure },
        );
      }

      await sleep(delayMs, callerSignal);
      if (callerSignal?.aborted) throw new CancelledError();
    }
  }

  return {
    id: backend.id,
    parallelism: backend.parallelism,
    supportsGrammar: backend.supportsGrammar,
    supportsTokenProbabilities: backend.supportsTokenProbabilities,
    generate,
    dispose: () => backend.dispose(),
  };
}

/**
 * Applies the retryability convention described at the top of this module: an own boolean
 * `retryable` property wins; otherwise HTTP status, network code (on the error or up to four
 * causes deep) and fetch's TypeError decide. ReplayMismatchError and CancelledError never retry.
 */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ReplayMismatchError || error instanceof CancelledError) return false;
  if (!isObject(error)) return false;
  if (typeof error.retryable === 'boolean') return error.retryable;
  if (typeof error.status === 'number') return isRetryableStatus(error.status);
  if (networkCode(error) !== undefined) return true;
  return error instanceof TypeError && /fetch failed/i.test(error.message);
}

/** The short reason shown in RetryEvents and in the final error message. */
export function describeFailure(error: unknown): string {
  if (error instanceof ModelCallError) return error.reason;
  if (!isObject(error)) return 'unknown error';
  if (typeof error.status === 'number') return `HTTP ${error.status}`;
  const code = networkCode(error);
  if (code !== undefined) return code;
  const message = typeof error.message === 'string' ? error.message : 'unknown error';
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}

function backoffDelay(
  failure: unknown,
  attempt: number,
  policy: { baseDelayMs: number; maxDelayMs: number; random: () => number },
): number {
  const retryAfterMs = isObject(failure) ? failure.retryAfterMs : undefined;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) {
    return Math.round(Math.min(policy.maxDelayMs, retryAfterMs));
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(policy.random() * ceiling);
}

function networkCode(error: Record<string, unknown>): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && isObject(current); depth++) {
    if (typeof current.code === 'string' && RETRYABLE_NETWORK_CODES.has(current.code)) {
      return current.code;
    }
    current = current.cause;
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
