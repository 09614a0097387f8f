/**
 * IRCoT (Trivedi et al., 2023): retrieval interleaved with chain-of-thought. It first retrieves with
 * the question; then, step by step, the model writes the next reasoning sentence over every document
 * collected so far, only its first sentence is kept, and that sentence is the next retrieval query,
 * whose new documents join the collection (each chunk once). The loop stops when a sentence says
 * "the answer is", or after `maxSteps` sentences (the cap-th sentence still retrieves, so the reader
 * sees what it found). Then a reader call — the shared answer call — answers the question over the
 * collected documents, at most `maxReaderDocs` of them in the order found (the paper caps the
 * collection at 15 paragraphs; the reasoner sees the same ones).
 */
import { z } from 'zod';
import { callAnswerModel, DEFAULT_ANSWER_MAX_TOKENS } from '../answerFormat.ts';
import { citationsOfAnswer, DocumentPool, retrievalStep, summarizeDocs } from '../retrievalStep.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';
import { ircotMessages, REASONING_PREFIX } from './ircotPrompts.ts';

/** Reasoning sentences before the reader is called (DESIGN §3: max 5 steps). */
export const DEFAULT_IRCOT_MAX_STEPS = 5;
/** Documents handed to the reasoner and the reader (the paper's cap of 15 paragraphs). */
export const DEFAULT_IRCOT_MAX_READER_DOCS = 15;

export const ircotOptionsSchema = z
  .object({
    maxSteps: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(DEFAULT_IRCOT_MAX_STEPS)
      .describe(
        `Reasoning sentences (each followed by a retrieval) before the reader answers. Default ${DEFAULT_IRCOT_MAX_STEPS}.`,
      ),
    maxReaderDocs: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(DEFAULT_IRCOT_MAX_READER_DOCS)
      .describe(
        `Most collected documents shown to the reasoner and handed to the reader, in the order found (the paper caps at 15). Default ${DEFAULT_IRCOT_MAX_READER_DOCS}.`,
      ),
    thoughtMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(1024)
      .default(64)
      .describe('Token budget of one reasoning step (only its first sentence is kept). Default 64.'),
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_ANSWER_MAX_TOKENS)
      .describe(`Token budget of the reader's answer. Default ${DEFAULT_ANSWER_MAX_TOKENS}.`),
  })
  .strict();
export type IrcotOptions = z.output<typeof ircotOptionsSchema>;

export const IRCOT_METRICS = {
  steps: { label: 'Reasoning steps', description: 'Chain-of-thought sentences written' },
  retrievals: { label: 'Retrievals', description: 'Retrieval calls, the first (with the question) included' },
  documentsCollected: { label: 'Documents collected', description: 'Distinct passages retrieved' },
  documentsRead: { label: 'Documents read', description: 'Passages handed to the reader' },
  capHit: { label: 'Cap hit', description: 'Whether the step cap ended the reasoning' },
  stopReason: {
    label: 'Stop reason',
    description: 'How the reasoning ended: answer-sentence, cap, or empty-sentence',
  },
} as const;

type StopReason = 'answer-sentence' | 'cap' | 'empty-sentence';

/**
 * Runs IRCoT (roles: "ircot-thought" for each sentence, "answer" for the reader). Emits "retrieval"
 * steps (query, passages found, the ids new to the collection), "thought" steps (the sentence, and
 * whether it states the answer) and one "reader" step (the passages read). Model and retrieval
 * errors propagate as the run's error.
 */
