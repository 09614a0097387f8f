/**
 * Errors that cross a boundary (CLI exit, IPC, trace) are ReckonErrors: a stable `code` the UI and
 * scripts can branch on, a message that says what happened and what to do next, and the `cause`.
 * Subclasses exist only where a caller must act differently.
 */
export class ReckonError extends Error {
  override name = 'ReckonError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  /** A plain, serializable shape for JSON output and IPC. */
  toJSON(): { name: string; code: string; message: string } {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** A model file or folder that was asked for is not there or cannot be loaded. */
export class ModelNotFoundError extends ReckonError {
  override name = 'ModelNotFoundError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_NOT_FOUND', message, options);
  }
}

/** A model loaded but failed while generating or embedding. */
export class ModelError extends ReckonError {
  override name = 'ModelError';
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'MODEL_ERROR', message, options);
  }
}

/** A replay file ran out of outputs or its next output was recorded for another step. */
export class ReplayMismatchError extends ReckonError {
  override name = 'ReplayMismatchError';
  constructor(message: string) {
    super('REPLAY_MISMATCH', message);
  }
}

/** The backends that can return token probabilities, as TokenProbabilitiesUnsupportedError names them. */
export const TOKEN_PROBABILITY_BACKENDS =
  'a local GGUF model (node-llama-cpp), an OpenAI-compatible server that returns logprobs (llama-server, vLLM, OpenAI), or a replay file recorded with token probabilities';

/**
 * A request asked for token probabilities (GenerateOptions.tokenProbabilities) that the backend
 * cannot give. Methods that need them (FLARE) cannot run on it; the message says which backends can.
 */
export class TokenProbabilitiesUnsupportedError extends ReckonError {
  override name = 'TokenProbabilitiesUnsupportedError';
  /** `what` says what could not report them, e.g. "The model server at http://… did not return logprobs". */
  constructor(what: string) {
    super(
      'TOKEN_PROBABILITIES_UNSUPPORTED',
      `${what}, so token probabilities are not available. Methods that need them (FLARE) run on ${TOKEN_PROBABILITY_BACKENDS}.`,
    );
  }
}

/** Another process holds the writer lock of a data directory. */
export class WriterLockedError extends ReckonError {
  override name = 'WriterLockedError';
  constructor(message: string) {
    super('WRITER_LOCKED', message);
  }
}

/** A named corpus does not exist. */
export class CorpusNotFoundError extends ReckonError {
  override name = 'CorpusNotFoundError';
  constructor(corpus: string) {
    super(
      'CORPUS_NOT_FOUND',
      `There is no corpus named "${corpus}". Create it with: reckon ingest <paths…> --corpus ${corpus}`,
    );
  }
}

/** A file could not be parsed; ingestion records the reason and goes on with the next file. */
export class ParseError extends ReckonError {
  override name = 'ParseError';
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The vector index on disk does not match the store (dimension, model, generation, checksum). */
export class IndexMismatchError extends ReckonError {
  override name = 'IndexMismatchError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INDEX_MISMATCH', message, options);
  }
}

/** Work stopped because its AbortSignal fired. */
export class CancelledError extends ReckonError {
  override name = 'CancelledError';
  constructor(message = 'Cancelled.') {
    super('CANCELLED', message);
  }
}

/** A network download (model pull) could not complete. */
export class DownloadError extends ReckonError {
  override name = 'DownloadError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('DOWNLOAD_FAILED', message, options);
  }
}

/** Turns anything thrown into a ReckonError without losing the original as `cause`. */
export function toReckonError(error: unknown, fallbackCode = 'INTERNAL'): ReckonError {
  if (error instanceof ReckonError) return error;
  if (error instanceof Error && error.name === 'AbortError') return new CancelledError();
  const message = error instanceof Error ? error.message : 'An unexpected non-error value was thrown.';
  return new ReckonError(fallbackCode, message, { cause: error });
}

/** Throws CancelledError when the signal has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}
