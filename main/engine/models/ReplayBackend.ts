/**
 * LlmBackend that plays back a recorded JSONL of model outputs, one line per generate() call, in
 * order. It makes any run reproducible and is the test double for everything above the backend.
 *
 * Line format: {"output": "...", "role"?: "plan", "delayMs"?: 20, "error"?: {"status": 503,
 * "message": "...", "retryAfterMs"?: 0}}. A line with `role` must be consumed by a call with that
 * role. A line with `error` makes its call fail the way the HTTP backend would (a ModelCallError,
 * retryable for 408/409/425/429/5xx), so tests can script failures for the retry policy. A line
 * may carry the token probabilities it was recorded with, `"tokens": [{"text": "Paris",
 * "probability": 0.93}, …]` (when `output` is left out, it is their texts joined); a call that asks
 * for `tokenProbabilities` gets them, and one served a line without them fails with
 * TokenProbabilitiesUnsupportedError.
 *
 * A file exported from a run (RunStore.exportReplay) starts with a header line, {"format":
 * "reckon-replay", "version": 1, "question", "strategy", "calls", "fingerprint": "sha256:…"}, and
 * each of its lines carries `promptSha256`, the promptFingerprint of the messages the call was made
 * with. A call whose messages hash differently is a ReplayMismatchError (REPLAY_MISMATCH) naming
 * the call, its role and what the recording was made for — or, with `onMismatch: 'warn'`, played
 * anyway with a warning on its result. A hand-written script has neither and plays unchecked.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import {
  CancelledError,
  ModelNotFoundError,
  ReckonError,
  ReplayMismatchError,
  TokenProbabilitiesUnsupportedError,
} from '../errors.ts';
import type { GenerateOptions, GenerateResult, LlmBackend, TokenProbability } from './LlmBackend.ts';
import { DEFAULT_ROLE } from './LlmBackend.ts';
import { ModelCallError, isRetryableStatus } from './RetryPolicy.ts';
import { abortableSleep } from '../util/abortableSleep.ts';

/** Replayed calls run one at a time so that lines are consumed in a deterministic order. */
export const REPLAY_BACKEND_PARALLELISM = 1;

/** One line of a replay file, as validated. */
export const replayLineSchema = z
  .object({
    output: z.string().optional(),
    role: z.string().min(1).optional(),
    /** promptFingerprint of the recorded call's messages; checked against each call when present. */
    promptSha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
    delayMs: z.number().int().nonnegative().optional(),
    tokens: z
      .array(z.object({ text: z.string(), probability: z.number().min(0).max(1) }).strict())
      .optional(),
    error: z
      .object({
        status: z.number().int().min(100).max(599),
        message: z.string(),
        retryAfterMs: z.number().nonnegative().optional(),
      })
      .optional(),
  })
  .refine((line) => line.output !== undefined || line.tokens !== undefined || line.error !== undefined, {
    message: 'a line needs an "output" string (or "tokens", or an "error" object)',
  });

export type ReplayLine = z.infer<typeof replayLineSchema>;

/** `format` of a replay file's header line. */
export const REPLAY_HEADER_FORMAT = 'reckon-replay';
/** `version` of a replay file's header line. */
export const REPLAY_HEADER_VERSION = 1;

/** The header line of a replay file exported from a run. */
export const replayHeaderSchema = z.object({
  format: z.literal(REPLAY_HEADER_FORMAT),
  version: z.literal(REPLAY_HEADER_VERSION),
  /** The question the run was asked. */
  question: z.string(),
  /** The strategy id it ran with. */
  strategy: z.string(),
  /** Model calls (lines after the header, failed attempts included). */
  calls: z.number().int().nonnegative(),
  /** replayFingerprint of the lines' promptSha256 values, in order. */
  fingerprint: z.string().regex(/^sha256:[0-9a-f]{64}$/),
});
export type ReplayHeader = z.infer<typeof replayHeaderSchema>;

