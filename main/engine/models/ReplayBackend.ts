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
 */
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

export interface ReplayBackendOptions {
  /** Path of the JSONL file (relative paths resolve from the working directory). */
  file: string;
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
  const lines = parseReplayFile(await readReplayFile(options.file), options.file);
  let next = 0;
  let calls = 0;

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
 * written in a stable order (output, role, tokens), `role` and `tokens` only when given.
 */
export function formatReplayLine(record: {
  output: string;
  role?: string;
  tokens?: readonly TokenProbability[];
}): string {
  return JSON.stringify({
    output: record.output,
    ...(record.role !== undefined ? { role: record.role } : {}),
    ...(record.tokens !== undefined
      ? { tokens: record.tokens.map((token) => ({ text: token.text, probability: token.probability })) }
      : {}),
  });
}

async function readReplayFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ModelNotFoundError(
      `The replay file ${file} could not be read (${(error as NodeJS.ErrnoException).code ?? 'error'}). ` +
        `Check the path after "replay:".`,
      { cause: error },
    );
  }
}

function parseReplayFile(content: string, file: string): NumberedLine[] {
  const result: NumberedLine[] = [];
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
  return result;
}

function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}
