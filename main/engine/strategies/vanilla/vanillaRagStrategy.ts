/**
 * Vanilla RAG (retrieve-then-read, the standard baseline of PyRAG's tables): one retrieval with the
 * question as the query, top-k = the run's k, then one answer over those passages in the shared
 * answer format, citing them.
 */
import { z } from 'zod';
import { callAnswerModel, DEFAULT_ANSWER_MAX_TOKENS } from '../answerFormat.ts';
import { citationsOfAnswer, retrievalStep } from '../retrievalStep.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';

export const vanillaRagOptionsSchema = z
  .object({
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_ANSWER_MAX_TOKENS)
      .describe(`Token budget of the answer. Default ${DEFAULT_ANSWER_MAX_TOKENS}.`),
  })
  .strict();
export type VanillaRagOptions = z.output<typeof vanillaRagOptionsSchema>;

export const VANILLA_RAG_METRICS = {
  documentsRetrieved: { label: 'Documents retrieved', description: 'Passages the one retrieval returned' },
} as const;

/**
 * Retrieve (step kind "retrieval"), then answer (role "answer"). With no passages found the answer
 * call gets none and, by the shared prompt, answers from the question alone (normally "unknown").
 */
export async function runVanillaRag(context: StrategyContext<VanillaRagOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, now, signal, topK } = context;
  const phaseMs: Record<string, number> = {};
  const docs = await timePhase(phaseMs, 'retrieve', now, () =>
    retrievalStep(context, { query: question, k: topK, kind: 'retrieval' }),
  );
  const parsed = await timePhase(phaseMs, 'answer', now, () =>
    callAnswerModel(llm, question, docs, { maxTokens: options.answerMaxTokens, signal }),
  );
  return {
    answer: parsed.answer,
    reasoning: parsed.reasoning,
    citations: citationsOfAnswer(parsed, docs),
    failure: null,
    metrics: { phaseMs, program: null, strategy: { documentsRetrieved: docs.length } },
  };
}

export const vanillaRagStrategy = defineStrategy({
  id: 'vanilla',
  label: 'Vanilla RAG',
  description: 'One retrieval with the question (top-k), then one answer over the passages found.',
  options: vanillaRagOptionsSchema,
  metrics: VANILLA_RAG_METRICS,
  corpus: 'required',
  run: runVanillaRag,
});
