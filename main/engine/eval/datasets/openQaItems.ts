/**
 * Question + gold answer(s) files with no contexts of their own: Bamboogle (CSV, decomposition
 * JSON), FlashRAG-style JSONL, and the user's own CSV / JSON lines. A corpus has to come from
 * elsewhere (`--corpus`).
 */
import { normalizeOptionLabel } from '../scoring/multipleChoiceScore.ts';
import type { EvalItem, EvalOption, GoldStep } from './EvalItem.ts';
import { RecordReader, isObject, isStringArray } from './readRecords.ts';

/** Bamboogle's ids follow FlashRAG's file (`test_0`, `test_1`, …) so one predictions file fits every Bamboogle format. */
function bamboogleId(index: number): string {
  return `test_${index}`;
}

/** Headerless Bamboogle CSV: column 0 the question, column 4 the answer, column 5 an alternative answer. */
export function bamboogleCsvItems(rows: readonly string[][], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'the Bamboogle CSV (question in column 1, answer in column 5)',
  );
  return rows.map((row, index) => {
    const question = row[0]?.trim() ?? '';
    const answer = row[4]?.trim() ?? '';
    if (question === '' || answer === '')
      read.fail(`row ${index + 1}`, 'a question in column 1 and an answer in column 5');
    const alternative = row[5]?.trim() ?? '';
    return {
      id: bamboogleId(index),
      dataset: 'bamboogle',
      input: { question },
      gold: { answers: alternative !== '' && alternative !== answer ? [answer, alternative] : [answer] },
    };
  });
}

/** Bamboogle with decomposition: `[{Question, Answer, Q1, A1[], Q2, A2[]}]`. */
export function bamboogleJsonItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'Bamboogle JSON ({Question, Answer, Q1, A1, Q2, A2})',
  );
  return records.map((value, index) => {
    const where = `record ${index + 1}`;
    const record = read.object(value, where);
    const decomposition = decompositionOf(record);
    return {
      id: bamboogleId(index),
      dataset: 'bamboogle',
      input: { question: read.string(record, 'Question', where) },
      gold: {
        answers: [read.string(record, 'Answer', where)],
        ...(decomposition.length > 0 ? { decomposition } : {}),
      },
    };
  });
}

/**
 * FlashRAG-style JSON lines: `{id, question, golden_answers[], metadata?, choices?}`. With non-empty
 * `choices` the item is multiple choice: options are labelled A, B, … and `golden_answers` holds
 * option indices (FlashRAG's convention) or labels. Bamboogle's `metadata.{Q1,A1,Q2,A2}` becomes
 * the gold decomposition.
 */
export function flashRagItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'FlashRAG JSON lines ({id, question, golden_answers})',
  );
  return records.map((value, index) => {
    const where = `line ${index + 1}`;
    const record = read.object(value, where);
    const id = idOf(record) ?? read.fail(where, '"id"');
    const question = read.string(record, 'question', where);
    const golden = read.array(record, 'golden_answers', where);
    const choices = record.choices;
    if (isStringArray(choices) && choices.length > 0) {
      const options = labelled(choices);
      return {
        id,
        dataset: 'flashrag',
        input: { question, options },
        gold: {
          answers: golden.map(
            (gold) => goldLabel(gold, options) ?? read.fail(where, 'golden_answers to name a choice'),
          ),
        },
      };
    }
    if (!isStringArray(golden) || golden.length === 0)
      read.fail(where, '"golden_answers" to be a non-empty list of strings');
    const decomposition = isObject(record.metadata) ? decompositionOf(record.metadata) : [];
    return {
      id,
      dataset: 'flashrag',
      input: { question },
      gold: { answers: golden, ...(decomposition.length > 0 ? { decomposition } : {}) },
    };
  });
}

/** Field names a user's own file may use, in order of preference. */
const ID_FIELDS = ['id', '_id', 'qid'];
const QUESTION_FIELDS = ['question', 'Question', 'query', 'input'];
const ANSWER_FIELDS = ['answers', 'golden_answers', 'answer', 'Answer', 'gold', 'target'];
const ALIAS_FIELDS = ['aliases', 'answer_aliases', 'alternatives'];
const OPTION_FIELDS = ['options', 'choices'];

/**
 * The user's own JSON lines (or a JSON list) of `{question, answer}`: the question under `question`
 * (or `query` / `input`), the gold under `answers` / `golden_answers` / `answer` / `gold` / `target`
 * (a string, a number, a boolean or a list), more golds under `aliases` / `answer_aliases` /
 * `alternatives`; an optional `id` (else `q0`, `q1`, … by position); optional `options` / `choices`
 * (a list of strings labelled A, B, …, a list of `{label, text}`, or an object label → text) make it
 * multiple choice, the gold then being a label, an option index or an option's text.
 */
export function customJsonItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(fileName, 'a question/answer file ({question, answer})');
  return records.map((value, index) => {
    const where = `record ${index + 1}`;
    const record = read.object(value, where);
    const question = firstString(record, QUESTION_FIELDS) ?? read.fail(where, `a "question" string`);
    const golds = [...goldsOf(record, ANSWER_FIELDS), ...goldsOf(record, ALIAS_FIELDS)];
    if (golds.length === 0)
      read.fail(where, `a gold answer under one of ${ANSWER_FIELDS.map((f) => `"${f}"`).join(', ')}`);
    const options = optionsOf(record, read, where);
    return {
      id: idOf(record) ?? `q${index}`,
      dataset: 'custom',
      input: { question, ...(options ? { options } : {}) },
      gold: {
        answers: options
          ? golds.map(
              (gold) =>
                goldLabel(gold, options) ??
                read.fail(where, `the answer "${gold}" to name one of the options`),
            )
          : golds,
      },
    };
  });
}

