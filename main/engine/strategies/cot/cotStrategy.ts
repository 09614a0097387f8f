/**
 * Chain-of-Thought, zero-shot (Kojima et al., 2022, "Large Language Models are Zero-Shot
 * Reasoners"): the question followed by "Let's think step by step.", no retrieval. The reasoning
 * ends with the answer in the shared format; when it does not (cut off at the token budget, or the
 * model forgot the tag), Kojima's second stage asks for the answer alone ("Therefore, the answer
 * is"), as `extractAnswer` allows.
 */
import { z } from 'zod';
import { parseAnswerOutput } from '../answerFormat.ts';
import { cotExtractionMessages, cotMessages } from '../closedBookAnswer.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';

/** Token budget of the reasoning: room for several steps, unlike a 1–3 sentence answer. */
export const DEFAULT_COT_MAX_TOKENS = 512;
/** Token budget of the answer-extraction call. */
export const DEFAULT_EXTRACT_MAX_TOKENS = 48;

export const cotOptionsSchema = z
  .object({
    reasoningMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_COT_MAX_TOKENS)
      .describe(`Token budget of the step-by-step reasoning. Default ${DEFAULT_COT_MAX_TOKENS}.`),
    extractAnswer: z
      .boolean()
      .default(true)
      .describe(
        "When the reasoning ends without <answer>…</answer>, ask once more for the answer alone (Kojima et al.'s answer-extraction stage). Default true.",
      ),
    extractMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(1024)
      .default(DEFAULT_EXTRACT_MAX_TOKENS)
      .describe(`Token budget of the answer-extraction call. Default ${DEFAULT_EXTRACT_MAX_TOKENS}.`),
  })
  .strict();
export type CotOptions = z.output<typeof cotOptionsSchema>;

export const COT_METRICS = {
  reasoningSteps: {
    label: 'Reasoning steps',
    description: 'Sentences of reasoning before the answer',
  },
  answerExtracted: {
    label: 'Answer extracted',
    description: 'Whether the reasoning had no <answer> and a second call extracted it',
  },
} as const;

/** Reasoning call (role "cot"), then, if needed, the extraction call (role "extract-answer"). */
export async function runCot(context: StrategyContext<CotOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal } = context;
  const phaseMs: Record<string, number> = {};
  const output = await timePhase(phaseMs, 'reason', now, () =>
    llm.generate({
      role: 'cot',
      messages: cotMessages(question),
      maxTokens: options.reasoningMaxTokens,
      signal,
    }),
  );
  const hasTag = /<answer>/i.test(output.text);
  let parsed = parseAnswerOutput(output.text);
  const reasoning = hasTag ? (parsed.reasoning ?? '') : output.text.trim();
  const reasoningSteps = countSentences(reasoning);
  emit({
    type: 'step',
    kind: 'reasoning',
    title: `Reasoned in ${reasoningSteps} sentence${reasoningSteps === 1 ? '' : 's'}`,
    detail: reasoning || null,
    data: { reasoning, hasAnswerTag: hasTag },
  });
  let answerExtracted = false;
  if (!hasTag && options.extractAnswer) {
    const extraction = await timePhase(phaseMs, 'extract', now, () =>
      llm.generate({
        role: 'extract-answer',
        messages: cotExtractionMessages(question, reasoning),
        maxTokens: options.extractMaxTokens,
        signal,
      }),
    );
    const extracted = parseAnswerOutput(extraction.text);
    parsed = { ...extracted, reasoning: reasoning || null };
    answerExtracted = true;
    emit({
      type: 'step',
      kind: 'answer-extraction',
      title: 'The reasoning gave no <answer>; asked for it',
      detail: extracted.answer,
      data: { output: extraction.text },
    });
  }
  return {
    answer: parsed.answer,
    reasoning: parsed.reasoning,
    citations: [],
    failure: null,
    metrics: { phaseMs, program: null, strategy: { reasoningSteps, answerExtracted } },
  };
}

/** Sentences in a text: runs ending in . ! ? (or the end), ignoring blanks. */
export function countSentences(text: string): number {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((part) => part.trim())
    .filter((part) => /\w/.test(part)).length;
}

export const cotStrategy = defineStrategy({
  id: 'cot',
  label: 'Chain-of-Thought (no retrieval)',
  description:
    'Zero-shot chain of thought: "Let\'s think step by step", then the answer, from the model\'s own knowledge.',
  options: cotOptionsSchema,
  metrics: COT_METRICS,
  corpus: 'none',
  run: runCot,
});
