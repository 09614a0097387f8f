/**
 * The typed event stream of a run. A run returns its id at once; everything else arrives as these
 * events keyed by runId, in `seq` order — deltas, never whole-state snapshots. The schemas are the
 * single source of the types; they live beside the IPC contract and depend on nothing of the
 * engine's, so that the engine, the adapters and the renderer all depend on them, never the reverse.
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
  'HostTimeLimit',
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

/** What the shared program loop measures, for strategies that have the model write programs. */
export const programMetricsSchema = z.object({
  programAttempts: z.number().int(),
  executions: z.number().int(),
  repairs: z.number().int(),
  hostCalls: z.number().int(),
  /** Of the final executed program. */
  cyclomaticComplexity: z.number().int().nullable(),
  maxStackDepth: z.number().int().nullable(),
  programLines: z.number().int().nullable(),
  nodeTypeProfile: z.record(z.string(), z.number()).nullable(),
  /** Call sites per host tool in the program's source. */
  hostCallSites: z.record(z.string(), z.number().int()).nullable(),
  executable: z.boolean().nullable(),
  exceptionKind: sandboxFailureKindSchema.nullable(),
});
export type ProgramMetrics = z.infer<typeof programMetricsSchema>;

/** A figure a strategy declares for itself (PyRAG's boosts, IRCoT's steps, …). */
export const strategyMetricValueSchema = z.union([z.number(), z.string(), z.boolean(), z.null()]);

const runMetricsObject = z.object({
  llmCalls: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  /** True when the token counts are estimates (a backend that cannot count tokens, such as replay). */
  tokensEstimated: z.boolean(),
  retries: z.number().int(),
  /** Wall time per phase in ms (decompose, plan, execute, repair, answer, …). */
  phaseMs: z.record(z.string(), z.number()),
  totalMs: z.number(),
  /** The program loop's figures; null for strategies that write no program. */
  program: programMetricsSchema.nullable(),
  /** The figures the strategy declares in its descriptor (`metrics`), by key. */
  strategy: z.record(z.string(), strategyMetricValueSchema),
});

/**
 * Metrics saved before the split into common, program and strategy parts had every figure at the
 * top level; they are read into the current shape (boosts become a strategy figure).
 */
function upgradeLegacyMetrics(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || 'program' in value || !('programAttempts' in value))
    return value;
  const legacy = value as Record<string, unknown>;
  const sites = legacy.hostCallSites;
  return {
    llmCalls: legacy.llmCalls,
    promptTokens: legacy.promptTokens,
    completionTokens: legacy.completionTokens,
    tokensEstimated: false,
    retries: legacy.retries,
    phaseMs: legacy.phaseMs,
    totalMs: legacy.totalMs,
    program: {
      programAttempts: legacy.programAttempts,
      executions: legacy.executions,
      repairs: legacy.repairs,
      hostCalls: legacy.hostCalls,
      cyclomaticComplexity: legacy.cyclomaticComplexity,
      maxStackDepth: legacy.maxStackDepth,
      programLines: legacy.programLines,
      nodeTypeProfile: legacy.nodeTypeProfile,
      hostCallSites: sites,
      executable: legacy.executable,
      exceptionKind: legacy.exceptionKind,
    },
    strategy: typeof legacy.boosts === 'number' ? { boosts: legacy.boosts } : {},
  };
}

export const runMetricsSchema = z.preprocess(upgradeLegacyMetrics, runMetricsObject);
export type RunMetrics = z.infer<typeof runMetricsSchema>;

const bodies = [
  z.object({
    type: z.literal('run-started'),
    question: z.string(),
    corpus: z.string().nullable(),
    strategy: z.string(),
    model: z.string(),
    /** The run whose program this run's was edited from (an edited program re-run). */
    parentRunId: z.string().optional(),
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
    /**
     * Why it was written: plan/repair (PyRAG), codify/refine (ICRAG), user (run-program, or an
     * edited program), fallback (a strategy's built-in program when no model program would parse).
     */
    purpose: z.string(),
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
    tool: z.string(),
    args: z.array(z.unknown()),
    line: z.number().int().nullable(),
  }),
  z.object({
    type: z.literal('tool-result'),
    execution: z.number().int(),
    callIndex: z.number().int(),
    tool: z.string(),
    durationMs: z.number(),
    /** One line for timelines: "5 passages" or the answer text (capped). */
    summary: z.string(),
    /** Served from an earlier execution of the same run, whose call had identical inputs. */
    cached: z.boolean().optional(),
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
  /**
   * A step of a strategy that has no event of its own (a Self-Ask follow-up, an IRCoT sentence, …):
   * `kind` names it for strategy-specific views, `title` and `detail` are what a generic step list
   * shows, `data` is the step's structured content.
   */
  z.object({
    type: z.literal('step'),
    kind: z.string(),
    title: z.string(),
    detail: z.string().nullable(),
    data: z.record(z.string(), z.unknown()).optional(),
  }),
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

/** What every event carries besides its body: the run, its place in the run's order, and its time. */
const traceEventEnvelope = { runId: z.string(), seq: z.number().int(), at: z.number() };
export type TraceEvent = z.infer<z.ZodObject<typeof traceEventEnvelope>> & TraceEventBody;

/**
 * A whole event: one object schema per type (the body's fields and the envelope's), discriminated by
 * `type`. Not z.intersection(envelope, body), which parses every event twice and merges the two
 * results: that took 6× as long (issue 12 measured 0.6 ms against 0.1 ms for one question's 44 events).
 */
export const traceEventSchema = z.discriminatedUnion(
  'type',
  bodies.map((body) => body.extend(traceEventEnvelope)) as unknown as typeof bodies,
) as unknown as z.ZodType<TraceEvent>;
export type TraceEventType = TraceEventBody['type'];
/** The body of one event type, e.g. TraceEventOf<'binding'>. */
export type TraceEventOf<T extends TraceEventType> = Extract<TraceEventBody, { type: T }>;
