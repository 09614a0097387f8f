/**
 * The in-process backend: a GGUF model run by llama.cpp through node-llama-cpp. One model, one
 * context with several sequences so independent generate() calls run at once (sharing llama_decode
 * calls or taking turns, see DecodeBatching), and a small pool that hands each call the free
 * sequence whose KV cache already holds the longest prefix of its prompt (prompts are laid out
 * append-only, so the static part is reused).
 */
import { stat } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import {
  GeneralChatWrapper,
  getLlama,
  InsufficientMemoryError,
  LlamaChat,
  LlamaGrammarEvaluationState,
  LlamaLogLevel,
  NoBinaryFoundError,
  resolveChatWrapper,
} from 'node-llama-cpp';
import type {
  BatchItem,
  ChatHistoryItem,
  ChatWrapper,
  GbnfJsonObjectSchema,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
  LlamaText,
  PrioritizedBatchItem,
  Token,
} from 'node-llama-cpp';
import { CancelledError, ModelError, ModelNotFoundError, throwIfAborted } from '../errors.ts';
import { DEFAULT_MAX_TOKENS } from './LlmBackend.ts';
import type {
  ChatMessage,
  GenerateOptions,
  GenerateResult,
  JsonSchema,
  LlmBackend,
  TokenProbability,
} from './LlmBackend.ts';
import { defaultInferenceThreads } from './physicalCores.ts';
import { DEFAULT_CONTEXT_SIZE, DEFAULT_GPU_LAYERS, DEFAULT_SEQUENCES } from './llamaDefaults.ts';

export { DEFAULT_CONTEXT_SIZE, DEFAULT_GPU_LAYERS, DEFAULT_SEQUENCES };

/** How long a failed load waits for llama.cpp's (asynchronously delivered) error lines. */
const LOG_SETTLE_MS = 20;

/**
 * How the pending tokens of the context's sequences are put into llama_decode calls.
 * - 'merged': every sequence's pending tokens in one call (node-llama-cpp's 'maximumParallelism').
 *   A call of k tokens reads each weight once, so it pays when decoding waits on memory (GPUs,
 *   large models on many cores) or when more threads can share a call's arithmetic.
 * - 'perSequence': one sequence's tokens per call, the sequences taking turns in the order they
 *   asked. Parallel calls then cost what the same calls one after another cost, and never more.
 *
 * On one CPU thread merging costs more than it saves: llama.cpp multiplies Q8_0 weights by 2+
 * tokens with llamafile's tinyBLAS, which is bound by arithmetic, and its repacked formats (Q4_0,
 * Q4_K, Q6_K…) run fewer than 4 tokens as one matrix-vector product per token. Measured on a 2-core
 * AMD EPYC (Qwen2.5-0.5B widths, Q8_0, 1 thread): a merged step of 2 sequences took 2.8–4.1× and of
 * 4 took 4.4–5.7× one sequence's step; `npm run bench -- --only llm-parallel` shows merged parallel
 * decoding at 0.8–0.9× serial and taking turns at ~1.0×. With 2 threads merged steps split their
 * arithmetic over both cores while the event loop idles, and merged decoding measured 1.3–3.8× its
 * serial speed when the machine was otherwise quiet (0.5× under load).
 */
export type DecodeBatching = 'merged' | 'perSequence';
/** Decode batching with one CPU thread and no GPU layers: see DecodeBatching for the measurements. */
export const DEFAULT_SINGLE_THREAD_DECODE_BATCHING: DecodeBatching = 'perSequence';
/** Decode batching with GPU layers or more than one CPU thread. */
export const DEFAULT_DECODE_BATCHING: DecodeBatching = 'merged';

