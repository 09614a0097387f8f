/**
 * A decomposition handed to a program method instead of written by it: the `givenSubQuestions` and
 * `givenSubQuestionsSource` options PyRAG and PROGRAM share. Evaluation's oracle-decomposition mode
 * (`reckon eval --oracle-decomposition`) fills them from a dataset's gold decomposition, so that a
 * method's loss can be split into decomposition on one side and retrieval and reading on the other;
 * a user may pass their own (`--option givenSubQuestions='["…","…"]'`).
 */
import { z } from 'zod';
import type { StrategyContext } from './Strategy.ts';

/** The option that hands a method its sub-questions (what evaluation's oracle mode sets). */
export const GIVEN_SUB_QUESTIONS_OPTION = 'givenSubQuestions';
/** Most sub-questions a run may be given (MuSiQue's deepest questions have 4, StrategyQA's 5). */
export const MAX_GIVEN_SUB_QUESTIONS = 10;
/** Longest given sub-question, in characters. */
export const MAX_GIVEN_SUB_QUESTION_LENGTH = 1000;
/** Who wrote the given sub-questions: the user, or a dataset's gold decomposition (evaluation's oracle). */
export const GIVEN_SUB_QUESTION_SOURCES = ['user', 'gold-decomposition'] as const;
export type GivenSubQuestionSource = (typeof GIVEN_SUB_QUESTION_SOURCES)[number];

// The registry prefixes the option's name and lower-cases the message, so it names no key and quotes nothing.
const NOT_A_LIST =
  'write the sub-questions as a JSON array of strings, for example ["first sub-question", "second, about #1"]';

/**
 * The sub-questions, checked, as canonical JSON text ('' for none): the parsed option stays a plain
 * string like every other option value, so a run's recorded options (Re-run, History, evaluation
 * config keys) carry it as they carry the rest; read the list with givenSubQuestionsOf. Takes a
 * JSON array of strings (what `--option` and the options form pass) or the array itself (what
 * evaluation's oracle hook passes); parsing twice gives the same. Anything else is an issue on `ctx`
 * saying what to write instead.
 */
function readSubQuestions(value: string | string[], ctx: z.RefinementCtx): string {
  let list: unknown = value;
  if (typeof value === 'string') {
    if (value.trim() === '') return '';
    try {
      list = JSON.parse(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is not JSON: ${NOT_A_LIST}` });
      return z.NEVER;
    }
  }
  const problem = !Array.isArray(list)
    ? `is not an array: ${NOT_A_LIST}`
    : list.length > MAX_GIVEN_SUB_QUESTIONS
      ? `takes at most ${MAX_GIVEN_SUB_QUESTIONS} sub-questions; got ${list.length}`
      : list.some((item) => typeof item !== 'string' || item.trim() === '')
        ? 'takes non-empty strings only'
        : list.some((item) => (item as string).length > MAX_GIVEN_SUB_QUESTION_LENGTH)
          ? `takes sub-questions of at most ${MAX_GIVEN_SUB_QUESTION_LENGTH} characters`
          : null;
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  const items = (list as string[]).map((item) => item.trim());
  return items.length === 0 ? '' : JSON.stringify(items);
}

/** The list a parsed `givenSubQuestions` value (canonical JSON text, '' for none) holds. */
export function givenSubQuestionsOf(value: string): string[] {
  return value === '' ? [] : (JSON.parse(value) as string[]);
}

/** The two options, to spread into a method's options object. */
export const givenSubQuestionsOptions = {
  givenSubQuestions: z
    .union([z.string(), z.array(z.string())])
    .default('')
    .transform(readSubQuestions)
    .describe(
      `Sub-questions to use instead of the method's own decomposition, as a JSON array of strings in order (at most ${MAX_GIVEN_SUB_QUESTIONS}; a later one may refer to an earlier answer as #1, #2 …). Empty: the method decomposes the question itself, as its paper does. reckon eval --oracle-decomposition fills it from the gold decomposition. Default empty.`,
    ),
  givenSubQuestionsSource: z
    .enum(GIVEN_SUB_QUESTION_SOURCES)
    .default('user')
    .describe(
      'Who wrote givenSubQuestions, as the trace says: user, or gold-decomposition (the dataset, in an oracle evaluation). Default user.',
    ),
};

/** What the trace says about who decomposed the question. */
export function describeGivenSource(source: GivenSubQuestionSource): string {
  return source === 'gold-decomposition'
    ? 'given by the oracle (the gold decomposition, earlier gold answers substituted)'
    : 'given by the user';
}

/**
 * Records in the trace that the run was handed its sub-questions (a "given-sub-questions" step):
 * who wrote them and the list; `detail` says what the method does with them.
 */
export function emitGivenSubQuestions(
  context: Pick<StrategyContext<unknown>, 'emit'>,
  given: { subQuestions: readonly string[]; source: GivenSubQuestionSource; detail: string },
): void {
  context.emit({
    type: 'step',
    kind: 'given-sub-questions',
    title: `${given.subQuestions.length} sub-question${given.subQuestions.length === 1 ? '' : 's'} ${describeGivenSource(given.source)}; the model did not decompose the question`,
    detail: `${given.subQuestions.map((q, i) => `${i + 1}. ${q}`).join('\n')}\n${given.detail}`,
    data: { subQuestions: [...given.subQuestions], source: given.source },
  });
}
