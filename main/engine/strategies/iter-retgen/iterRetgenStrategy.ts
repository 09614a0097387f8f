/**
 * ITER-RETGEN (Shao et al., 2023, "Enhancing Retrieval-Augmented Large Language Models with
 * Iterative Retrieval-Generation Synergy"): T rounds of generation-augmented retrieval. Round 1
 * retrieves with the question; every later round retrieves with the question followed by the
 * previous round's whole generation (reasoning and answer: the paper's y_{t-1} || q, question first
 * here so a term-capped BM25 query keeps it), then generates an answer over the passages it found
 * with the shared answer call. The last round's generation is the answer. No early stop: the
 * paper runs a fixed T.
 */
import { z } from 'zod';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import { callAnswerModel, DEFAULT_ANSWER_MAX_TOKENS, type ParsedAnswer } from '../answerFormat.ts';
import { citationsOfAnswer, DocumentPool, summarizeDocs } from '../retrievalStep.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';

/** Rounds of retrieval and generation (DESIGN §3: T = 3). */
export const DEFAULT_ITER_RETGEN_ROUNDS = 3;

export const iterRetgenOptionsSchema = z
  .object({
    rounds: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_ITER_RETGEN_ROUNDS)
      .describe(
        `T: rounds of retrieve-then-generate; the last round's generation is the answer. Default ${DEFAULT_ITER_RETGEN_ROUNDS}.`,
      ),
    queryFromGeneration: z
      .enum(['reasoning-and-answer', 'answer'])
      .default('reasoning-and-answer')
      .describe(
        "What of the previous generation joins the question in the next query: the whole generation (the paper's y_{t-1}) or only its short answer. Default reasoning-and-answer.",
      ),
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_ANSWER_MAX_TOKENS)
      .describe(`Token budget of each round's generation. Default ${DEFAULT_ANSWER_MAX_TOKENS}.`),
  })
  .strict();
export type IterRetgenOptions = z.output<typeof iterRetgenOptionsSchema>;

export const ITER_RETGEN_METRICS = {
  rounds: { label: 'Rounds', description: 'Retrieve-then-generate rounds run' },
  documentsCollected: {
    label: 'Documents collected',
    description: 'Distinct passages retrieved over all rounds',
  },
  answerChanges: {
    label: 'Answer changes',
    description: "Rounds whose answer differed from the previous round's",
  },
} as const;

/**
 * Runs `rounds` rounds (each: one retrieval, one shared answer call, role "answer") and emits a
 * "round" step per round with its query, the passages found and the generation. Model and retrieval
 * errors propagate as the run's error.
 */
export async function runIterRetgen(context: StrategyContext<IterRetgenOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal, topK } = context;
  const phaseMs: Record<string, number> = {};
  const pool = new DocumentPool();
  let previous: ParsedAnswer | undefined;
  let docs: RetrievedDoc[] = [];
  let answerChanges = 0;
  for (let round = 1; round <= options.rounds; round++) {
    const query = previous
      ? `${question} ${generationText(previous, options.queryFromGeneration)}`
      : question;
    docs = await timePhase(phaseMs, 'retrieve', now, () => context.retrieve(query, topK, signal));
    const fresh = pool.add(docs);
    const parsed = await timePhase(phaseMs, 'generate', now, () =>
      callAnswerModel(llm, question, docs, { maxTokens: options.answerMaxTokens, signal }),
    );
    if (previous && normalize(previous.answer) !== normalize(parsed.answer)) answerChanges++;
    emit({
      type: 'step',
      kind: 'round',
      title: `Round ${round}`,
      detail: `${parsed.answer || '(no answer)'} (query: ${query})`,
      data: {
        round,
        query,
        docs: summarizeDocs(docs),
        newDocIds: fresh.map((doc) => doc.id),
        answer: parsed.answer,
        reasoning: parsed.reasoning,
      },
    });
    previous = parsed;
  }
  const last = previous!;
  return {
    answer: last.answer,
    reasoning: last.reasoning,
    citations: citationsOfAnswer(last, docs),
    failure: null,
    metrics: {
      phaseMs,
      program: null,
      strategy: { rounds: options.rounds, documentsCollected: pool.size, answerChanges },
    },
  };
}

/** A generation as query text: its reasoning without the [n] markers, then its answer. */
export function generationText(parsed: ParsedAnswer, part: IterRetgenOptions['queryFromGeneration']): string {
  if (part === 'answer') return parsed.answer;
  return [parsed.reasoning?.replace(/\s*\[\d{1,2}\]/g, ''), parsed.answer]
    .filter(Boolean)
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function normalize(answer: string): string {
  return answer.toLowerCase().replace(/\s+/g, ' ').trim();
}

export const iterRetgenStrategy = defineStrategy({
  id: 'iter-retgen',
  label: 'ITER-RETGEN (iterative retrieval-generation)',
  description:
    'T rounds of retrieving with the question plus the previous generation, then generating; the last generation is the answer.',
  options: iterRetgenOptionsSchema,
  metrics: ITER_RETGEN_METRICS,
  corpus: 'required',
  run: runIterRetgen,
});
