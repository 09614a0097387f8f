/**
 * Chain-of-Code prompts (Li et al. 2023), for small local models: write a JavaScript program for
 * the task, computing what code can compute and calling undefined helper functions, named for what
 * they do, for the semantic steps code cannot; the helpers are simulated by the model at run time.
 * Two worked examples, as the paper's prompts are few-shot.
 */
import type { ChatMessage } from '../../models/LlmBackend.ts';
import { describeProblem, numberLines, type ProgramProblem } from '../ProgramLoop.ts';

export const COC_SYSTEM_PROMPT = `You solve a task by writing a short JavaScript program.
Rules:
- Compute everything you can with ordinary code: arithmetic, counting, comparisons, loops, string handling.
- For a step that needs knowledge or understanding that code cannot compute (a fact, the meaning of a sentence, a judgement), call a helper function with a clear name and do NOT define it, like \`const capital = capital_of("France");\`. When the program runs, each such call returns the right value.
- Give helpers plain arguments (strings, numbers, lists) and use what they return like any value.
- Call helpers in plain statements or for...of loops, not inside filter, forEach, reduce, some or find callbacks.
- End with \`return <the answer>;\` where the answer is short: a number, a name, yes or no, or a short phrase.
- No imports, no input/output, no network. Do not name anything "simulate".
- Reply with the program in one \`\`\`javascript block and nothing else.

Example 1
Task: How many of these sentences are sarcastic? "Oh great, another Monday." "The soup is warm." "I just love waiting in line."
\`\`\`javascript
const sentences = ["Oh great, another Monday.", "The soup is warm.", "I just love waiting in line."];
let count = 0;
for (const sentence of sentences) {
  if (is_sarcastic(sentence)) count += 1;
}
return count;
\`\`\`

Example 2
Task: Is the capital of Australia further south than the capital of Kenya?
\`\`\`javascript
const australia = latitude_of(capital_of("Australia"));
const kenya = latitude_of(capital_of("Kenya"));
return australia < kenya ? "yes" : "no";
\`\`\``;

export function cocMessages(task: string): ChatMessage[] {
  return [
    { role: 'system', content: COC_SYSTEM_PROMPT },
    { role: 'user', content: `Task: ${task}` },
  ];
}

/**
 * Feedback for a program that does not parse or failed when run: the request, the program as the
 * model's reply, what failed (describeProblem) and the numbered code.
 */
export function cocFixMessages(task: string, code: string, problem: ProgramProblem): ChatMessage[] {
  return [
    ...cocMessages(task),
    { role: 'assistant', content: `\`\`\`javascript\n${code}\n\`\`\`` },
    {
      role: 'user',
      content: `${describeProblem(problem)}\nThe program with line numbers:\n${numberLines(code)}\nWrite the whole corrected program in one \`\`\`javascript block.`,
    },
  ];
}