export interface LlamaCppBackendOptions {
  /** Path of the .gguf file. */
  modelPath: string;
  /** CPU threads for decoding. Default: defaultInferenceThreads() — physical cores less one, at least 1; never the logical (hyper-thread) count. */
  threads?: number;
  /** Context tokens per sequence. Default: DEFAULT_CONTEXT_SIZE (4096), clamped to the model's training context. */
  contextSize?: number;
  /** Parallel sequences, i.e. how many generate() calls run at once. Default: DEFAULT_SEQUENCES (2). */
  sequences?: number;
  /** Layers to offload to a GPU, or 'auto' to let node-llama-cpp decide. Default: DEFAULT_GPU_LAYERS (0, CPU only). */
  gpuLayers?: number | 'auto';
  /** How the sequences' tokens share llama_decode calls. Default: DEFAULT_SINGLE_THREAD_DECODE_BATCHING ('perSequence') with 1 thread and gpuLayers 0, else DEFAULT_DECODE_BATCHING ('merged'). */
  decodeBatching?: DecodeBatching;
  /** Cancels loading; a fired signal rejects with CancelledError. Default: none. */
  signal?: AbortSignal;
}

interface Slot {
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  busy: boolean;
}

interface Waiter {
  resolve: (slot: Slot) => void;
  reject: (error: Error) => void;
}

/**
 * One llama.cpp runtime per process (per GPU mode), shared by every backend and never disposed by
 * them. node-llama-cpp routes llama.cpp's native log only for the first runtime a process creates:
 * after a second getLlama() the native side falls back to printing, errors to *stdout*, which would
 * corrupt the CLI's JSON. An idle runtime holds next to nothing and does not keep the process alive.
 */
const sharedLlamas = new Map<string, Promise<Llama>>();
/** Error lines collected for loads in progress, so a failed load can say *why*. */
const loadLogCollectors = new Set<string[]>();

function onLlamaLog(level: LlamaLogLevel, message: string): void {
  const text = message.trim();
  if (text === '') return;
  if (loadLogCollectors.size === 0) {
    // stderr only: the CLI prints JSON on stdout.
    process.stderr.write(`[llama.cpp ${level}] ${text}\n`);
    return;
  }
  for (const collector of loadLogCollectors) collector.push(text);
}

