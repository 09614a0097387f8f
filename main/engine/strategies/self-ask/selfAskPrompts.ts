/**
 * Self-Ask's prompt (Press et al., 2023, "Measuring and Narrowing the Compositionality Gap in
 * Language Models"), in the published structure: few-shot examples of "Are follow up questions
 * needed here:", "Follow up:", "Intermediate answer:" and "So the final answer is:". The examples are
 * invented for Reckon (never benchmark questions); the final answers follow the shared answer rules
 * (short, typed to the question) so that scoring matches every other method.
 */
import type { ChatMessage } from '../../models/LlmBackend.ts';

export const FOLLOW_UPS_NEEDED = 'Are follow up questions needed here:';
export const FOLLOW_UP = 'Follow up:';
export const INTERMEDIATE_ANSWER = 'Intermediate answer:';
export const FINAL_ANSWER = 'So the final answer is:';

export const SELF_ASK_SYSTEM_PROMPT = `You answer a question by asking simple follow-up questions first. A search engine answers each follow-up question for you: write the follow-up question and stop; never write an intermediate answer yourself.
Use exactly the format of the examples. The final answer is short: a name, a date, a number, yes or no, or a short phrase.

Question: In which country was the composer of "The Planets" born?
${FOLLOW_UPS_NEEDED} Yes.
${FOLLOW_UP} Who composed "The Planets"?
${INTERMEDIATE_ANSWER} Gustav Holst.
${FOLLOW_UP} In which country was Gustav Holst born?
${INTERMEDIATE_ANSWER} England.
${FINAL_ANSWER} England

Question: Which opened first, the Eiffel Tower or the Brooklyn Bridge?
${FOLLOW_UPS_NEEDED} Yes.
${FOLLOW_UP} When did the Eiffel Tower open?
${INTERMEDIATE_ANSWER} 1889.
${FOLLOW_UP} When did the Brooklyn Bridge open?
${INTERMEDIATE_ANSWER} 1883.
${FINAL_ANSWER} the Brooklyn Bridge

Question: Was the author of "Frankenstein" born before the author of "Dracula"?
${FOLLOW_UPS_NEEDED} Yes.
${FOLLOW_UP} Who wrote "Frankenstein"?
${INTERMEDIATE_ANSWER} Mary Shelley.
${FOLLOW_UP} When was Mary Shelley born?
${INTERMEDIATE_ANSWER} 1797.
${FOLLOW_UP} Who wrote "Dracula"?
${INTERMEDIATE_ANSWER} Bram Stoker.
${FOLLOW_UP} When was Bram Stoker born?
${INTERMEDIATE_ANSWER} 1847.
${FINAL_ANSWER} yes

Question: What is the capital of Japan?
${FOLLOW_UPS_NEEDED} No.
${FINAL_ANSWER} Tokyo`;

/**
 * One Self-Ask generation: the examples, the question, and the scratchpad so far as a prefill (a
 * trailing assistant message the model continues, as the paper's completion prompt continues).
 */
export function selfAskMessages(question: string, scratchpad: string): ChatMessage[] {
  return [
    { role: 'system', content: SELF_ASK_SYSTEM_PROMPT },
    { role: 'user', content: `Question: ${question}` },
    { role: 'assistant', content: scratchpad },
  ];
}

/** Where a Self-Ask generation stops: before the search engine's slot, or a new example. */
export const SELF_ASK_STOP = [INTERMEDIATE_ANSWER, '\nQuestion:'] as const;