/** What a replay call does when its prompt differs from the recorded one. */
export type ReplayMismatchPolicy = 'error' | 'warn';

export interface ReplayBackendOptions {
  /** Path of the JSONL file (relative paths resolve from the working directory). */
  file: string;
  /**
   * A call whose messages differ from the recording (promptSha256): 'error' throws
   * ReplayMismatchError, 'warn' plays the recorded output and sets GenerateResult.warning.
   * Default: 'error'.
   */
  onMismatch?: ReplayMismatchPolicy;
}

/** A parsed replay file: its header (null for a hand-written script) and its lines. */
export interface ReplayScript {
  header: ReplayHeader | null;
  lines: { lineNumber: number; line: ReplayLine }[];
}

/**
 * The fingerprint of one call's prompt: lower-case hex SHA-256 of its messages as
 * `[[role, content], …]` JSON. Sampling settings, grammars and schemas are not part of it.
 */
export function promptFingerprint(messages: readonly { role: string; content: string }[]): string {
  return createHash('sha256')
    .update(JSON.stringify(messages.map((message) => [message.role, message.content])))
    .digest('hex');
}

/** The header's fingerprint of a replay file: `sha256:` + SHA-256 of its lines' prompt fingerprints joined by "\n" ("-" for a line without one). */
export function replayFingerprint(promptSha256s: readonly (string | undefined)[]): string {
  return `sha256:${createHash('sha256')
    .update(promptSha256s.map((hash) => hash ?? '-').join('\n'))
    .digest('hex')}`;
}

/**
 * Reads and validates a replay file (see createReplayBackend for the errors: ModelNotFoundError
 * for an unreadable file, ReckonError 'BAD_REPLAY_FILE' for a bad line or a header whose call count
 * or fingerprint does not match its lines).
 */
export async function readReplayScript(file: string): Promise<ReplayScript> {
  return parseReplayScript(await readReplayFile(file), file);
}

interface NumberedLine {
  lineNumber: number;
  line: ReplayLine;
}

/**
 * Reads and validates the whole replay file up front (a bad line is a ReckonError
 * 'BAD_REPLAY_FILE' naming its line number; a missing file is a ModelNotFoundError), then serves
 * one line per generate() call. A role mismatch or running out of lines is a ReplayMismatchError.
 * Token counts are estimates: whitespace-separated words of the prompt and of the output.
 * Blank lines are skipped. Parallelism: REPLAY_BACKEND_PARALLELISM (1). A request's `grammar` is
 * ignored (`supportsGrammar: false`): the recorded output is the output.
 */
