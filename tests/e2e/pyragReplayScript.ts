/**
 * The scripted model for the E2E run (adapted from tests/integration/pyrag.test.ts): PyRAG's calls in
 * order — decompose, plan, then one `answer` per answer() call — with a program that fails at run time
 * and is repaired, a sentinel "unknown" that boosts the retrieve() behind it, and a 503 retried with
 * backoff. One line is slowed down so the run can be seen (and photographed) in progress.
 */

export const QUESTION = 'Were Scott Derrickson and Ed Wood of the same nationality?';

/** How long the call right after the 503 takes: the window in which the run is shown mid-flight. */
export const SLOW_CALL_MS = 3_000;

interface ReplayLine {
  role: string;
  output?: string;
  delayMs?: number;
  error?: { status: number; message: string };
}

const BROKEN_PROGRAM = [
  '```javascript',
  'const docsA = await retrieve("Scott Derrickson nationality");',
  'const natA = await answer("What is Scott Derrickson\'s nationality?", docsA);',
  'const docsB = await retrieve("Ed Wood nationality");',
  'const natB = await answer("What is Ed Wood\'s nationality?", docsB.first.text);',
  'return await answer(`Given: Scott Derrickson is ${natA}. Ed Wood is ${natB}. Answer the question: ' +
    QUESTION +
    '`);',
  '```',
].join('\n');

/** The program after repair, as it must appear in the program view (without the fence). */
export const REPAIRED_PROGRAM_LINES = [
  'const docsA = await retrieve("Scott Derrickson nationality");',
  'const natA = await answer("What is Scott Derrickson\'s nationality?", docsA);',
  'const docsB = await retrieve("Ed Wood");',
  'const natB = await answer("What is Ed Wood\'s nationality?", docsB);',
  'return await answer(`Given: Scott Derrickson is ${natA}. Ed Wood is ${natB}. Answer the question: ' +
    QUESTION +
    '`);',
];

const REPAIRED_PROGRAM = ['```javascript', ...REPAIRED_PROGRAM_LINES, '```'].join('\n');

/** The replay lines, in the order PyRAG consumes them. */
export const SCRIPT: readonly ReplayLine[] = [
  {
    role: 'decompose',
    output: '["What is Scott Derrickson\'s nationality?", "What is Ed Wood\'s nationality?"]',
  },
  { role: 'plan', output: BROKEN_PROGRAM },
  // Execution 1: the first answer works, then line 4 throws a TypeError (docsB.first is undefined).
  { role: 'answer', output: 'Document [1] says he is an American director.\n<answer>American</answer>' },
  { role: 'repair', output: REPAIRED_PROGRAM },
  // Execution 2: Ed Wood's nationality is "unknown" → the retrieve() that fed it is boosted.
  { role: 'answer', output: 'Document [1] calls him an American director.\n<answer>American</answer>' },
  { role: 'answer', output: 'None of the documents say.\n<answer>unknown</answer>' },
  { role: 'answer', output: '<answer>unknown</answer>' },
  // Execution 3 (boosted): the model server is busy once; the retried call is slow.
  { role: 'answer', error: { status: 503, message: 'model server busy' } },
  {
    role: 'answer',
    output: 'Document [1] says he is American.\n<answer>American</answer>',
    delayMs: SLOW_CALL_MS,
  },
  {
    role: 'answer',
    output: 'Document [2] says Edward Davis Wood Jr. was an American filmmaker.\n<answer>American</answer>',
  },
  { role: 'answer', output: 'Both are American.\n<answer>yes</answer>' },
];

/** Model calls that produced output (the failed 503 attempt is a retry, not a call of its own). */
export const EXPECTED_LLM_CALLS = SCRIPT.filter((line) => line.error === undefined).length;

/** The script as a replay file's content. */
export function replayFileContent(): string {
  return `${SCRIPT.map((line) => JSON.stringify(line)).join('\n')}\n`;
}
