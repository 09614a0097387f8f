/**
 * PROGRAM's prompts and the JSON schemas of its structured replies: program-type selection,
 * candidate sub-queries per type, the per-program sufficiency judgement, and the few-shot
 * chain-of-thought answer in the shared answer format. The demonstrations are invented for Reckon
 * (never benchmark questions).
 */
import type { ChatMessage, JsonSchema } from '../../models/LlmBackend.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import { ANSWER_SYSTEM_PROMPT, formatDocuments } from '../answerFormat.ts';
import type { ProgramType } from './programTypes.ts';

/** {"types": [names from the allowed set, at least one, distinct]}. */
export function typeSelectionSchema(types: readonly ProgramType[], maxTypes: number): JsonSchema {
  return {
    type: 'object',
    properties: {
      types: {
        type: 'array',
        items: { type: 'string', enum: types.map((type) => type.name) },
        minItems: 1,
        maxItems: maxTypes,
      },
    },
    required: ['types'],
    additionalProperties: false,
  };
}

export function typeSelectionMessages(question: string, types: readonly ProgramType[]): ChatMessage[] {
  const library = types.map((type) => `- ${type.name}: ${type.description}`).join('\n');
  return [
    {
      role: 'system',
      content: `You classify the reasoning a question needs. Program types:
${library}
Pick every type that applies to the question (usually one to three), most important first.
Reply with JSON only: {"types": ["<type name>", ...]} using the names exactly as listed.`,
    },
    { role: 'user', content: `Question: ${question}` },
  ];
}

/** {"queries": [M non-empty strings]}. */
export function candidatesSchema(count: number): JsonSchema {
  return {
    type: 'object',
    properties: {
      queries: { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1, maxItems: count },
    },
    required: ['queries'],
    additionalProperties: false,
  };
}

export function candidatesMessages(question: string, type: ProgramType, count: number): ChatMessage[] {
  return [
    {
      role: 'system',
      content: `You write search queries for one step of answering a question.
The step is a "${type.name}" program: ${type.description}.
Write ${count} different short search queries (a few words each, naming the entities involved) that would find the documents this step needs.
Reply with JSON only: {"queries": ["...", ...]}.`,
    },
    { role: 'user', content: `Question: ${question}` },
  ];
}

/** {"sufficient": boolean, "nextQuery": string}. */
export const SUFFICIENCY_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { sufficient: { type: 'boolean' }, nextQuery: { type: 'string' } },
  required: ['sufficient', 'nextQuery'],
  additionalProperties: false,
};

export function sufficiencyMessages(
  question: string,
  type: ProgramType,
  subQuery: string,
  docs: readonly RetrievedDoc[],
): ChatMessage[] {
  return [
    {
      role: 'system',
      content: `You judge whether retrieved documents are enough for one step of answering a question.
The step is a "${type.name}" program (${type.description}) searching for: ${subQuery}
Say "sufficient": true only if the documents contain what this step needs. If they do not, give in "nextQuery" a better short search query for what is missing (else an empty string).
Reply with JSON only: {"sufficient": true or false, "nextQuery": "..."}.`,
    },
    {
      role: 'user',
      content: `Documents:\n${docs.length > 0 ? formatDocuments(docs) : '(none)'}\n\nQuestion: ${question}`,
    },
  ];
}

/** The shared answer format, preceded by worked examples of step-by-step reasoning over documents. */
export const PROGRAM_ANSWER_SYSTEM_PROMPT = `${ANSWER_SYSTEM_PROMPT}
Think step by step: state each fact you use with its document number, then combine them.

Example 1
Documents:
[1] The Planets
The Planets is an orchestral suite by the English composer Gustav Holst, written between 1914 and 1917.
[2] Gustav Holst
Gustav Holst (1874–1934) was an English composer. He was born in Cheltenham, Gloucestershire.
Question: In which town was the composer of "The Planets" born?
"The Planets" was written by Gustav Holst [1]. Holst was born in Cheltenham [2]. So the composer was born in Cheltenham.
<answer>Cheltenham</answer>

Example 2
Documents:
[1] Eiffel Tower
The Eiffel Tower is a wrought-iron lattice tower in Paris. It was opened to the public in 1889.
[2] Brooklyn Bridge
The Brooklyn Bridge in New York City opened on May 24, 1883.
Question: Which opened first, the Eiffel Tower or the Brooklyn Bridge?
The Eiffel Tower opened in 1889 [1]. The Brooklyn Bridge opened in 1883 [2]. 1883 is earlier than 1889, so the bridge opened first.
<answer>the Brooklyn Bridge</answer>`;

export function programAnswerMessages(question: string, docs: readonly RetrievedDoc[]): ChatMessage[] {
  return [
    { role: 'system', content: PROGRAM_ANSWER_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Documents:\n${docs.length > 0 ? formatDocuments(docs) : '(no documents found)'}\n\nQuestion: ${question}`,
    },
  ];
}