export async function createReplayBackend(options: ReplayBackendOptions): Promise<LlmBackend> {
  const { header, lines } = await readReplayScript(options.file);
  const onMismatch = options.onMismatch ?? 'error';
  let next = 0;
  let calls = 0;
  let warned = false;

  async function generate(request: GenerateOptions): Promise<GenerateResult> {
    if (request.signal?.aborted) throw new CancelledError();
    calls++;
    const role = request.role ?? DEFAULT_ROLE;
    const entry = lines[next];
    if (entry === undefined) {
      throw new ReplayMismatchError(
        `replay file ${options.file} has ${lines.length} outputs; call ${calls} (role "${role}") has none. ` +
          `Record the run again or answer with a real model.`,
      );
    }
    const { line, lineNumber } = entry;
    if (line.role !== undefined && line.role !== role) {
      throw new ReplayMismatchError(
        `replay file ${options.file} line ${lineNumber} was recorded for role "${line.role}", ` +
          `but call ${calls} asked for role "${role}". The method or its prompts changed since ` +
          `the recording; record the run again.`,
      );
    }
    next++;
    let mismatch: string | undefined;
    if (line.promptSha256 !== undefined && line.promptSha256 !== promptFingerprint(request.messages)) {
      mismatch = describeMismatch(options.file, header, calls, role, lineNumber, request);
      if (onMismatch === 'error') throw new ReplayMismatchError(mismatch);
    }
    if (line.delayMs !== undefined && line.delayMs > 0) await abortableSleep(line.delayMs, request.signal);

    if (line.error !== undefined) {
      const { status, message, retryAfterMs } = line.error;
      const statusLine = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
      throw new ModelCallError(`Replayed failure (line ${lineNumber}): ${statusLine}: ${message}`, {
        status,
        retryable: isRetryableStatus(status),
        retryAfterMs,
        reason: statusLine,
      });
    }

    // One warning per replay, on the first result it can travel with: every later prompt usually
    // differs for the same reason.
    let warning: string | undefined;
    if (mismatch !== undefined && !warned) {
      warning = `Replayed anyway: ${mismatch}`;
      warned = true;
    }
    const text = line.output ?? line.tokens?.map((token) => token.text).join('') ?? '';
    if (request.tokenProbabilities === true && line.tokens === undefined) {
      throw new TokenProbabilitiesUnsupportedError(
        `replay file ${options.file} line ${lineNumber} was recorded without token probabilities`,
      );
    }
    return {
      text,
      promptTokens: request.messages.reduce((sum, m) => sum + countWords(m.content), 0),
      completionTokens: line.tokens?.length ?? countWords(text),
      tokensEstimated: true,
      ...(request.tokenProbabilities === true && line.tokens
        ? { tokens: line.tokens.map((token) => ({ ...token })) }
        : {}),
      ...(warning !== undefined ? { warning } : {}),
    };
  }

  return {
    id: `replay:${options.file}`,
    parallelism: REPLAY_BACKEND_PARALLELISM,
    // Recorded outputs are played back as they are: a request's grammar (or schema) changes nothing.
    supportsGrammar: false,
    // A file recorded with probabilities has them on its lines; one with none cannot give any.
    supportsTokenProbabilities: lines.some((entry) => entry.line.tokens !== undefined),
    generate,
    dispose: async () => {},
  };
}

/**
 * Formats one replay line (without the trailing newline; join lines with "\n"). Fields are
 * written in a stable order (output, role, promptSha256, tokens), each optional one only when given.
 */
export function formatReplayLine(record: {
  output: string;
  role?: string;
  promptSha256?: string;
  tokens?: readonly TokenProbability[];
}): string {
  return JSON.stringify({
    output: record.output,
    ...(record.role !== undefined ? { role: record.role } : {}),
    ...(record.promptSha256 !== undefined ? { promptSha256: record.promptSha256 } : {}),
    ...(record.tokens !== undefined
      ? { tokens: record.tokens.map((token) => ({ text: token.text, probability: token.probability })) }
      : {}),
  });
}

/** Formats a recorded failed attempt as a replay line that fails the same way (see the module comment). */
export function formatReplayFailureLine(record: {
  status: number;
  message: string;
  retryAfterMs?: number;
  role?: string;
  promptSha256?: string;
}): string {
  return JSON.stringify({
    error: {
      status: record.status,
      message: record.message,
      ...(record.retryAfterMs !== undefined ? { retryAfterMs: record.retryAfterMs } : {}),
    },
    ...(record.role !== undefined ? { role: record.role } : {}),
    ...(record.promptSha256 !== undefined ? { promptSha256: record.promptSha256 } : {}),
  });
}

/** Formats a replay header line for lines with these prompt fingerprints (see replayHeaderSchema). */
export function formatReplayHeader(record: {
  question: string;
  strategy: string;
  promptSha256s: readonly (string | undefined)[];
}): string {
  const header: ReplayHeader = {
    format: REPLAY_HEADER_FORMAT,
    version: REPLAY_HEADER_VERSION,
    question: record.question,
    strategy: record.strategy,
    calls: record.promptSha256s.length,
    fingerprint: replayFingerprint(record.promptSha256s),
  };
  return JSON.stringify(header);
}

