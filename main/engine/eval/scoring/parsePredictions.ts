/**
 * Reading a predictions file in the formats the official scripts take, so anyone can score the
 * same file with Reckon and with the original script.
 */
import { ReckonError } from '../../errors.ts';
import { isObject, isStringArray, parseJsonOrLines } from '../datasets/readRecords.ts';
import type { EvalPrediction } from './EvalScore.ts';

/** Which layout a predictions file had. */
export type PredictionsFormat = 'hotpotqa' | 'id-map' | 'records';

export interface ParsedPredictions {
  format: PredictionsFormat;
  predictions: Map<string, EvalPrediction>;
}

const ID_FIELDS = ['id', '_id', 'qid'];
const ANSWER_FIELDS = ['prediction', 'predicted_answer', 'pred', 'answer', 'output'];
const SP_FIELDS = ['sp', 'supporting_facts'];
const RETRIEVED_FIELDS = ['retrieved_titles', 'retrieved'];

/**
 * Parses a predictions file:
 * - HotpotQA's official `{"answer": {id: answer}, "sp": {id: [[title, sent_id]…]}}` (2Wiki's
 *   `evidence` key is ignored);
 * - `{id: answer}` JSON, an answer being a string, number or boolean, or an object as below;
 * - JSON lines (or a JSON list) of `{id, prediction}`: the id under `id` / `_id` / `qid`, the answer
 *   under `prediction` / `predicted_answer` (MuSiQue's) / `pred` / `answer` / `output`; optional
 *   `sp` / `supporting_facts` and `retrieved_titles` / `retrieved` (a list of titles, or of objects
 *   with a `title`).
 * Throws ReckonError `BAD_PREDICTIONS` naming what was expected.
 */
export function parsePredictions(text: string, fileName: string): ParsedPredictions {
  const bad: (why: string) => never = (why) => {
    throw new ReckonError(
      'BAD_PREDICTIONS',
      `"${fileName}" is not a predictions file: ${why}. Expected HotpotQA's {"answer": {id: …}, "sp": {id: […]}}, an {id: answer} JSON object, or JSON lines of {"id": …, "prediction": …}.`,
    );
  };
  let parsed;
  try {
    parsed = parseJsonOrLines(text, fileName);
  } catch (error) {
    throw new ReckonError('BAD_PREDICTIONS', (error as Error).message, { cause: error });
  }
  if (parsed === null) return bad('it is not JSON');
  const predictions = new Map<string, EvalPrediction>();

  if (parsed.shape === 'document' && isObject(parsed.value) && isObject(parsed.value.answer)) {
    const { answer, sp } = parsed.value;
    if (sp !== undefined && !isObject(sp)) bad('"sp" is not an object of id → [[title, sent_id]…]');
    for (const [id, value] of Object.entries(answer))
      predictions.set(id, { answer: answerValue(value, id, bad) });
    for (const [id, facts] of Object.entries(sp ?? {})) {
      const supportingFacts = factsValue(facts, id, bad);
      predictions.set(id, { ...(predictions.get(id) ?? { answer: null }), supportingFacts });
    }
    return { format: 'hotpotqa', predictions };
  }

  if (parsed.shape === 'document' && isObject(parsed.value) && !looksLikeRecord(parsed.value)) {
    for (const [id, value] of Object.entries(parsed.value))
      predictions.set(
        id,
        isObject(value) ? recordPrediction(value, id, bad) : { answer: answerValue(value, id, bad) },
      );
    return { format: 'id-map', predictions };
  }

  const records =
    parsed.shape === 'lines'
      ? parsed.records
      : Array.isArray(parsed.value)
        ? (parsed.value as unknown[])
        : [parsed.value];
  for (const [index, record] of records.entries()) {
    if (!isObject(record)) bad(`record ${index + 1} is not a JSON object`);
    const id = ID_FIELDS.map((field) => record[field]).find(
      (v) => typeof v === 'string' || typeof v === 'number',
    );
    if (id === undefined) bad(`record ${index + 1} has no "id"`);
    const key = String(id);
    if (predictions.has(key)) bad(`the id "${key}" has two predictions`);
    predictions.set(key, recordPrediction(record, key, bad));
  }
  return { format: 'records', predictions };
}

/** A single prediction record `{id, prediction}` parses as a document; tell it from an `{id: answer}` map. */
function looksLikeRecord(value: Record<string, unknown>): boolean {
  return ID_FIELDS.some((field) => field in value) && ANSWER_FIELDS.some((field) => field in value);
}

function recordPrediction(
  record: Record<string, unknown>,
  id: string,
  bad: (why: string) => never,
): EvalPrediction {
  const field = ANSWER_FIELDS.find((name) => name in record);
  const prediction: EvalPrediction = {
    answer: field === undefined ? null : answerValue(record[field], id, bad),
  };
  const spField = SP_FIELDS.find((name) => record[name] !== undefined);
  if (spField) prediction.supportingFacts = factsValue(record[spField], id, bad);
  const retrievedField = RETRIEVED_FIELDS.find((name) => record[name] !== undefined);
  if (retrievedField) prediction.retrievedTitles = titlesValue(record[retrievedField], id, bad);
  return prediction;
}

function answerValue(value: unknown, id: string, bad: (why: string) => never): EvalPrediction['answer'] {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return value;
  return bad(`the answer for "${id}" is not a string, number or boolean`);
}

function factsValue(value: unknown, id: string, bad: (why: string) => never): (readonly unknown[])[] {
  if (!Array.isArray(value) || !value.every((fact) => Array.isArray(fact) && fact.length === 2))
    bad(`the supporting facts for "${id}" are not a list of [title, sent_id] pairs`);
  return value as unknown[][];
}

function titlesValue(value: unknown, id: string, bad: (why: string) => never): string[] {
  if (isStringArray(value)) return value;
  if (Array.isArray(value) && value.every((entry) => isObject(entry) && typeof entry.title === 'string'))
    return value.map((entry) => (entry as { title: string }).title);
  return bad(`the retrieved titles for "${id}" are not a list of titles`);
}
