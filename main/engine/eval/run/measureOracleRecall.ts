/**
 * The retrieval ceiling of a gold decomposition ("where did it go wrong?"): for the questions that
 * carry both a gold decomposition (MuSiQue's `question_decomposition`, Bamboogle's Q1/Q2,
 * StrategyQA's `decomposition`) and gold supporting titles to score against, the supporting-paragraph
 * recall of searching the corpus with the question alone, against searching it with each gold
 * sub-question (earlier gold answers substituted for #1, #2, …), at the same number of passages:
 * `steps × k` for the question, `k` for each of the `steps` sub-questions. A method's own recall next
 * to these two says how much of its loss is decomposition and how much retrieval. Only MuSiQue has
 * both today; Bamboogle and StrategyQA have no supporting titles, so they are counted as skipped.
 */
import type { Retriever } from '../../createEngine.ts';
import type { SearchMode } from '../../corpus/search/searchCorpus.ts';
import { throwIfAborted } from '../../errors.ts';
import type { EvalDataset, GoldStep } from '../datasets/EvalItem.ts';
import { paragraphRecall, type ParagraphRecall } from '../scoring/supportingFactScores.ts';

export interface MeasureOracleRecallOptions {
  dataset: EvalDataset;
  /** An open search session over the evaluation's corpus (Engine.openRetriever). */
  retriever: Pick<Retriever, 'search'>;
  /** Passages per sub-question search (the question gets steps × topK). */
  topK: number;
  /** The search modes to measure, each on its own (bm25; dense where the corpus has vectors). */
  modes: readonly SearchMode[];
  signal?: AbortSignal;
  /** After each question of each mode: how many of `total` searches-per-question are done. */
  onProgress?: (event: { done: number; total: number }) => void;
}

/** Mean supporting-paragraph recall, and the share of questions with every supporting paragraph found. */
export interface RecallMean {
  recall: number;
  allFound: number;
}

/** One question's two recalls at one mode. */
export interface OracleQuestionRecall {
  itemId: string;
  /** Gold sub-questions, as searched (earlier answers substituted). */
  subQuestions: string[];
  /** Passages each side retrieved in all: steps × topK. */
  passages: number;
  question: ParagraphRecall;
  gold: ParagraphRecall;
}

/** The ceiling at one search mode. */
export interface OracleModeRecall {
  mode: SearchMode;
  /** Questions measured (with a decomposition and supporting titles). */
  questions: number;
  question: RecallMean;
  gold: RecallMean;
  perQuestion: OracleQuestionRecall[];
}

/** The oracle-decomposition ceiling of one dataset's sample. */
export interface OracleRecallReport {
  topK: number;
  /** Questions of the sample with a decomposition but no supporting titles to score against. */
  skipped: number;
  modes: OracleModeRecall[];
}

/**
 * The gold sub-questions with each `#n` replaced by step n's first gold answer (MuSiQue writes
 * "Who founded #1?"); a reference to a step with no answer (StrategyQA's) is left as written.
 */
export function goldSubQuestions(steps: readonly GoldStep[]): string[] {
  return steps.map((step) =>
    step.question.replace(/#(\d+)/g, (reference, n: string) => steps[Number(n) - 1]?.answers[0] ?? reference),
  );
}

/**
 * Measures the ceiling (see the module doc). Returns null when no question of the sample has both a
 * decomposition and supporting titles. Throws CancelledError when `signal` aborts; a search that
 * fails (a dense mode that cannot run) propagates its ReckonError.
 */
export async function measureOracleRecall(
  options: MeasureOracleRecallOptions,
): Promise<OracleRecallReport | null> {
  const { dataset, retriever, topK, signal } = options;
  const measured = dataset.items.filter(
    (item) => (item.gold.decomposition?.length ?? 0) > 0 && (item.gold.supportingTitles?.length ?? 0) > 0,
  );
  const skipped = dataset.items.filter(
    (item) => (item.gold.decomposition?.length ?? 0) > 0 && (item.gold.supportingTitles?.length ?? 0) === 0,
  ).length;
  if (measured.length === 0) return null;

  const total = measured.length * options.modes.length;
  let done = 0;
  const modes: OracleModeRecall[] = [];
  for (const mode of options.modes) {
    const perQuestion: OracleQuestionRecall[] = [];
    for (const item of measured) {
      throwIfAborted(signal);
      const subQuestions = goldSubQuestions(item.gold.decomposition!);
      const passages = subQuestions.length * topK;
      const search = async (query: string, k: number): Promise<string[]> =>
        (await retriever.search(query, { k, mode, ...(signal ? { signal } : {}) })).hits.map(
          (hit) => hit.title,
        );
      const questionTitles = await search(item.input.question, passages);
      const goldTitles: string[] = [];
      for (const subQuestion of subQuestions) goldTitles.push(...(await search(subQuestion, topK)));
      const gold = item.gold.supportingTitles!;
      perQuestion.push({
        itemId: item.id,
        subQuestions,
        passages,
        question: paragraphRecall(gold, questionTitles),
        gold: paragraphRecall(gold, goldTitles),
      });
      options.onProgress?.({ done: ++done, total });
    }
    modes.push({
      mode,
      questions: perQuestion.length,
      question: meanRecall(perQuestion.map((row) => row.question)),
      gold: meanRecall(perQuestion.map((row) => row.gold)),
      perQuestion,
    });
  }
  return { topK, skipped, modes };
}

function meanRecall(rows: readonly ParagraphRecall[]): RecallMean {
  const n = Math.max(1, rows.length);
  return {
    recall: rows.reduce((sum, row) => sum + row.recall, 0) / n,
    allFound: rows.reduce((sum, row) => sum + row.allFound, 0) / n,
  };
}
