/**
 * Prompts of the closed-book baselines (Direct and CoT): the model answers from what it knows, with
 * no documents, in the answer format every method shares (answerFormat.ts) — reasoning, then the
 * short answer inside <answer>…</answer> — so that parseAnswerOutput reads them and scoring is
 * identical across methods. (The shared answer prompt itself restricts the model to the documents or
 * the question, which is right for a reader and wrong for a closed-book baseline.)
 */
import type { ChatMessage } from '../models/LlmBackend.ts';

/** The answer rules shared with answerFormat's ANSWER_SYSTEM_PROMPT, for an answer from memory. */
const ANSWER_RULES = [
  'Then write the final answer inside <answer></answer>. The answer must be short: a name, a date, a number, yes or no, or a short phrase.',
  'Match the question: "who" gets a name, "when" gets a date, "how many" gets a number, a yes/no question gets yes or no.',
  'If you do not know the answer, write <answer>unknown</answer>.',
].join(' ');

export const DIRECT_SYSTEM_PROMPT = [
  'You answer one question from your own knowledge; no documents are given.',
  'First write one or two short sentences recalling the facts you use.',
  ANSWER_RULES,
].join(' ');

export const COT_SYSTEM_PROMPT = [
  'You answer one question from your own knowledge; no documents are given.',
  'Think step by step: write your reasoning as short sentences, one fact or one inference each.',
  ANSWER_RULES,
].join(' ');

/** Zero-shot CoT's trigger (Kojima et al., 2022). */
export const COT_TRIGGER = "Let's think step by step.";

/** The messages of a Direct answer. */
export function directMessages(question: string): ChatMessage[] {
  return [
    { role: 'system', content: DIRECT_SYSTEM_PROMPT },
    { role: 'user', content: `Question: ${question}` },
  ];
}

/** The messages of CoT's reasoning call: the question, then the trigger. */
export function cotMessages(question: string): ChatMessage[] {
  return [
    { role: 'system', content: COT_SYSTEM_PROMPT },
    { role: 'user', content: `Question: ${question}\n\n${COT_TRIGGER}` },
  ];
}

/**
 * Kojima et al.'s second stage, answer extraction, for reasoning that ended without an <answer>:
 * the reasoning call and its output, then "Therefore, the answer is" asking for the tag alone.
 */
export function cotExtractionMessages(question: string, reasoning: string): ChatMessage[] {
  return [
    ...cotMessages(question),
    { role: 'assistant', content: reasoning },
    {
      role: 'user',
      content:
        'Therefore, the answer is? Reply with only the short answer inside <answer></answer>, or <answer>unknown</answer>.',
    },
  ];
}