async function sharedLlama(gpu: boolean): Promise<Llama> {
  const key = gpu ? 'gpu' : 'cpu';
  const existing = sharedLlamas.get(key);
  if (existing !== undefined) {
    const llama = await existing.catch(() => undefined);
    if (llama !== undefined && !llama.disposed) return llama;
    sharedLlamas.delete(key);
  }
  const created = getLlama({
    // false skips probing for CUDA/Vulkan/Metal entirely.
    gpu: gpu ? 'auto' : false,
    // No internet and no compiler is the normal case on user machines: never try to build.
    build: 'never',
    logLevel: LlamaLogLevel.error,
    logger: onLlamaLog,
    // No cap here: each context states its thread count, and with maxThreads 0 it is used as is.
    maxThreads: 0,
  });
  sharedLlamas.set(key, created);
  try {
    return await created;
  } catch (error) {
    sharedLlamas.delete(key);
    if (error instanceof NoBinaryFoundError) {
      throw new ModelError(
        'No llama.cpp binary for this machine was found in node-llama-cpp. Reinstall the app, or use an OpenAI-compatible server with --model http://…',
        { cause: error, code: 'BACKEND_UNAVAILABLE' },
      );
    }
    throw new ModelError(`Could not start llama.cpp: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * Loads the GGUF at `options.modelPath` once and returns an LlmBackend over it. Defaults: threads =
 * defaultInferenceThreads(), contextSize = DEFAULT_CONTEXT_SIZE (4096, clamped to the training context),
 * sequences = DEFAULT_SEQUENCES (2, which is also `parallelism`), gpuLayers = DEFAULT_GPU_LAYERS (0),
 * decodeBatching = 'perSequence' with 1 thread and no GPU layers, else 'merged' (see DecodeBatching).
 * Messages are rendered with the model's own chat template, or a plain "### User / ### Assistant"
 * layout when the file has none. A missing, unreadable or invalid file rejects with
 * ModelNotFoundError; a fired `signal` with CancelledError; anything else while loading with
 * ModelError. Generation maps `temperature: 0` to greedy sampling without a repeat penalty.
 * `jsonSchema` and `grammar` (GBNF) requests are constrained by llama.cpp's grammar sampler
 * (`supportsGrammar` is true); each distinct schema or grammar text is compiled once and kept for
 * the backend's lifetime. A grammar llama.cpp cannot parse rejects with ModelError 'INVALID_GRAMMAR',
 * both at once with 'INVALID_REQUEST'. With `tokenProbabilities` (`supportsTokenProbabilities` is
 * true) the reply is decoded token by token on the sequence (LlamaContextSequence.evaluateWithMetadata
 * with `confidence`), so each token comes back with the probability llama.cpp gave it; the chat
 * template's stop triggers, `stop` strings, grammars and maxTokens apply as in the normal path.
 * Every result says how many of its prompt tokens the sequence's KV cache already held
 * (`cachedPromptTokens`): a call whose prompt starts like an earlier one evaluates only the rest.
 * dispose() frees the context and the model; the llama.cpp runtime stays shared (see sharedLlamas).
 */
export async function createLlamaCppBackend(options: LlamaCppBackendOptions): Promise<LlmBackend> {
  const { modelPath, signal } = options;
  const threads = positiveInteger(options.threads, defaultInferenceThreads(), 'threads');
  const sequences = positiveInteger(options.sequences, DEFAULT_SEQUENCES, 'sequences');
  const requestedContextSize = positiveInteger(options.contextSize, DEFAULT_CONTEXT_SIZE, 'contextSize');
  const gpuLayers = options.gpuLayers ?? DEFAULT_GPU_LAYERS;
  const decodeBatching =
    options.decodeBatching ??
    (gpuLayers === 0 && threads === 1 ? DEFAULT_SINGLE_THREAD_DECODE_BATCHING : DEFAULT_DECODE_BATCHING);
  if (decodeBatching !== 'merged' && decodeBatching !== 'perSequence') {
    throw new ModelError(`decodeBatching must be 'merged' or 'perSequence'; got ${String(decodeBatching)}.`, {
      code: 'INVALID_OPTION',
    });
  }

  throwIfAborted(signal);
  await assertModelFileExists(modelPath);

  const llama = await sharedLlama(gpuLayers !== 0);
  const loadErrors: string[] = [];
  loadLogCollectors.add(loadErrors);

  let model: LlamaModel | undefined;
  let context: LlamaContext | undefined;
  try {
    try {
      model = await llama.loadModel({ modelPath, gpuLayers, loadSignal: signal });
    } catch (error) {
      throwIfAborted(signal);
      // llama.cpp's log lines reach JS asynchronously, after the rejection; let them arrive.
      await delay(LOG_SETTLE_MS);
      throw invalidModelError(modelPath, error, loadErrors);
    }
    throwIfAborted(signal);

    const trainContextSize = model.trainContextSize > 0 ? model.trainContextSize : requestedContextSize;
    const contextSize = Math.min(requestedContextSize, trainContextSize);
    try {
      context = await model.createContext({
        contextSize,
        sequences,
        threads,
        batching: {
          itemPrioritizationStrategy:
            decodeBatching === 'merged' ? 'maximumParallelism' : oneSequencePerBatch,
        },
        createSignal: signal,
      });
    } catch (error) {
      throwIfAborted(signal);
      if (error instanceof InsufficientMemoryError) {
        throw new ModelError(
          `Not enough memory for ${sequences} sequence(s) of ${contextSize} tokens. Use a smaller context size, fewer sequences or a smaller model.`,
          { cause: error, code: 'OUT_OF_MEMORY' },
        );
      }
      throw new ModelError(`Could not create a llama.cpp context for ${modelPath}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    throwIfAborted(signal);
  } catch (error) {
    await context?.dispose().catch(() => undefined);
    await model?.dispose().catch(() => undefined);
    throw error;
  } finally {
    loadLogCollectors.delete(loadErrors);
  }

  return new LlamaCppBackend(modelPath, llama, model, context, sequences);
}

class LlamaCppBackend implements LlmBackend {
  readonly id: string;
  readonly parallelism: number;
  readonly supportsGrammar = true;
  readonly supportsTokenProbabilities = true;
  private readonly chatWrapper: ChatWrapper;
  private readonly slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly disposeController = new AbortController();
  private disposed = false;

  constructor(
    modelPath: string,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    sequences: number,
  ) {
    this.id = modelPath;
    this.parallelism = sequences;
    // The file's own template when it has one (resolved to node-llama-cpp's matching wrapper or a
    // Jinja renderer); otherwise a plain layout rather than a guess from the file name or BOS token.
    this.chatWrapper =
      model.fileInfo.metadata.tokenizer?.chat_template !== undefined
        ? resolveChatWrapper(model)
        : new GeneralChatWrapper();
    for (let i = 0; i < sequences; i++) {
      const sequence = context.getSequence();
      this.slots.push({
        sequence,
        chat: new LlamaChat({ contextSequence: sequence, chatWrapper: this.chatWrapper }),
        busy: false,
      });
    }
  }

  generate(options: GenerateOptions): Promise<GenerateResult> {
    const run = this.run(options);
    this.inFlight.add(run);
    void run.then(
      () => this.inFlight.delete(run),
      () => this.inFlight.delete(run),
    );
    return run;
  }

  private async run(options: GenerateOptions): Promise<GenerateResult> {
    const { signal } = options;
    throwIfAborted(signal);
    if (this.disposed) throw new ModelError('The model was unloaded.', { code: 'MODEL_DISPOSED' });

    const history = toChatHistory(options.messages);
    const contextState = this.chatWrapper.generateContextState({ chatHistory: history });
    const promptTokens = contextState.contextText.tokenize(this.model.tokenizer);
    const contextSize = this.context.contextSize;
    if (promptTokens.length >= contextSize) {
      throw new ModelError(
        `The prompt is ${promptTokens.length} tokens but the model's context holds ${contextSize}. Retrieve fewer or shorter chunks, or use a larger context size.`,
        { code: 'CONTEXT_OVERFLOW' },
      );
    }
    // Never let generation push the prompt out of the context (llama.cpp would silently drop its start).
    const maxTokens = Math.min(
      positiveInteger(options.maxTokens, DEFAULT_MAX_TOKENS, 'maxTokens'),
      contextSize - promptTokens.length,
    );
    const grammar = await this.grammarOf(options);
    const stops = (options.stop ?? []).filter((stop) => stop !== '');

    const combined =
      signal === undefined
        ? this.disposeController.signal
        : AbortSignal.any([signal, this.disposeController.signal]);
    const slot = await this.acquire(promptTokens, combined);
    try {
      // Both paths keep the cached prefix and evaluate the rest (at least the last token, whose
      // logits pick the first reply token): LlamaChat aligns the sequence to the prompt the same way.
      const cachedPromptTokens = Math.min(
        slot.sequence.compareContextTokens(promptTokens).firstDifferentIndex,
        promptTokens.length - 1,
      );
      if (options.tokenProbabilities === true) {
        return await this.decodeWithProbabilities(slot, promptTokens, {
          maxTokens,
          temperature: options.temperature ?? 0,
          grammar,
          stops,
          stopTriggers: contextState.stopGenerationTriggers,
          signal: combined,
          cachedPromptTokens,
        });
      }
      const outputBefore = slot.sequence.tokenMeter.usedOutputTokens;
      const response = await slot.chat.generateResponse(history, {
        maxTokens,
        temperature: options.temperature ?? 0,
        repeatPenalty: false,
        grammar,
        customStopTriggers: stops.length > 0 ? stops : undefined,
        signal: combined,
      });
      return {
        text: response.response,
        promptTokens: promptTokens.length,
        completionTokens: slot.sequence.tokenMeter.usedOutputTokens - outputBefore,
        cachedPromptTokens,
      };
    } catch (error) {
      if (combined.aborted) throw this.cancelledError(signal);
      throw new ModelError(`Generation failed: ${messageOf(error)}`, { cause: error });
    } finally {
      this.release(slot);
    }
  }

  /**
   * Generates on `slot`'s sequence token by token with node-llama-cpp's evaluateWithMetadata
   * (`confidence`: the probability of each chosen token), keeping the KV cache's shared prefix with
   * the prompt. LlamaChat has no per-token probabilities, so this path does the chat's job itself:
   * it stops at an end-of-generation token, at the template's stop triggers (matched on text, or on
   * tokens for special ones), at a `stop` string (cut off, as in the normal path) or at maxTokens.
   * Token texts are the differences between successive detokenizations, so they join to the text
   * (a token that ends inside a multi-byte character gets "" and the next one carries it).
   */
  private async decodeWithProbabilities(
    slot: Slot,
    promptTokens: Token[],
    options: {
      maxTokens: number;
      temperature: number;
      grammar: LlamaGrammar | undefined;
      stops: readonly string[];
      stopTriggers: readonly LlamaText[];
      signal: AbortSignal;
      /** Prompt tokens the sequence's cache already holds (kept, not evaluated again). */
      cachedPromptTokens: number;
    },
  ): Promise<GenerateResult> {
    const { sequence } = slot;
    const textStops = [...options.stops];
    const tokenStops: Token[][] = [];
    for (const trigger of options.stopTriggers) {
      if (trigger.values.every((value) => typeof value === 'string')) {
        const text = trigger.values.join('');
        if (text !== '') textStops.push(text);
      } else {
        const tokens = trigger.tokenize(this.model.tokenizer, 'trimLeadingSpace');
        if (tokens.length > 0) tokenStops.push(tokens);
      }
    }
    // Reuse the cached prefix; at least one prompt token must be evaluated to get a next token.
    const keep = options.cachedPromptTokens;
    if (sequence.nextTokenIndex > keep)
      await sequence.eraseContextTokenRanges([{ start: keep, end: sequence.nextTokenIndex }]);
    const grammarEvaluationState =
      options.grammar !== undefined
        ? new LlamaGrammarEvaluationState({ model: this.model, grammar: options.grammar })
        : undefined;

    const generated: Token[] = [];
    const tokens: TokenProbability[] = [];
    let text = '';
    let stopAt: number | undefined;
    const iterator = sequence.evaluateWithMetadata(
      promptTokens.slice(keep),
      { confidence: true },
      {
        temperature: options.temperature,
        ...(grammarEvaluationState !== undefined ? { grammarEvaluationState } : {}),
      },
    );
    for await (const item of iterator) {
      if (options.signal.aborted) break;
      generated.push(item.token);
      if (tokenStops.some((stop) => endsWith(generated, stop))) break;
      const full = this.model.detokenize(generated);
      // An incomplete multi-byte character decodes as U+FFFD until its last byte arrives.
      const piece = full.endsWith('\uFFFD') ? '' : full.slice(text.length);
      text += piece;
      tokens.push({ text: piece, probability: item.confidence });
      const cut = firstStop(text, textStops, text.length - piece.length);
      if (cut !== undefined) {
        stopAt = cut;
        break;
      }
      if (generated.length >= options.maxTokens) break;
    }
    if (options.signal.aborted) throw new CancelledError();
    if (stopAt !== undefined) {
      // Drop what follows the stop string from the text and from the tokens that carried it.
      text = text.slice(0, stopAt);
      let at = 0;
      const kept: TokenProbability[] = [];
      for (const token of tokens) {
        if (at >= stopAt) break;
        kept.push({ ...token, text: token.text.slice(0, stopAt - at) });
        at += token.text.length;
      }
      tokens.splice(0, tokens.length, ...kept);
    }
    return {
      text,
      promptTokens: promptTokens.length,
      completionTokens: generated.length,
      cachedPromptTokens: keep,
      tokens,
    };
  }

  /** The free sequence whose cache shares the longest prefix with `tokens`, or the next to free up. */
  private acquire(tokens: Token[], signal: AbortSignal): Promise<Slot> {
    let best: Slot | undefined;
    let bestShared = -1;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const shared = slot.sequence.compareContextTokens(tokens).firstDifferentIndex;
      if (shared > bestShared) {
        best = slot;
        bestShared = shared;
      }
    }
    if (best !== undefined) {
      best.busy = true;
      return Promise.resolve(best);
    }
    return new Promise<Slot>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(new CancelledError());
      };
      const waiter: Waiter = {
        resolve: (slot) => {
          signal.removeEventListener('abort', onAbort);
          resolve(slot);
        },
        reject: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(slot: Slot): void {
    const next = this.waiters.shift();
    if (next !== undefined && !this.disposed) next.resolve(slot);
    else slot.busy = false;
  }

  /** The compiled grammar a request asks for: from its JSON schema, its GBNF text, or none. */
  private grammarOf(options: GenerateOptions): Promise<LlamaGrammar | undefined> {
    if (options.jsonSchema !== undefined && options.grammar !== undefined) {
      throw new ModelError(
        'A request can be constrained by a JSON schema or by a grammar, not both. Pass only one of jsonSchema and grammar.',
        { code: 'INVALID_REQUEST' },
      );
    }
    if (options.jsonSchema !== undefined) return this.jsonSchemaGrammar(options.jsonSchema);
    if (options.grammar !== undefined) return this.gbnfGrammar(options.grammar);
    return Promise.resolve(undefined);
  }

  private jsonSchemaGrammar(schema: JsonSchema): Promise<LlamaGrammar> {
    // The cast only satisfies the generic signature; node-llama-cpp checks the schema at runtime.
    return this.cachedGrammar(`json:${stableStringify(schema)}`, () =>
      this.llama.createGrammarForJsonSchema(schema as GbnfJsonObjectSchema).catch((error: unknown) => {
        throw new ModelError(`This JSON schema cannot be turned into a grammar: ${messageOf(error)}`, {
          cause: error,
          code: 'UNSUPPORTED_SCHEMA',
        });
      }),
    );
  }

  private gbnfGrammar(text: string): Promise<LlamaGrammar> {
    return this.cachedGrammar(`gbnf:${text}`, () =>
      this.llama.createGrammar({ grammar: text }).catch((error: unknown) => {
        throw new ModelError(
          `llama.cpp rejected the GBNF grammar (${messageOf(error)}). Check the grammar text; its root rule must be named "root".`,
          { cause: error, code: 'INVALID_GRAMMAR' },
        );
      }),
    );
  }

  /** One compiled grammar per key for the backend's lifetime; a failed compile is not cached. */
  private cachedGrammar(key: string, create: () => Promise<LlamaGrammar>): Promise<LlamaGrammar> {
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar = create().catch((error: unknown) => {
        this.grammars.delete(key);
        throw error;
      });
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  private cancelledError(signal: AbortSignal | undefined): CancelledError {
    return signal?.aborted === true
      ? new CancelledError()
      : new CancelledError('Cancelled: the model was unloaded.');
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const waiter of this.waiters.splice(0))
      waiter.reject(new CancelledError('Cancelled: the model was unloaded.'));
    this.disposeController.abort();
    await Promise.allSettled([...this.inFlight]);
    for (const slot of this.slots) slot.chat.dispose();
    await this.context.dispose();
    await this.model.dispose();
    // The llama.cpp runtime is shared by the process; see sharedLlamas.
  }
}

/**
 * node-llama-cpp's batch prioritization for 'perSequence' decode batching: the first pending item
 * of the highest evaluation priority, as much of it as fits. node-llama-cpp queues items in the
 * order sequences ask and keeps decoding while any are pending, so the sequences take turns (a
 * sequence that was just decoded queues its next token behind the others).
 */
export function oneSequencePerBatch({
  items,
  size,
}: {
  items: readonly BatchItem[];
  size: number;
}): PrioritizedBatchItem[] {
  let chosen: BatchItem | undefined;
  for (const item of items) {
    if (chosen === undefined || item.evaluationPriority > chosen.evaluationPriority) chosen = item;
  }
  return chosen === undefined ? [] : [{ item: chosen, processAmount: Math.min(chosen.tokens.length, size) }];
}

/**
 * node-llama-cpp's history: system and user items as text, and a trailing model item to fill in. A
 * trailing assistant message is a prefill: the model continues it.
 */
function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  if (messages.length === 0) {
    throw new ModelError('generate() needs at least one message.', { code: 'INVALID_REQUEST' });
  }
  const history: ChatHistoryItem[] = messages.map((message): ChatHistoryItem => {
    switch (message.role) {
      case 'system':
        return { type: 'system', text: message.content };
      case 'user':
        return { type: 'user', text: message.content };
      case 'assistant':
        return { type: 'model', response: [message.content] };
    }
  });
  if (messages[messages.length - 1]?.role !== 'assistant') history.push({ type: 'model', response: [] });
  return history;
}