export async function runIrcot(context: StrategyContext<IrcotOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal, topK } = context;
  const phaseMs: Record<string, number> = {};
  const pool = new DocumentPool();
  const sentences: string[] = [];
  let retrievals = 0;
  const retrieve = async (query: string, step: number): Promise<void> => {
    retrievals++;
    await timePhase(phaseMs, 'retrieve', now, () =>
      retrievalStep(context, { query, k: topK, kind: 'retrieval', data: { step }, pool }),
    );
  };

  await retrieve(question, 0);
  let stopReason: StopReason = 'cap';
  for (let step = 1; step <= options.maxSteps; step++) {
    const docs = pool.docs().slice(0, options.maxReaderDocs);
    const messages = ircotMessages(question, docs, sentences);
    const output = await timePhase(phaseMs, 'reason', now, () =>
      llm.generate({
        role: 'ircot-thought',
        messages,
        maxTokens: options.thoughtMaxTokens,
        stop: IRCOT_STOP,
        signal,
      }),
    );
    // Only the continuation counts, should a backend echo the prefill.
    const prefill = messages.at(-1)!.content;
    const sentence = firstSentence(
      output.text.startsWith(prefill) ? output.text.slice(prefill.length) : output.text,
    );
    if (sentence === '') {
      stopReason = 'empty-sentence';
      break;
    }
    sentences.push(sentence);
    const answers = ANSWER_SENTENCE.test(sentence);
    emit({
      type: 'step',
      kind: 'thought',
      title: `Thought ${step}`,
      detail: sentence,
      data: { step, sentence, answerSentence: answers, docsSeen: docs.length },
    });
    if (answers) {
      stopReason = 'answer-sentence';
      break;
    }
    await retrieve(sentence, step);
  }

  const readerDocs = pool.docs().slice(0, options.maxReaderDocs);
  emit({
    type: 'step',
    kind: 'reader',
    title: `Reading ${readerDocs.length} of ${pool.size} collected passage${pool.size === 1 ? '' : 's'}`,
    detail: null,
    data: { docs: summarizeDocs(readerDocs), collected: pool.size },
  });
  const parsed = await timePhase(phaseMs, 'read', now, () =>
    callAnswerModel(llm, question, readerDocs, { maxTokens: options.answerMaxTokens, signal }),
  );
  const chain = sentences.join(' ');
  return {
    answer: parsed.answer,
    reasoning: parsed.reasoning ?? (chain || null),
    citations: citationsOfAnswer(parsed, readerDocs),
    failure: null,
    metrics: {
      phaseMs,
      program: null,
      strategy: {
        steps: sentences.length,
        retrievals,
        documentsCollected: pool.size,
        documentsRead: readerDocs.length,
        capHit: stopReason === 'cap',
        stopReason,
      },
    },
  };
}

/** A step's generation ends at a blank line or a new demonstration; its first sentence is kept. */
const IRCOT_STOP = ['\n\n', '\nQuestion:', '\nExample'];

/** IRCoT's termination test: the sentence states the answer. */
const ANSWER_SENTENCE = /\banswer is\b/i;

/** Abbreviations whose period does not end a sentence. */
const ABBREVIATION = /(?:\b[A-Z]|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs|etc|No|Inc|Co|Ltd|Mt|Gen|Col|Lt))$/;

/**
 * The first sentence of a generation (without a leading "Reasoning:"): up to the first . ! or ?
 * followed by a space and a capital, digit or quote, or by the end — not the period of an initial
 * ("U.S.", "J. R. R.") or a common abbreviation. The whole first line when there is no such end.
 */
export function firstSentence(generated: string): string {
  const line =
    generated
      .split('\n')
      .map((part) => part.trim())
      .find(Boolean)
      ?.replace(new RegExp(`^${REASONING_PREFIX}\\s*`, 'i'), '') ?? '';
  for (const match of line.matchAll(/[.!?](?=\s+["'“‘(A-Z0-9]|\s*$)/g)) {
    const before = line.slice(0, match.index);
    if (match[0] === '.' && ABBREVIATION.test(before)) continue;
    return line.slice(0, match.index + 1).trim();
  }
  return line.trim();
}

export const ircotStrategy = defineStrategy({
  id: 'ircot',
  label: 'IRCoT (interleaved retrieval and CoT)',
  description:
    'Alternates one chain-of-thought sentence and one retrieval with that sentence, until "the answer is" or a cap; then reads all collected passages.',
  options: ircotOptionsSchema,
  metrics: IRCOT_METRICS,
  corpus: 'required',
  run: runIrcot,
});