/** What a mismatched call is told: which call, and what the recording was made for. */
function describeMismatch(
  file: string,
  header: ReplayHeader | null,
  call: number,
  role: string,
  lineNumber: number,
  request: GenerateOptions,
): string {
  const differs: string[] = [];
  if (header !== null) {
    const asked = request.messages.some((message) => message.content.includes(header.question));
    differs.push(
      asked
        ? `it was recorded for the same question with strategy "${header.strategy}"; the strategy, its options, the corpus or the prompts have changed`
        : `it was recorded for the question "${header.question}" (strategy "${header.strategy}"), which this prompt does not contain`,
    );
  }
  return (
    `Call ${call} (role "${role}") was asked a different prompt than the one recorded on line ` +
    `${lineNumber} of the replay file ${file}${differs.length > 0 ? `: ${differs.join('; ')}` : ''}. ` +
    `Record the run again with a model, or replay anyway (reckon: --force-replay) to see what the ` +
    `recorded outputs do with the new prompts.`
  );
}

/**
 * Replay files up to this size (bytes) are read in one call on the calling thread: a read through
 * the thread pool takes four hand-overs between threads (open, stat, read, close), 0.2–0.8 ms on
 * the 2-core machine Reckon is measured on, which is most of what making a replay backend costs
 * (issue 12; a question with replayed answers makes one). Larger files are read asynchronously.
 */
export const REPLAY_SYNC_READ_MAX_BYTES = 1024 * 1024;

async function readReplayFile(file: string): Promise<string> {
  try {
    const size = statSync(file).size;
    return size <= REPLAY_SYNC_READ_MAX_BYTES ? readFileSync(file, 'utf8') : await readFile(file, 'utf8');
  } catch (error) {
    throw new ModelNotFoundError(
      `The replay file ${file} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'}). ` +
        `Check the path after "replay:".`,
      { cause: error },
    );
  }
}

function parseReplayScript(content: string, file: string): ReplayScript {
  const result: NumberedLine[] = [];
  let header: ReplayHeader | null = null;
  const rawLines = content.split(/\r?\n/);
  for (let index = 0; index < rawLines.length; index++) {
    const raw = rawLines[index]?.trim() ?? '';
    if (raw === '') continue;
    const lineNumber = index + 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw new ReckonError('BAD_REPLAY_FILE', `replay file ${file} line ${lineNumber} is not valid JSON.`, {
        cause: error,
      });
    }
    if (result.length === 0 && header === null && isObject(json) && json.format === REPLAY_HEADER_FORMAT) {
      const parsedHeader = replayHeaderSchema.safeParse(json);
      if (!parsedHeader.success) {
        throw new ReckonError(
          'BAD_REPLAY_FILE',
          `replay file ${file} line ${lineNumber} is not a replay header this version of Reckon reads.`,
          { cause: parsedHeader.error },
        );
      }
      header = parsedHeader.data;
      continue;
    }
    const parsed = replayLineSchema.safeParse(json);
    if (!parsed.success) {
      const detail = parsed.error.issues
        .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
        .join('; ');
      throw new ReckonError(
        'BAD_REPLAY_FILE',
        `replay file ${file} line ${lineNumber} is not a replay record: ${detail}.`,
        {
          cause: parsed.error,
        },
      );
    }
    result.push({ lineNumber, line: parsed.data });
  }
  if (header !== null) {
    const fingerprint = replayFingerprint(result.map((entry) => entry.line.promptSha256));
    if (header.calls !== result.length || header.fingerprint !== fingerprint) {
      throw new ReckonError(
        'BAD_REPLAY_FILE',
        `replay file ${file} does not match its header (${header.calls} calls with fingerprint ` +
          `${header.fingerprint}; the file has ${result.length} calls with fingerprint ${fingerprint}): ` +
          `it was truncated or edited. Export the run again.`,
      );
    }
  }
  return { header, lines: result };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
