/**
 * The typed event stream of a run. A run returns its id at once; everything else arrives as these
 * events keyed by runId, in `seq` order — deltas, never whole-state snapshots. The schemas are the
 * single source of the types and are reused by the IPC contract.
 */
import { z } from 'zod';

export const sandboxFailureKindSchema = z.enum([
  'SyntaxError',
  'RuntimeError',
  'Timeout',
  'MemoryLimit',
  'StackOverflow',
  'HostCallLimit',
  'InvalidHostArgument',
  'HostError',
  'Cancelled',
]);

export const citationSchema = z.object({
  chunkId: z.number().int(),
  title: z.string(),
  source: z.string(),
  /** Short excerpt of the cited chunk. */
  excerpt: z.string(),
});
export type Citation = z.infer<typeof citationSchema>;

export const retrievedChunkSummarySchema = z.object({
  id: z.number().int(),
  title: z.string(),
  score: z.number(),
  source: z.string(),
});

export const runMetricsSchema = z.object({
  llmCalls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  retries: z.number().int(),
  /** Wall time per phase in ms (decompose, plan, execute, repair, answer, …). */
  phaseMs: z.record(z.string(), z.number()),
  totalMs: z.number(),
  programAttempts: z.number().int(),
  executions: z.number().int(),
  repairs: z.number().int(),
  boosts: z.number().int(),
  hostCalls: z.number().int(),
  /** Of the final executed program. */
  cyclomaticComplexity: z.number().int().nullable(),
  maxStackDepth: z.number().int().nullable(),
  programLines: z.number().int().nullable(),
  nodeTypeProfile: z.record(z.string(), z.number()).nullable(),
  hostCallSites: z.object({ retrieve: z.number().int(), answer: z.number().int() }).nullable(),
  executable: z.boolean().nullable(),
  exceptionKind: sandboxFailureKindSchema.nullable(),
});
export type RunMetrics = z.infer<typeof runMetricsSchema>;

const bodies = [
  z.object({
    type: z.literal('run-started'),
    question: z.string(),
    corpus: z.string().nullable(),
    strategy: z.string(),
    model: z.string(),
  }),
  z.object({
    type: z.literal('decomposition'),
    subQuestions: z.array(z.string()),
    attempts: z.number().int(),
    /** True when decomposition failed 3 times and the question itself is used. */
    fallback: z.boolean(),
  }),
  z.object({
    type: z.literal('llm-call'),
    callIndex: z.number().int(),
    role: z.string(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    durationMs: z.number(),
  }),
  z.object({
    type: z.literal('retry'),
    role: z.string(),
    attempt: z.number().int(),
    maxAttempts: z.number().int(),
    delayMs: z.number(),
    reason: z.string(),
    outcome: z.enum(['retrying', 'giving-up']),
  }),
  z.object({
    type: z.literal('program-generated'),
    attempt: z.number().int(),
    /** plan/repair: written by the model; user: given by the user (run-program); fallback: the built-in one-hop program used when no model program would parse. */
    purpose: z.enum(['plan', 'repair', 'user', 'fallback']),
    code: z.string(),
  }),
  z.object({
    type: z.literal('syntax-error'),
    attempt: z.number().int(),
    message: z.string(),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('execution-started'),
    execution: z.number().int(),
    /** Retrieve calls whose k was raised for this execution. */
    boosted: z.array(z.object({ callIndex: z.number().int(), k: z.number().int() })),
  }),
  z.object({
    type: z.literal('tool-call'),
    execution: z.number().int(),
    callIndex: z.number().int(),
    tool: z.enum(['retrieve', 'answer']),
    args: z.array(z.unknown()),
    line: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('tool-result'),
    execution: z.number().int(),
    callIndex: z.number().int(),
    tool: z.enum(['retrieve', 'answer']),
    durationMs: z.number(),
    /** One line for timelines: "5 passages" or the answer text (capped). */
    summary: z.string(),
    chunks: z.array(retrievedChunkSummarySchema).optional(),
    answer: z.string().optional(),
    error: z.string().optional(),
  }),
  z.object({
    type: z.literal('binding'),
    execution: z.number().int(),
    name: z.string(),
    preview: z.string(),
    line: z.number().int(),
  }),
  z.object({
    type: z.literal('log'),
    execution: z.number().int(),
    level: z.enum(['log', 'warn', 'error']),
    message: z.string(),
  }),
  z.object({
    type: z.literal('runtime-error'),
    execution: z.number().int(),
    kind: sandboxFailureKindSchema,
    errorName: z.string().nullable(),
    message: z.string(),
    line: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('repair-requested'),
    round: z.number().int(),
    kind: sandboxFailureKindSchema,
    message: z.string(),
    line: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('retrieval-boosted'),
    callIndex: z.number().int(),
    fromK: z.number().int(),
    toK: z.number().int(),
    /** Which PyRAG path fired: an intermediate answer() was a sentinel, or only the final one. */
    path: z.enum(['sentinel-answer', 'sentinel-final']),
    sentinel: z.string(),
  }),
  z.object({
    type: z.literal('final-answer'),
    answer: z.string(),
    reasoning: z.string().nullable(),
    citations: z.array(citationSchema),
  }),
  z.object({ type: z.literal('metrics'), metrics: runMetricsSchema }),
  /** Something the user should know that did not stop the run (e.g. search fell back to BM25). */
  z.object({ type: z.literal('warning'), message: z.string() }),
  z.object({
    type: z.literal('run-finished'),
    status: z.enum(['succeeded', 'failed', 'cancelled']),
    error: z.object({ name: z.string(), code: z.string(), message: z.string() }).nullable(),
  }),
] as const;

export const traceEventBodySchema = z.discriminatedUnion('type', bodies);
export type TraceEventBody = z.infer<typeof traceEventBodySchema>;

export const traceEventSchema = z.intersection(
  z.object({ runId: z.string(), seq: z.number().int(), at: z.number() }),
  traceEventBodySchema,
);
export type TraceEvent = z.infer<typeof traceEventSchema>;
export type TraceEventType = TraceEventBody['type'];
/** The body of one event type, e.g. TraceEventOf<'binding'>. */
export type TraceEventOf<T extends TraceEventType> = Extract<TraceEventBody, { type: T }>;
