/**
 * ICRAG prompts ("Codifying Natural Language Tasks"), written for small local models:
 * - codify: the task as a JavaScript program — inputs as variables, rules as branches, facts code
 *   cannot compute as calls of helper functions the program does not define (simulated at run time);
 * - refine: (task, current program, retrieved passages, solved examples) → a JSON object
 *   {"code", "query"} — the improved program and the next search query, or "" when done;
 * - memory: a program (or a short text solution, for ICRAG_NL) for a solved (task, answer) pair;
 * - rag: the RAG_Code / RAG_NL ablation, an answer by the model over the solved examples without a
 *   program, in the shared answer format.
 */
import type { ChatMessage, JsonSchema } from '../../models/LlmBackend.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import type { SolvedExample } from '../../corpus/memory/SolvedExampleMemory.ts';
import { ANSWER_SYSTEM_PROMPT, formatDocuments } from '../answerFormat.ts';
import { describeProblem, numberLines, type ProgramProblem } from '../ProgramLoop.ts';

/** Characters of a solved example's program or text shown in a prompt. */
export const MAX_EXAMPLE_CHARS = 1200;

const PROGRAM_RULES = `Rules:
- Put the task's inputs (numbers, names, items, options) in variables at the top.
- Write the task's rules and conditions as if/else branches and ordinary code: arithmetic, counting, comparisons, loops.
- For a fact or judgement code cannot compute, call a helper function with a clear name and do NOT define it, like \`const capital = capital_of("France");\`. When the program runs, each such call returns the right value.
- Call helpers in plain statements or for...of loops, not inside filter, forEach, reduce, some or find callbacks.
- End with \`return <the answer>;\`: a number, yes or no, an option letter like "(A)", a name or a short phrase.
- No imports, no input/output, no network. Do not name anything "simulate".`;

export const CODIFY_SYSTEM_PROMPT = `You turn a task written in natural language into a short JavaScript program that solves it.
${PROGRAM_RULES}
- Reply with the program in one \`\`\`javascript block and nothing else.

Example 1
Task: A shop sells pens at $3 each, or 4 for $10. How much do 9 pens cost at the best price?
\`\`\`javascript
const pens = 9;
const single = 3;
const packSize = 4;
const packPrice = 10;
const packs = Math.floor(pens / packSize);
const rest = pens - packs * packSize;
return packs * packPrice + rest * single;
\`\`\`

Example 2
Task: A contract signed by a minor is void unless it is for necessities. Tom is 16 and signed a contract for food. Is the contract void?
\`\`\`javascript
const age = 16;
const isMinor = age < 18;
const forNecessities = is_necessity("food");
if (isMinor && !forNecessities) return "yes";
return "no";
\`\`\``;

export function codifyMessages(task: string): ChatMessage[] {
  return [
    { role: 'system', content: CODIFY_SYSTEM_PROMPT },
    { role: 'user', content: `Task: ${task}` },
  ];
}

/** Feedback for a program that does not parse or failed when run (codify, repairs). */
export function codifyFixMessages(task: string, code: string, problem: ProgramProblem): ChatMessage[] {
  return [
    ...codifyMessages(task),
    { role: 'assistant', content: `\`\`\`javascript\n${code}\n\`\`\`` },
    {
      role: 'user',
      content: `${describeProblem(problem)}\nThe program with line numbers:\n${numberLines(code)}\nWrite the whole corrected program in one \`\`\`javascript block.`,
    },
  ];
}

/** The refiner's reply, constrained where the backend can: the whole program and the next query. */
export const REFINE_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    query: { type: 'string' },
  },
  required: ['code', 'query'],
  additionalProperties: false,
};

export const REFINE_SYSTEM_PROMPT = `You improve a JavaScript program that solves a task. You are given the task, the current program, passages retrieved from the user's documents, and solved examples of similar tasks.
Use the passages for facts the program needs (put them in variables instead of helper calls) and the solved examples for how to structure the solution. Fix anything in the program that does not follow the task.
${PROGRAM_RULES}
Reply with only a JSON object {"code": "<the whole improved program>", "query": "<a short search query for information the program still lacks, or an empty string when it lacks nothing>"}.`;

/** How solved examples are shown: their programs (ICRAG) or their text solutions (ICRAG_NL). */
export type ExampleFormat = 'code' | 'text';

