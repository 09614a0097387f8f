/**
 * Self-Ask with retrieval (Press et al., 2023). The model continues a scratchpad that starts "Are
 * follow up questions needed here:". Generation stops at "Intermediate answer:" (a stop sequence;
 * anything the model writes past it is discarded, as in the paper, where the search engine fills
 * that slot). The last "Follow up:" question is retrieved (top-k = the run's k) and answered over the
 * passages with the shared answer call; its short answer becomes the intermediate answer and the
 * model continues. The chain ends when the model writes "So the final answer is:". After
 * `maxFollowUps` follow-ups — or when a generation holds neither a follow-up nor a final answer —
 * the final answer is forced: the scratchpad is continued from "So the final answer is:" and the
 * first line generated is the answer.
 */
import { z } from 'zod';
import { callAnswerModel, DEFAULT_ANSWER_MAX_TOKENS, parseAnswerOutput } from '../answerFormat.ts';
import { matchSentinel } from '../sentinel.ts';
import { citationsOfAnswer, DocumentPool, mergeCitations, summarizeDocs } from '../retrievalStep.ts';
import { defineStrategy, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';
import type { Citation } from '../../../../preload/TraceEvent.ts';
import {
  FINAL_ANSWER,
  FOLLOW_UPS_NEEDED,
  INTERMEDIATE_ANSWER,
  SELF_ASK_STOP,
  selfAskMessages,
} from './selfAskPrompts.ts';

/** Follow-up questions answered before the final answer is forced. */
export const DEFAULT_MAX_FOLLOW_UPS = 5;

export const selfAskOptionsSchema = z
  .object({
    maxFollowUps: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(DEFAULT_MAX_FOLLOW_UPS)
      .describe(
        `Follow-up questions retrieved and answered before the final answer is forced (the paper sets no cap). Default ${DEFAULT_MAX_FOLLOW_UPS}.`,
      ),
    stepMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(2048)
      .default(128)
      .describe(
        'Token budget of one scratchpad generation (up to the next follow-up question). Default 128.',
      ),
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(8192)
      .default(DEFAULT_ANSWER_MAX_TOKENS)
      .describe(
        `Token budget of one intermediate answer (the shared answer call over the follow-up's passages). Default ${DEFAULT_ANSWER_MAX_TOKENS}.`,
      ),
    finalMaxTokens: z
      .number()
      .int()
      .min(4)
      .max(1024)
      .default(48)
      .describe('Token budget of a forced final answer. Default 48.'),
  })
  .strict();
export type SelfAskOptions = z.output<typeof selfAskOptionsSchema>;

export const SELF_ASK_METRICS = {
  followUps: { label: 'Follow-ups', description: 'Follow-up questions retrieved and answered' },
  documentsCollected: {
    label: 'Documents collected',
    description: 'Distinct passages retrieved for the follow-up questions',
  },
  capHit: { label: 'Cap hit', description: 'Whether the follow-up cap was reached' },
  forcedFinalAnswer: {
    label: 'Forced final answer',
    description: 'Whether the final answer was forced (cap reached, or neither a follow-up nor an answer)',
  },
  stopReason: {
    label: 'Stop reason',
    description: 'How the chain ended: final-answer, cap, or no-follow-up',
  },
} as const;

type StopReason = 'final-answer' | 'cap' | 'no-follow-up';

/** What one scratchpad generation asked for. */
type Move =
  | { kind: 'final'; answer: string; text: string }
  | { kind: 'follow-up'; question: string; text: string }
  | { kind: 'none'; text: string };

/**
 * Runs the Self-Ask chain (roles: "self-ask" for scratchpad generations, "answer" for intermediate
 * answers, "self-ask-final" for a forced final answer). Emits a "follow-up" step per follow-up (its
 * question, intermediate answer and the passages retrieved for it) and a "final-answer" step. Model
 * and retrieval errors propagate as the run's error.
 */
export async function runSelfAsk(context: StrategyContext<SelfAskOptions>): Promise<StrategyOutcome> {
  const { question, options, llm, emit, now, signal, topK } = context;
  const phaseMs: Record<string, number> = {};
  const pool = new DocumentPool();
  const citations: Citation[][] = [];
  let scratchpad = FOLLOW_UPS_NEEDED;
  let followUps = 0;
  let stopReason: StopReason | undefined;
  let finalAnswer = '';

  for (;;) {
    if (followUps >= options.maxFollowUps) {
      stopReason = 'cap';
      break;
    }
    const output = await timePhase(phaseMs, 'generate', now, () =>
      llm.generate({
        role: 'self-ask',
        messages: selfAskMessages(question, scratchpad),
        maxTokens: options.stepMaxTokens,
        stop: SELF_ASK_STOP,
        signal,
      }),
    );
    const move = readMove(continuation(scratchpad, output.text));
    if (move.kind === 'final') {
      scratchpad = joinScratchpad(scratchpad, move.text);
      finalAnswer = move.answer;
      stopReason = 'final-answer';
      break;
    }
    if (move.kind === 'none') {
      scratchpad = joinScratchpad(scratchpad, move.text);
      stopReason = 'no-follow-up';
      break;
    }
    followUps++;
    const docs = await timePhase(phaseMs, 'retrieve', now, () =>
      context.retrieve(move.question, topK, signal),
    );
    const fresh = pool.add(docs);
    const parsed = await timePhase(phaseMs, 'answer', now, () =>
      callAnswerModel(llm, move.question, docs, { maxTokens: options.answerMaxTokens, signal }),
    );
    citations.push(citationsOfAnswer(parsed, docs));
    const intermediate = parsed.answer || 'unknown';
    emit({
      type: 'step',
      kind: 'follow-up',
      title: `Follow-up ${followUps}`,
      detail: `${move.question} → ${intermediate}`,
      data: {
        step: followUps,
        question: move.question,
        intermediateAnswer: intermediate,
        reasoning: parsed.reasoning,
        sentinel: matchSentinel(intermediate) !== undefined,
        docs: summarizeDocs(docs),
        newDocIds: fresh.map((doc) => doc.id),
      },
    });
    scratchpad = `${joinScratchpad(scratchpad, move.text)}\n${INTERMEDIATE_ANSWER} ${withPeriod(intermediate)}`;
  }

  const forced = stopReason !== 'final-answer';
  if (forced) {
    const prefill = `${scratchpad}\n${FINAL_ANSWER}`;
    const output = await timePhase(phaseMs, 'final', now, () =>
      llm.generate({
        role: 'self-ask-final',
        messages: selfAskMessages(question, prefill),
        maxTokens: options.finalMaxTokens,
        stop: ['\n'],
        signal,
      }),
    );
    finalAnswer = firstLine(continuation(prefill, output.text));
    scratchpad = `${prefill} ${finalAnswer}`;
  }
  const answer = parseAnswerOutput(`<answer>${finalAnswer}</answer>`).answer;
  emit({
    type: 'step',
    kind: 'final-answer',
    title: `${FINAL_ANSWER} ${answer}${forced ? ` (forced: ${stopReason === 'cap' ? `cap of ${options.maxFollowUps} follow-ups` : 'no follow-up question'})` : ''}`,
    detail: null,
    data: { answer, forced, stopReason },
  });
  return {
    answer,
    reasoning: scratchpad,
    citations: mergeCitations(citations),
    failure: null,
    metrics: {
      phaseMs,
      program: null,
      strategy: {
        followUps,
        documentsCollected: pool.size,
        capHit: stopReason === 'cap',
        forcedFinalAnswer: forced,
        stopReason: stopReason!,
      },
    },
  };
}

/**
 * Reads one generation. Text from "Intermediate answer:" on is dropped (the search engine's slot: a
 * backend that ignores stop sequences must not smuggle in the model's own answer). A final answer
 * wins; otherwise the last "Follow up:" question; otherwise nothing.
 */
export function readMove(generated: string): Move {
  const cut = generated.search(INTERMEDIATE_RE);
  const text = (cut >= 0 ? generated.slice(0, cut) : generated).trimEnd();
  const final = FINAL_RE.exec(text);
  if (final) {
    return { kind: 'final', answer: final[1]!.trim(), text: text.slice(0, final.index + final[0].length) };
  }
  const last = [...text.matchAll(FOLLOW_UP_RE)].at(-1);
  const followUp = last?.[1]?.trim();
  if (last && followUp) {
    return { kind: 'follow-up', question: followUp, text: text.slice(0, last.index + last[0].length) };
  }
  return { kind: 'none', text };
}

/** The markers as small models write them ("Follow-up:", "so the final answer is …"). */
const INTERMEDIATE_RE = /Intermediate answer\s*:/i;
const FINAL_RE = /So the final answer is\s*:?[ \t]*(.*)/i;
const FOLLOW_UP_RE = /Follow[ -]?up\s*:[ \t]*(.*)/gi;

/** The generated text without the prefill, for a backend that echoes it. */
function continuation(prefill: string, text: string): string {
  return text.startsWith(prefill) ? text.slice(prefill.length) : text;
}

/** The scratchpad continued by generated text (a space after "…here:", a line break otherwise). */
function joinScratchpad(scratchpad: string, text: string): string {
  const trimmed = text.replace(/^[ \t]+/, '');
  if (trimmed === '') return scratchpad;
  return /[:\n]$/.test(scratchpad) && !trimmed.startsWith('\n')
    ? `${scratchpad} ${trimmed}`
    : `${scratchpad}${trimmed.startsWith('\n') ? '' : '\n'}${trimmed}`;
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? ''
  );
}

function withPeriod(answer: string): string {
  return /[.!?]$/.test(answer) ? answer : `${answer}.`;
}

export const selfAskStrategy = defineStrategy({
  id: 'self-ask',
  label: 'Self-Ask (with retrieval)',
  description:
    'Asks itself follow-up questions, retrieves and answers each one, until "So the final answer is"; the answer is forced at a cap.',
  options: selfAskOptionsSchema,
  metrics: SELF_ASK_METRICS,
  corpus: 'required',
  run: runSelfAsk,
});
