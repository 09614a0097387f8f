/**
 * Direct: the model answers alone, from what it knows, with no retrieval — the floor every
 * retrieval method is measured against (PyRAG's and ICRAG's "Direct" baseline). One model call in
 * the shared answer format.
 */
import { z } from 'zod';
import { DEFAULT_ANSWER_MAX_TOKENS, parseAnswerOutput } from '../answerFormat.ts';
import { directMessages } from '../closedBookAnswer.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';

export const directOptionsSchema = z
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
export type DirectOptions = z.output<typeof directOptionsSchema>;

/** One closed-book answer call (role "answer"). Model errors propagate as the run's error. */
export async function runDirect(context: StrategyContext<DirectOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, now, signal } = context;
  const phaseMs: Record<string, number> = {};
  const output = await timePhase(phaseMs, 'answer', now, () =>
    llm.generate({
      role: 'answer',
      messages: directMessages(question),
      maxTokens: options.answerMaxTokens,
      signal,
    }),
  );
  const parsed = parseAnswerOutput(output.text);
  return {
    answer: parsed.answer,
    reasoning: parsed.reasoning,
    citations: [],
    failure: null,
    metrics: { phaseMs, program: null, strategy: {} },
  };
}

export const directStrategy = defineStrategy({
  id: 'direct',
  label: 'Direct (no retrieval)',
  description: 'The model answers from its own knowledge in one call, without searching the corpus.',
  options: directOptionsSchema,
  metrics: {},
  corpus: 'none',
  run: runDirect,
});
