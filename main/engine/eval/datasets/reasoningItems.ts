/**
 * GSM8K, BIG-Bench Hard, PubMedQA and StrategyQA records as EvalItems. Each keeps its gold fields
 * (GSM8K's worked solution, BBH's target, PubMedQA's `final_decision` and `LONG_ANSWER`, StrategyQA's
 * answer, facts and decomposition) in `gold` only.
 */
import { extractGsm8kAnswer, type PubMedQaLabel, PUBMEDQA_LABELS } from '../scoring/reasoningScores.ts';
import type { EvalItem, EvalParagraph } from './EvalItem.ts';
import { RecordReader, isObject } from './readRecords.ts';

/** GSM8K `{question, answer}` lines; the gold is the `#### <n>` number; ids are `gsm8k-<line index>`. */
export function gsm8kItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'GSM8K JSON lines ({question, answer ending "#### <n>"})',
  );
  return records.map((value, index) => {
    const where = `line ${index + 1}`;
    const record = read.object(value, where);
    const solution = read.string(record, 'answer', where);
    const gold = extractGsm8kAnswer(solution) ?? read.fail(where, 'the answer to end with "#### <number>"');
    return {
      id: `gsm8k-${index}`,
      dataset: 'gsm8k',
      input: { question: read.string(record, 'question', where) },
      gold: { answers: [gold], rationale: solution },
    };
  });
}

/** A BBH task file `{canary, examples: [{input, target}]}`; ids are `<task>-<index>`. */
export function bbhItems(document: unknown, task: string, fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'a BIG-Bench Hard task file ({examples: [{input, target}]})',
  );
  const examples = read.array(read.object(document, 'the document'), 'examples', 'the document');
  return examples.map((value, index) => {
    const where = `example ${index + 1}`;
    const example = read.object(value, where);
    return {
      id: `${task}-${index}`,
      dataset: 'bbh',
      category: task,
      input: { question: read.string(example, 'input', where) },
      gold: { answers: [read.string(example, 'target', where)] },
    };
  });
}

/**
 * A BBH cot-prompts file without its canary: everything after the `-----` line, trimmed (the canary
 * line above it must not reach anything that could be published). Returns undefined when there is
 * no `-----` line, rather than risk keeping a canary.
 */
export function stripBbhCanary(text: string): string | undefined {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const rule = lines.findIndex((line) => line.trim() === '-----');
  if (rule === -1) return undefined;
  return lines
    .slice(rule + 1)
    .join('\n')
    .trim();
}

/** StrategyQA `[{qid, question, answer: bool, facts, decomposition}]`; the gold is "yes" or "no". */
export function strategyQaItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'StrategyQA JSON ({qid, question, answer: true/false})',
  );
  return records.map((value, index) => {
    const where = `record ${index + 1}`;
    const record = read.object(value, where);
    if (typeof record.answer !== 'boolean') read.fail(where, '"answer" to be true or false');
    const decomposition = Array.isArray(record.decomposition)
      ? record.decomposition.filter((step): step is string => typeof step === 'string')
      : [];
    const facts = Array.isArray(record.facts)
      ? record.facts.filter((f): f is string => typeof f === 'string')
      : [];
    return {
      id: read.string(record, 'qid', where),
      dataset: 'strategyqa',
      input: { question: read.string(record, 'question', where) },
      gold: {
        answers: [record.answer ? 'yes' : 'no'],
        ...(decomposition.length > 0
          ? { decomposition: decomposition.map((question) => ({ question, answers: [] })) }
          : {}),
        ...(facts.length > 0 ? { rationale: facts.join(' ') } : {}),
      },
    };
  });
}

/**
 * PubMedQA `ori_pqal.json` (an object keyed by PMID). With `testLabels` (test_ground_truth.json:
 * PMID → label) only those PMIDs are loaded, in that file's order, with its labels as gold; else
 * every record, with `final_decision` as gold. The method sees QUESTION and CONTEXTS only (the
 * "reasoning-required" setting); each context is a paragraph titled "PMID <id> <LABEL>", and the
 * item's own contexts are its supporting titles.
 */
export function pubMedQaItems(
  document: unknown,
  testLabels: Record<string, unknown> | undefined,
  fileName: string,
): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'PubMedQA ori_pqal.json ({PMID: {QUESTION, CONTEXTS, final_decision}})',
  );
  const records = read.object(document, 'the document');
  const pmids = testLabels ? Object.keys(testLabels) : Object.keys(records);
  return pmids.map((pmid) => {
    const where = `PMID ${pmid}`;
    const record = read.object(records[pmid], where);
    const contexts = read.stringArray(record, 'CONTEXTS', where);
    const labels = Array.isArray(record.LABELS) ? record.LABELS : [];
    const paragraphs: EvalParagraph[] = contexts.map((text, i) => {
      const section = typeof labels[i] === 'string' ? ` ${labels[i]}` : ` context ${i + 1}`;
      return { title: `PMID ${pmid}${section}`, text };
    });
    const gold = testLabels ? testLabels[pmid] : record.final_decision;
    if (typeof gold !== 'string' || !(PUBMEDQA_LABELS as readonly string[]).includes(gold))
      read.fail(where, 'a yes/no/maybe label');
    const longAnswer = typeof record.LONG_ANSWER === 'string' ? record.LONG_ANSWER : undefined;
    return {
      id: pmid,
      dataset: 'pubmedqa',
      input: { question: read.string(record, 'QUESTION', where), paragraphs },
      gold: {
        answers: [gold as PubMedQaLabel],
        supportingTitles: [...new Set(paragraphs.map((p) => p.title))],
        ...(longAnswer ? { rationale: longAnswer } : {}),
      },
    };
  });
}

/** Whether a document is PubMedQA's label file (`{PMID: "yes" | "no" | "maybe"}`) rather than the dataset. */
export function isPubMedQaLabelFile(document: unknown): boolean {
  if (!isObject(document)) return false;
  const values = Object.values(document);
  return (
    values.length > 0 &&
    values.every((v) => typeof v === 'string' && (PUBMEDQA_LABELS as readonly string[]).includes(v))
  );
}
