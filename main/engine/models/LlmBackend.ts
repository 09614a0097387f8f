/**
 * The one interface every text-generation backend implements (node-llama-cpp, OpenAI-compatible
 * HTTP, replay). Strategies only ever see this, wrapped by the retry policy.
 */

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** A JSON schema (the subset node-llama-cpp's grammar and OpenAI's `response_format` accept). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface GenerateOptions {
  /**
   * Which step of a method is asking ("decompose", "plan", "answer", …). Recorded in traces and
   * checked by the replay backend. Default: "generate".
   */
  role?: string;
  messages: readonly ChatMessage[];
  /** Upper bound on generated tokens. Default: DEFAULT_MAX_TOKENS (512). */
  maxTokens?: number;
  /** Sampling temperature; 0 is greedy. Default: 0. */
  temperature?: number;
  /** Generation stops before any of these strings. Default: none. */
  stop?: readonly string[];
  /** Constrain the output to JSON matching this schema. Default: unconstrained. */
  jsonSchema?: JsonSchema;
  /**
   * Constrain the output to this GBNF grammar (llama.cpp's format, root rule `root`), e.g. the
   * program grammar of buildProgramGrammar. It constrains the generated text only, not a prefill
   * (a trailing assistant message). Always safe to pass: a backend whose `supportsGrammar` is not
   * true ignores it and generates unconstrained, so callers must still check what comes back. Not
   * together with `jsonSchema` (a backend that applies grammars rejects that with ModelError
   * 'INVALID_REQUEST'). Default: unconstrained.
   */
  grammar?: string;
  /**
   * Also return the probability of every generated token (GenerateResult.tokens), as FLARE needs.
   * Only backends whose `supportsTokenProbabilities` is true can; the others reject the request
   * with TokenProbabilitiesUnsupportedError ('TOKEN_PROBABILITIES_UNSUPPORTED') rather than
   * silently returning none. Default: false.
   */
  tokenProbabilities?: boolean;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** One generated token and the probability the model gave it (0–1) when it was chosen. */
export interface TokenProbability {
  /** The token's text; the texts of a result's tokens, joined, give its `text`. */
  text: string;
  /** Probability of this token under the model's next-token distribution (after sampling options). */
  probability: number;
}

export interface GenerateResult {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /**
   * How many of the prompt's tokens were served from the backend's cache (a KV cache still holding
   * an earlier call's identical prefix) instead of being evaluated again; the rest of `promptTokens`
   * was evaluated. Absent when the backend cannot tell (HTTP, replay). Default: absent.
   */
  cachedPromptTokens?: number;
  /** True when the backend could not count tokens and the counts are estimates (replay). Default false. */
  tokensEstimated?: boolean;
  /**
   * Every generated token with its probability, in order; present exactly when the request asked
   * for `tokenProbabilities`. Their texts joined equal `text` (a stop string cut off is not in either).
   */
  tokens?: TokenProbability[];
  /**
   * Something the user should see about this call that did not stop it, e.g. a replay played
   * against a prompt that differs from the recording. Runs show it once as a 'warning' trace event.
   * Default: none.
   */
  warning?: string;
}

export interface LlmBackend {
  /** The spec the backend was created from, e.g. "replay:run.jsonl" or a GGUF path. */
  readonly id: string;
  /** How many generate() calls can usefully run at once (parallel sequences). Default 1. */
  readonly parallelism: number;
  /**
   * True when generate() enforces `GenerateOptions.grammar`; absent or false means the grammar is
   * ignored. Wrappers (retry, recording, caching) forward it. Read it to report whether output was
   * constrained, never to decide whether passing a grammar is safe (it always is). Default: absent.
   */
  readonly supportsGrammar?: boolean;
  /**
   * True when generate() can return token probabilities (`GenerateOptions.tokenProbabilities`):
   * node-llama-cpp, an OpenAI-compatible server that returns `logprobs`, and replay (for lines
   * recorded with them). Wrappers forward it. Default: absent (false).
   */
  readonly supportsTokenProbabilities?: boolean;
  generate(options: GenerateOptions): Promise<GenerateResult>;
  dispose(): Promise<void>;
}

export const DEFAULT_MAX_TOKENS = 512;
export const DEFAULT_ROLE = 'generate';

/**
 * Hands out a model backend for a spec (a .gguf path, openai:<url>#<model>, replay:<file>); the run
 * calls `release` when it ends, so a provider may keep models loaded between runs.
 */
export type LlmProvider = (
  spec: string,
  signal: AbortSignal,
) => Promise<{ backend: LlmBackend; release(): Promise<void> }>;