/**
 * The user's own CSV with a header row: a `question` column; golds from `answer`, `answers`, `gold`,
 * `golden_answers` and any column whose name starts with `answer`, `alias` or `alternative` (empty
 * cells skipped); an optional `id` column; single-letter columns (A, B, …) make the row multiple
 * choice, its answer then being a label or an option's text.
 */
export function customCsvItems(rows: readonly string[][], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    'a question/answer CSV (a header row with "question" and "answer")',
  );
  const header = (rows[0] ?? []).map((name) => name.trim());
  const lower = header.map((name) => name.toLowerCase());
  const questionColumn = lower.indexOf('question');
  if (questionColumn === -1) read.fail('the header row', 'a "question" column');
  const goldColumns = lower.flatMap((name, i) =>
    /^(answers?|gold|golden_answers|answer[\s_-].*|alias.*|alternative.*)$/.test(name) ? [i] : [],
  );
  if (goldColumns.length === 0) read.fail('the header row', 'an "answer" column');
  const idColumn = lower.indexOf('id');
  const optionColumns = header.flatMap((name, i) => (/^[A-J]$/.test(name) ? [i] : []));
  return rows.slice(1).map((row, index) => {
    const where = `row ${index + 2}`;
    const question = row[questionColumn]?.trim() ?? '';
    if (question === '') read.fail(where, 'a question');
    const golds = goldColumns.map((i) => row[i]?.trim() ?? '').filter((gold) => gold !== '');
    if (golds.length === 0) read.fail(where, 'a gold answer');
    const options = optionColumns
      .map((i) => ({ label: header[i]!, text: row[i]?.trim() ?? '' }))
      .filter((option) => option.text !== '');
    const id = idColumn >= 0 && row[idColumn]?.trim() ? row[idColumn].trim() : `q${index}`;
    return {
      id,
      dataset: 'custom',
      input: { question, ...(options.length > 0 ? { options } : {}) },
      gold: {
        answers:
          options.length > 0
            ? golds.map(
                (gold) =>
                  goldLabel(gold, options) ??
                  read.fail(where, `the answer "${gold}" to name one of the options`),
              )
            : golds,
      },
    };
  });
}

function idOf(record: Record<string, unknown>): string | undefined {
  for (const field of ID_FIELDS) {
    const value = record[field];
    if (typeof value === 'string' && value !== '') return value;
    if (typeof value === 'number') return String(value);
  }
  return undefined;
}

function firstString(record: Record<string, unknown>, fields: readonly string[]): string | undefined {
  for (const field of fields) {
    const value = record[field];
    if (typeof value === 'string' && value.trim() !== '') return value;
  }
  return undefined;
}

function goldsOf(record: Record<string, unknown>, fields: readonly string[]): string[] {
  for (const field of fields) {
    const value = record[field];
    const list = Array.isArray(value)
      ? (value as unknown[])
      : value === undefined || value === null
        ? []
        : [value];
    const golds = list.flatMap((gold) => {
      if (typeof gold === 'string') return gold.trim() === '' ? [] : [gold];
      if (typeof gold === 'number') return [String(gold)];
      if (typeof gold === 'boolean') return [gold ? 'yes' : 'no'];
      return [];
    });
    if (golds.length > 0) return golds;
  }
  return [];
}

function optionsOf(
  record: Record<string, unknown>,
  read: RecordReader,
  where: string,
): EvalOption[] | undefined {
  for (const field of OPTION_FIELDS) {
    const value = record[field];
    if (value === undefined || value === null) continue;
    if (isStringArray(value)) return value.length > 0 ? labelled(value) : undefined;
    if (Array.isArray(value))
      return value.map((entry) => {
        if (!isObject(entry) || typeof entry.label !== 'string' || typeof entry.text !== 'string')
          read.fail(where, `"${field}" to be strings or {label, text} objects`);
        return { label: entry.label, text: entry.text };
      });
    if (isObject(value))
      return Object.entries(value).map(([label, text]) => {
        if (typeof text !== 'string') read.fail(where, `"${field}" to map labels to strings`);
        return { label, text };
      });
    read.fail(where, `"${field}" to be a list or an object`);
  }
  return undefined;
}

/** Choices labelled A, B, C, … in order. */
function labelled(choices: readonly string[]): EvalOption[] {
  return choices.map((text, i) => ({ label: String.fromCharCode(65 + i), text }));
}

/** The normalized label a gold names: an option index, a label, or an option's exact text. */
function goldLabel(gold: unknown, options: readonly EvalOption[]): string | undefined {
  if (typeof gold === 'number') {
    const option = options[gold];
    return option ? normalizeOptionLabel(option.label) : undefined;
  }
  if (typeof gold !== 'string') return undefined;
  const asLabel = normalizeOptionLabel(gold);
  const byLabel = options.find((option) => normalizeOptionLabel(option.label) === asLabel);
  if (byLabel) return asLabel;
  const byText = options.find((option) => option.text.trim() === gold.trim());
  if (byText) return normalizeOptionLabel(byText.label);
  if (/^\d+$/.test(gold.trim())) return goldLabel(Number(gold), options);
  return undefined;
}

/** `{Q1, A1[], Q2, A2[], …}` → gold steps, in order, while Q<n> exists. */
function decompositionOf(record: Record<string, unknown>): GoldStep[] {
  const steps: GoldStep[] = [];
  for (let n = 1; typeof record[`Q${n}`] === 'string'; n++) {
    const answers = record[`A${n}`];
    steps.push({
      question: record[`Q${n}`] as string,
      answers: isStringArray(answers) ? answers : typeof answers === 'string' ? [answers] : [],
    });
  }
  return steps;
}
