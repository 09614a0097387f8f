/**
 * PyRAG's prompts, written for small local code models: short instructions, a JSON output for
 * decomposition, and worked JavaScript examples of a bridge and a comparison program. The examples
 * are invented (not from any benchmark) so evaluation questions never leak into the prompt.
 */
import type { ChatMessage, JsonSchema } from '../../models/LlmBackend.ts';
import { describeProblem, numberLines, type ProgramProblem } from '../ProgramLoop.ts';

export const DECOMPOSE_SYSTEM_PROMPT = `You split a question into the smallest sequence of single-hop sub-questions needed to answer it.
Each sub-question asks for one fact. A later sub-question may refer to an earlier answer as #1, #2, ….
A question that needs only one fact stays as it is.
Reply with a JSON array of strings and nothing else.

Question: In which city was the composer of "The Planets" born?
["Who composed \\"The Planets\\"?", "In which city was #1 born?"]

Question: Which river is longer, the Danube or the Rhine?
["How long is the Danube?", "How long is the Rhine?"]

Question: When was the Eiffel Tower completed?
["When was the Eiffel Tower completed?"]`;

/** Decomposition output: 1–6 sub-questions. */
export const DECOMPOSITION_SCHEMA: JsonSchema = {
  type: 'array',
  items: { type: 'string' },
  minItems: 1,
  maxItems: 6,
};

export function decomposeMessages(question: string): ChatMessage[] {
  return [
    { role: 'system', content: DECOMPOSE_SYSTEM_PROMPT },
    { role: 'user', content: `Question: ${question}` },
  ];
}

export const PLAN_SYSTEM_PROMPT = `You write a short JavaScript program that answers a question by looking things up.
You have two functions:
- retrieve(query) returns a list of documents relevant to the query (each has title and text).
- answer(question, docs) answers one simple question from those documents and returns a short string (or "unknown").
Rules:
- Follow the sub-questions in order: one retrieve() and one answer() per sub-question.
- Put earlier answers into later queries with template strings, like \`\${director} nationality\`.
- Independent lookups may run together with Promise.all.
- End with: return await answer(\`Given: <the facts you found>. Answer the question: <the original question, word for word>\`);
  This last answer() gets no documents.
- Use only retrieve, answer, const, await, template strings and Promise.all. No other functions, no imports.
- Reply with the program in one \`\`\`javascript block and nothing else.

Example 1
Question: In which city was the composer of "The Planets" born?
Sub-questions: 1. Who composed "The Planets"? 2. In which city was #1 born?
\`\`\`javascript
const docs1 = await retrieve("composer of The Planets");
const composer = await answer("Who composed The Planets?", docs1);
const docs2 = await retrieve(\`\${composer} birthplace city\`);
const city = await answer(\`In which city was \${composer} born?\`, docs2);
return await answer(\`Given: The Planets was composed by \${composer}. \${composer} was born in \${city}. Answer the question: In which city was the composer of "The Planets" born?\`);
\`\`\`

Example 2
Question: Which river is longer, the Danube or the Rhine?
Sub-questions: 1. How long is the Danube? 2. How long is the Rhine?
\`\`\`javascript
const [danubeDocs, rhineDocs] = await Promise.all([retrieve("Danube length"), retrieve("Rhine length")]);
const [danube, rhine] = await Promise.all([
  answer("How long is the Danube?", danubeDocs),
  answer("How long is the Rhine?", rhineDocs),
]);
return await answer(\`Given: The Danube is \${danube} long. The Rhine is \${rhine} long. Answer the question: Which river is longer, the Danube or the Rhine?\`);
\`\`\``;

export function planMessages(question: string, subQuestions: readonly string[]): ChatMessage[] {
  const numbered = subQuestions.map((q, i) => `${i + 1}. ${q}`).join(' ');
  return [
    { role: 'system', content: PLAN_SYSTEM_PROMPT },
    { role: 'user', content: `Question: ${question}\nSub-questions: ${numbered}` },
  ];
}

/**
 * Feedback for a program that does not parse, or that failed when run: the plan request, the
 * program as the model's reply, then what failed (describeProblem: kind, line, message; a note when
 * the reply was not JavaScript; the runtime failure a repair was fixing) and the numbered code.
 */
export function fixMessages(
  question: string,
  subQuestions: readonly string[],
  code: string,
  problem: ProgramProblem,
): ChatMessage[] {
  return [
    ...planMessages(question, subQuestions),
    { role: 'assistant', content: `\`\`\`javascript\n${code}\n\`\`\`` },
    {
      role: 'user',
      content: `${describeProblem(problem)}\nThe program with line numbers:\n${numberLines(code)}\nWrite the whole corrected program in one \`\`\`javascript block.`,
    },
  ];
}

/** Used when no program the model wrote would parse: one retrieval, one answer. */
export function fallbackProgram(question: string): string {
  const q = JSON.stringify(question);
  return `const docs = await retrieve(${q});\nreturn await answer(${q}, docs);`;
}