async function assertModelFileExists(modelPath: string): Promise<void> {
  let isFile: boolean;
  try {
    isFile = (await stat(modelPath)).isFile();
  } catch (error) {
    throw new ModelNotFoundError(
      `No model file at ${modelPath}. Put a .gguf file in the models folder or pass --model <path>.`,
      { cause: error },
    );
  }
  if (!isFile) {
    throw new ModelNotFoundError(
      `${modelPath} is a folder, not a model file. Put a .gguf file in the models folder or pass --model <path>.`,
    );
  }
}

function invalidModelError(
  modelPath: string,
  error: unknown,
  logLines: readonly string[],
): ModelNotFoundError {
  // llama.cpp says why in its log ("error loading model: …"); node-llama-cpp only says it failed.
  const reason =
    logLines
      .map((line) => /error loading model: (.*)$/.exec(line)?.[1])
      .find((line): line is string => line !== undefined) ?? messageOf(error);
  return new ModelNotFoundError(
    `${modelPath} could not be loaded as a GGUF model (${reason}). The file may be incomplete or not a model; download it again or choose another .gguf file with --model <path>.`,
    { cause: error },
  );
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 1) {
    throw new ModelError(`${name} must be a positive number; got ${value}.`, { code: 'INVALID_OPTION' });
  }
  return Math.floor(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : 'unknown error';
}

/** Whether `tokens` ends with `suffix`. */
function endsWith(tokens: readonly Token[], suffix: readonly Token[]): boolean {
  if (suffix.length > tokens.length) return false;
  const offset = tokens.length - suffix.length;
  return suffix.every((token, i) => tokens[offset + i] === token);
}

/** Where the first stop string in `text` starts, searching stops that may end after `from`. */
function firstStop(text: string, stops: readonly string[], from: number): number | undefined {
  let best: number | undefined;
  for (const stop of stops) {
    const index = text.indexOf(stop, Math.max(0, from - stop.length + 1));
    if (index !== -1 && (best === undefined || index < best)) best = index;
  }
  return best;
}

/** JSON with object keys sorted, so equal schemas share one compiled grammar. */
function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  );
}
