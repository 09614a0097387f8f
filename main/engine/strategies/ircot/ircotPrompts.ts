/**
 * IRCoT's reasoning prompt (Trivedi et al., 2023, "Interleaving Retrieval with Chain-of-Thought
 * Reasoning for Knowledge-Intensive Multi-Step Questions"): few-shot demonstrations of documents, a
 * question and a chain of thought ending "So the answer is: …", the model writing one sentence at a
 * time. The demonstrations are invented for Reckon (never benchmark questions).
 */
import type { ChatMessage } from '../../models/LlmBackend.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import { formatDocuments } from '../answerFormat.ts';

export const REASONING_PREFIX = 'Reasoning:';

export const IRCOT_SYSTEM_PROMPT = `You answer a question by reasoning over documents, one sentence at a time.
Write only the next sentence of the reasoning: one fact taken from the documents, or one inference from the sentences before it.
When you know the answer, write the sentence "So the answer is: <short answer>." The short answer is a name, a date, a number, yes or no, or a short phrase.

Example 1
Documents:
[1] The Planets
The Planets is an orchestral suite by the English composer Gustav Holst, written between 1914 and 1917.
[2] Gustav Holst
Gustav Holst (1874–1934) was an English composer and teacher. He was born in Cheltenham, Gloucestershire.
Question: In which town was the composer of "The Planets" born?
${REASONING_PREFIX} "The Planets" was written by Gustav Holst. Gustav Holst was born in Cheltenham. So the answer is: Cheltenham.

Example 2
Documents:
[1] Eiffel Tower
The Eiffel Tower is a wrought-iron lattice tower in Paris. It was opened to the public in 1889.
[2] Brooklyn Bridge
The Brooklyn Bridge in New York City opened on May 24, 1883.
Question: Which opened first, the Eiffel Tower or the Brooklyn Bridge?
${REASONING_PREFIX} The Eiffel Tower opened in 1889. The Brooklyn Bridge opened in 1883. 1883 is before 1889. So the answer is: the Brooklyn Bridge.`;

/**
 * The next reasoning sentence: the documents collected so far, the question, and the sentences so
 * far as a prefill ("Reasoning: s1 s2") that the model continues.
 */
export function ircotMessages(
  question: string,
  docs: readonly RetrievedDoc[],
  sentences: readonly string[],
): ChatMessage[] {
  const documents = docs.length > 0 ? formatDocuments(docs) : '(no documents found)';
  return [
    { role: 'system', content: IRCOT_SYSTEM_PROMPT },
    { role: 'user', content: `Documents:\n${documents}\nQuestion: ${question}` },
    { role: 'assistant', content: [REASONING_PREFIX, ...sentences].join(' ') },
  ];
}
