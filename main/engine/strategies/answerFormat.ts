/**
 * The answer format every method shares (PyRAG's answer prompt): 1–3 sentences of reasoning that
 * cite documents by number, then the short answer inside <answer>…</answer>.
 */
import type { ChatMessage, LlmBackend } from '../models/LlmBackend.ts';
import type { RetrievedDoc } from '../sandbox/SandboxTypes.ts';

/** Characters of each document shown to the answer model. */
export const MAX_DOC_CHARS_IN_PROMPT = 1500;

export const ANSWER_SYSTEM_PROMPT = [
  'You answer one question using only the documents you are given (or, when there are none, only the facts stated in the question).',
  'First write one to three short sentences of reasoning that cite the documents you used by their number, like [1] or [2].',
  'Then write the final answer inside <answer></answer>. The answer must be short: a name, a date, a number, yes or no, or a short phrase, copied from the documents where possible.',
  'Match the question: "who" gets a name, "when" gets a date, "how many" gets a number, a yes/no question gets yes or no.',
  'If the documents do not contain the answer, write <answer>unknown</answer>.',
].join(' ');

/** Renders documents as a numbered list: "[1] Title\ntext". */
export function formatDocuments(docs: readonly RetrievedDoc[]): string {
  return docs
    .map((doc, i) => {
      const text =
        doc.text.length > MAX_DOC_CHARS_IN_PROMPT
          ? `${doc.text.slice(0, MAX_DOC_CHARS_IN_PROMPT)}…`
          : doc.text;
      return `[${i + 1}] ${doc.title}\n${text}`;
    })
    .join('\n\n');
}

/** The messages of one answer(question, docs) call. */
export function answerMessages(question: string, docs: readonly RetrievedDoc[] | undefined): ChatMessage[] {
  const user =
    docs && docs.length > 0
      ? `Documents:\n${formatDocuments(docs)}\n\nQuestion: ${question}`
      : `Question: ${question}`;
  return [
    { role: 'system', content: ANSWER_SYSTEM_PROMPT },
    { role: 'user', content: user },
  ];
}

export interface ParsedAnswer {
  answer: string;
  /** The reasoning before <answer>, or null when there was none. */
  reasoning: string | null;
  /** 1-based document numbers cited in the reasoning ("[2]"). */
  citedDocs: number[];
}

/** Maximum length of an answer handed back to a program. */
export const MAX_ANSWER_CHARS = 300;

/** Quote characters stripped from around an answer (straight, curly, guillemets, backticks). */
const QUOTES = `"'\`“”‘’«»„`;
const LEADING_QUOTES = new RegExp(`^[${QUOTES}]+`);
const TRAILING_QUOTES = new RegExp(`[${QUOTES}]+$`);

/**
 * Reads a model's answer output: the text of the last complete <answer>…</answer> that holds no
 * other <answer> tag (so a stray "<answer>" mentioned in the reasoning is skipped), else the text
 * after the last unclosed <answer> (a cut-off generation), else the last non-empty line. The answer
 * loses surrounding quotes — nested ("'Paris'") or unbalanced (`"Paris`) — and trailing
 * punctuation (".", ",", ";", ":", "!"), except the period of an abbreviation ("Washington, D.C.",
 * "Jr."). Never throws.
 */
export function parseAnswerOutput(output: string): ParsedAnswer {
  const complete = [...output.matchAll(/<answer>((?:(?!<answer>)[\s\S])*?)<\/answer>/gi)].at(-1);
  const openAt = output.toLowerCase().lastIndexOf('<answer>');
  let answer: string;
  let reasoning: string | null;
  if (complete) {
    answer = complete[1] ?? '';
    reasoning = output.slice(0, complete.index).trim() || null;
  } else if (openAt >= 0) {
    answer = output.slice(openAt + '<answer>'.length);
    reasoning = output.slice(0, openAt).trim() || null;
  } else {
    const lines = output
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
    answer = (lines.at(-1) ?? '').replace(/^(final )?answer\s*[:：]\s*/i, '');
    reasoning = lines.slice(0, -1).join(' ') || null;
  }
  answer = cleanAnswer(answer.replace(/<\/?answer>/gi, ''));
  if (answer.length > MAX_ANSWER_CHARS) answer = `${answer.slice(0, MAX_ANSWER_CHARS)}…`;
  const citedDocs = [...new Set([...(reasoning ?? '').matchAll(/\[(\d{1,2})\]/g)].map((m) => Number(m[1])))];
  return { answer, reasoning, citedDocs };
}

/** Whitespace collapsed; quotes and trailing punctuation peeled off until nothing changes. */
function cleanAnswer(raw: string): string {
  let answer = raw.replace(/\s+/g, ' ').trim();
  for (;;) {
    const before = answer;
    answer = answer.replace(/[,;:!]+$/, '').trim();
    // A final period goes unless it ends an abbreviation: a single capital ("D.C.") or Jr/Sr/etc.
    if (/\.$/.test(answer) && !/(?:\b[A-Z]|\b(?:Jr|Sr|St|Co|Inc|Ltd|etc|vs))\.$/.test(answer))
      answer = answer.slice(0, -1).trim();
    answer = answer.replace(LEADING_QUOTES, '').replace(TRAILING_QUOTES, '').trim();
    if (answer === before) return answer;
  }
}

/** Default token budget of one answer() call. */
export const DEFAULT_ANSWER_MAX_TOKENS = 256;

/** One answer(question, docs) model call (role "answer"), parsed. */
export async function callAnswerModel(
  llm: LlmBackend,
  question: string,
  docs: readonly RetrievedDoc[] | undefined,
  options: { maxTokens?: number; signal?: AbortSignal } = {},
): Promise<ParsedAnswer> {
  const output = await llm.generate({
    role: 'answer',
    messages: answerMessages(question, docs),
    maxTokens: options.maxTokens ?? DEFAULT_ANSWER_MAX_TOKENS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return parseAnswerOutput(output.text);
}