/** Solved examples as a prompt section; an example without the asked-for form shows its program. */
export function formatExamples(examples: readonly SolvedExample[], format: ExampleFormat): string {
  return examples
    .map((example, i) => {
      const body =
        format === 'text' && example.text
          ? `Solution: ${clip(example.text)}`
          : `Program:\n\`\`\`javascript\n${clip(example.program)}\n\`\`\``;
      return `Example ${i + 1}\nTask: ${example.task}\n${body}\nAnswer: ${example.answer}`;
    })
    .join('\n\n');
}

export interface RefineInput {
  task: string;
  code: string;
  passages: readonly RetrievedDoc[];
  examples: readonly SolvedExample[];
  exampleFormat: ExampleFormat;
}

export function refineMessages(input: RefineInput): ChatMessage[] {
  const sections = [
    `Task: ${input.task}`,
    `Current program:\n\`\`\`javascript\n${input.code}\n\`\`\``,
    `Retrieved passages:\n${input.passages.length > 0 ? formatDocuments(input.passages) : '(none)'}`,
    `Solved examples:\n${input.examples.length > 0 ? formatExamples(input.examples, input.exampleFormat) : '(none)'}`,
  ];
  return [
    { role: 'system', content: REFINE_SYSTEM_PROMPT },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

/** The follow-up after a refiner reply that is not the JSON object asked for, or whose code does not parse. */
export function refineRetryMessages(input: RefineInput, reply: string, problem: string): ChatMessage[] {
  return [
    ...refineMessages(input),
    { role: 'assistant', content: reply },
    {
      role: 'user',
      content: `${problem}\nReply with only a JSON object {"code": "<the whole program>", "query": "<next query or empty>"}.`,
    },
  ];
}

const MEMORY_PROGRAM_SYSTEM_PROMPT = `You write a short JavaScript program that solves a task whose correct answer you are told. The program must compute the answer from the task's inputs, not just return it, so that it can serve as a worked example for similar tasks.
${PROGRAM_RULES}
- Reply with the program in one \`\`\`javascript block and nothing else.`;

/** R2 building: a program for a solved (task, answer) pair. */
export function memoryProgramMessages(task: string, answer: string): ChatMessage[] {
  return [
    { role: 'system', content: MEMORY_PROGRAM_SYSTEM_PROMPT },
    { role: 'user', content: `Task: ${task}\nCorrect answer: ${answer}` },
  ];
}

export function memoryProgramFixMessages(
  task: string,
  answer: string,
  code: string,
  problem: ProgramProblem,
): ChatMessage[] {
  return [
    ...memoryProgramMessages(task, answer),
    { role: 'assistant', content: `\`\`\`javascript\n${code}\n\`\`\`` },
    {
      role: 'user',
      content: `${describeProblem(problem)}\nWrite the whole corrected program in one \`\`\`javascript block.`,
    },
  ];
}

/** R2 building, ICRAG_NL: a short natural-language solution for a solved pair. */
export function memoryTextMessages(task: string, answer: string): ChatMessage[] {
  return [
    {
      role: 'system',
      content:
        'You explain how to solve a task whose correct answer you are told, in two to five short sentences of plain language: what the inputs are, which rules or facts apply, and how they give the answer. No code.',
    },
    { role: 'user', content: `Task: ${task}\nCorrect answer: ${answer}` },
  ];
}

/** RAG_Code / RAG_NL: the model answers from solved examples and passages, without a program. */
export function ragAnswerMessages(input: {
  task: string;
  passages: readonly RetrievedDoc[];
  examples: readonly SolvedExample[];
  exampleFormat: ExampleFormat;
}): ChatMessage[] {
  const sections = [
    ...(input.examples.length > 0
      ? [`Solved examples of similar tasks:\n${formatExamples(input.examples, input.exampleFormat)}`]
      : []),
    ...(input.passages.length > 0 ? [`Documents:\n${formatDocuments(input.passages)}`] : []),
    `Question: ${input.task}`,
  ];
  return [
    { role: 'system', content: ANSWER_SYSTEM_PROMPT },
    { role: 'user', content: sections.join('\n\n') },
  ];
}

function clip(text: string): string {
  return text.length > MAX_EXAMPLE_CHARS ? `${text.slice(0, MAX_EXAMPLE_CHARS)}…` : text;
}
