/**
 * LlmBackend over an OpenAI-compatible chat-completions endpoint (llama-server, Ollama, vLLM, …).
 * It makes exactly one HTTP request per generate(); retries belong to RetryPolicy, which reads the
 * `retryable`, `status` and `retryAfterMs` of the ModelCallErrors thrown here.
 */
import { z } from 'zod';
import { CancelledError, ModelError, TokenProbabilitiesUnsupportedError } from '../errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend, TokenProbability } from './LlmBackend.ts';
import { DEFAULT_MAX_TOKENS } from './LlmBackend.ts';
import { ModelCallError, RETRYABLE_NETWORK_CODES, isRetryableStatus } from './RetryPolicy.ts';

/** generate() calls worth running at once against one server (llama-server's default slots). */
export const OPENAI_BACKEND_PARALLELISM = 4;
/** Characters per token used to estimate usage when the server reports none. */
export const CHARS_PER_TOKEN_ESTIMATE = 4;

export interface OpenAiBackendOptions {
  /** API root including the version, e.g. "http://127.0.0.1:8080/v1". A trailing slash is ignored. */
  baseUrl: string;
  /** Model name sent in every request, e.g. "qwen2.5-coder". */
  model: string;
  /** Sent as `Authorization: Bearer …`. The caller reads it from settings. Default: no header. */
  apiKey?: string;
  /** fetch implementation (tests, proxies). Default: the global fetch. */
  fetch?: typeof fetch;
  /**
   * The server accepts a GBNF `grammar` field in chat-completion requests (llama-server does;
   * OpenAI, Ollama and vLLM do not, and may reject the request). When true, a request's `grammar`
   * is sent and the backend reports `supportsGrammar: true`; when false the grammar is left out and
   * generation is unconstrained. Default: false.
   */
  supportsGrammar?: boolean;
}

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }).optional(),
        text: z.string().optional(),
        logprobs: z
          .object({
            content: z
              .array(z.object({ token: z.string(), logprob: z.number() }))
              .nullable()
              .optional(),
          })
          .nullable()
          .optional(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative().optional(),
      completion_tokens: z.number().int().nonnegative().optional(),
    })
    .nullable()
    .optional(),
});

/**
 * Creates a backend that POSTs `{baseUrl}/chat/completions` with the messages, `max_tokens`
 * (default DEFAULT_MAX_TOKENS, 512), `temperature` (default 0), `stop` (when given) and, for a
 * jsonSchema, `response_format: {type: 'json_schema', json_schema: {name: 'output', schema,
 * strict: true}}`, and for a grammar the GBNF text as `grammar` — only when
 * `options.supportsGrammar` (default false) says the server takes it; otherwise the grammar is
 * ignored. With `tokenProbabilities` it sends `logprobs: true` and returns the first choice's
 * `logprobs.content[].{token, logprob}` as `tokens` (probability = e^logprob); a server that answers
 * without them is a TokenProbabilitiesUnsupportedError (not retried). Returns the first choice's
 * text and the reported usage (estimated from lengths when absent). HTTP failures throw
 * ModelCallError with `status`, `retryable` (408/409/425/429/5xx) and `retryAfterMs`; unreachable
 * servers throw a retryable ModelCallError; the request's signal aborts the fetch (CancelledError).
 * Parallelism: OPENAI_BACKEND_PARALLELISM (4).
 */
export function createOpenAiBackend(options: OpenAiBackendOptions): LlmBackend {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const endpoint = `${baseUrl}/chat/completions`;
  const doFetch = options.fetch ?? fetch;
  const supportsGrammar = options.supportsGrammar ?? false;

  async function generate(request: GenerateOptions): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new CancelledError();
    const body: Record<string, unknown> = {
      model: options.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
      temperature: request.temperature ?? 0,
      stream: false,
    };
    if (request.stop && request.stop.length > 0) body.stop = [...request.stop];
    if (request.tokenProbabilities === true) body.logprobs = true;
    if (request.jsonSchema) {
      body.response_format = {
        type: 'json_schema',
        json_schema: { name: 'output', schema: request.jsonSchema, strict: true },
      };
    }
    // A grammar is a hint the caller may always pass; only a server known to take it gets it.
    if (supportsGrammar && request.grammar !== undefined) {
      if (request.jsonSchema) {
        throw new ModelError(
          'A request can be constrained by a JSON schema or by a grammar, not both. Pass only one of jsonSchema and grammar.',
          { code: 'INVALID_REQUEST' },
        );
      }
      body.grammar = request.grammar;
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

    let response: Response;
    let raw: string;
    try {
      response = await doFetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: request.signal,
      });
      raw = await response.text();
    } catch (error) {
      if (request.signal?.aborted) throw new CancelledError();
      const code = errorCode(error);
      throw new ModelCallError(
        `Could not reach the model server at ${baseUrl}${code ? ` (${code})` : ''}. ` +
          `Check that it is running and that the URL is right.`,
        {
          // A refused or reset connection is usually a server still starting; an unknown host
          // (ENOTFOUND) is a typo that no retry will fix.
          retryable: code === undefined || RETRYABLE_NETWORK_CODES.has(code),
          reason: code ?? 'network error',
          cause: error,
        },
      );
    }

    if (!response.ok) {
      const serverMessage = extractServerMessage(raw);
      const statusLine = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
      throw new ModelCallError(
        `The model server at ${baseUrl} answered ${statusLine}` +
          `${serverMessage ? `: ${serverMessage}` : '.'}${hintForStatus(response.status)}`,
        {
          status: response.status,
          retryable: isRetryableStatus(response.status),
          retryAfterMs: parseRetryAfterMs(response.headers.get('retry-after')),
          reason: statusLine,
        },
      );
    }

    let parsed: z.infer<typeof completionSchema>;
    try {
      parsed = completionSchema.parse(JSON.parse(raw));
    } catch (error) {
      throw new ModelError(
        `The model server at ${baseUrl} sent a response that is not an OpenAI chat completion ` +
          `(${raw.slice(0, 200)}). Is the base URL pointing at the /v1 API?`,
        { cause: error },
      );
    }
    const choice = parsed.choices[0];
    const text = choice?.message?.content ?? choice?.text ?? '';
    // Some servers (older Ollama, proxies) omit usage; the metrics still want a number, so we
    // estimate from character counts (~4 characters per token for English and code).
    const promptChars = request.messages.reduce((sum, m) => sum + m.content.length, 0);
    let tokens: TokenProbability[] | undefined;
    if (request.tokenProbabilities === true) {
      const content = choice?.logprobs?.content;
      if (!content)
        throw new TokenProbabilitiesUnsupportedError(
          `The model server at ${baseUrl} answered without logprobs`,
        );
      tokens = content.map((entry) => ({ text: entry.token, probability: Math.exp(entry.logprob) }));
    }
    return {
      text,
      promptTokens: parsed.usage?.prompt_tokens ?? Math.ceil(promptChars / CHARS_PER_TOKEN_ESTIMATE),
      completionTokens: parsed.usage?.completion_tokens ?? Math.ceil(text.length / CHARS_PER_TOKEN_ESTIMATE),
      ...(tokens ? { tokens } : {}),
    };
  }

  return {
    id: `openai:${baseUrl}#${options.model}`,
    parallelism: OPENAI_BACKEND_PARALLELISM,
    supportsGrammar,
    // Servers that implement `logprobs` (llama-server, vLLM, OpenAI) return them; one that does not
    // fails the request with TokenProbabilitiesUnsupportedError.
    supportsTokenProbabilities: true,
    generate,
    dispose: async () => {},
  };
}

/**
 * Parses a Retry-After header: delay-seconds ("120") or an HTTP date, as milliseconds from `now`
 * (default Date.now()), never negative. Undefined when absent or unparsable.
 */
export function parseRetryAfterMs(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function extractServerMessage(raw: string): string | undefined {
  const trimmed = raw.trim();
  if (trimmed === '') return undefined;
  try {
    const json: unknown = JSON.parse(trimmed);
    if (typeof json === 'object' && json !== null && 'error' in json) {
      const error = (json as { error: unknown }).error;
      if (typeof error === 'string') return error; // Ollama
      if (typeof error === 'object' && error !== null && 'message' in error) {
        const message = (error as { message: unknown }).message;
        if (typeof message === 'string') return message; // OpenAI, llama-server, vLLM
      }
    }
    if (typeof json === 'object' && json !== null && 'message' in json) {
      const message = (json as { message: unknown }).message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Not JSON: fall through to the raw text.
  }
  return trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed;
}

function hintForStatus(status: number): string {
  if (status === 401 || status === 403) return ' Check the API key.';
  if (status === 404) return ' Check the base URL (it usually ends in /v1) and the model name.';
  return '';
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
