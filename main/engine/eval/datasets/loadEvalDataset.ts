/**
 * Reading an evaluation dataset file into EvalItems: the format is recognized from the file's
 * content (or given), sibling files are picked up where the dataset ships them (BBH's
 * cot-prompts/<task>.txt, PubMedQA's test_ground_truth.json), and --limit / --seed sample it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ReckonError, throwIfAborted } from '../../errors.ts';
import {
  EVAL_DATASET_FORMATS,
  type EvalDataset,
  type EvalDatasetFormat,
  type EvalDatasetKind,
  type EvalItem,
} from './EvalItem.ts';
import { hotpotQaItems, musiqueItems } from './multihopItems.ts';
import {
  bamboogleCsvItems,
  bamboogleJsonItems,
  customCsvItems,
  customJsonItems,
  flashRagItems,
} from './openQaItems.ts';
import { parseCsv } from './parseCsv.ts';
import { type ParsedJson, isObject, parseJsonOrLines } from './readRecords.ts';
import {
  bbhItems,
  gsm8kItems,
  isPubMedQaLabelFile,
  pubMedQaItems,
  strategyQaItems,
  stripBbhCanary,
} from './reasoningItems.ts';
import { sampleItems } from './sampleItems.ts';

export interface ParseEvalDatasetOptions {
  /** The file's name, for messages, BBH's task name and custom datasets' display name. */
  fileName: string;
  /** Read the file as this format instead of recognizing it. Default: recognized from the content. */
  format?: EvalDatasetFormat;
  /**
   * Reads a file relative to the dataset's folder ("cot-prompts/web_of_lies.txt",
   * "test_ground_truth.json"); undefined when it is not there. Default: none are read.
   */
  readSibling?: (relativePath: string) => string | undefined;
  /** Keep at most this many questions. Default: all. */
  limit?: number;
  /** Sample with this seed instead of taking the first `limit` (see sampleItems). Default: none. */
  seed?: number;
}

export interface LoadEvalDatasetOptions extends Omit<ParseEvalDatasetOptions, 'fileName' | 'readSibling'> {
  signal?: AbortSignal;
}

/** The kind (and so the scoring rule) of each format. */
const KIND_OF_FORMAT: Record<EvalDatasetFormat, EvalDatasetKind> = {
  hotpotqa: 'hotpotqa',
  '2wikimultihopqa': '2wikimultihopqa',
  musique: 'musique',
  'bamboogle-csv': 'bamboogle',
  'bamboogle-json': 'bamboogle',
  flashrag: 'flashrag',
  gsm8k: 'gsm8k',
  bbh: 'bbh',
  pubmedqa: 'pubmedqa',
  strategyqa: 'strategyqa',
  'custom-csv': 'custom',
  'custom-jsonl': 'custom',
};

const EXPECTED_FORMATS = [
  'HotpotQA or 2WikiMultihopQA JSON (a list of {_id, question, answer, context, supporting_facts})',
  'MuSiQue JSON lines ({id, question, answer, answer_aliases, paragraphs})',
  'Bamboogle CSV (headerless: question in column 1, answer in column 5) or JSON ({Question, Answer, Q1, A1, …})',
  'FlashRAG JSON lines ({id, question, golden_answers})',
  'GSM8K JSON lines ({question, answer ending "#### <n>"})',
  'a BIG-Bench Hard task file ({examples: [{input, target}]})',
  "PubMedQA's ori_pqal.json ({PMID: {QUESTION, CONTEXTS, final_decision}})",
  'StrategyQA JSON (a list of {qid, question, answer: true/false})',
  'your own CSV (header row with "question" and "answer") or JSON lines ({question, answer})',
];

/**
 * Reads `filePath` as an evaluation dataset. Throws ReckonError `FILE_NOT_FOUND` when it cannot be
 * read, `UNKNOWN_DATASET_FORMAT` when its format is not recognized (listing what is), `BAD_DATASET`
 * when it is recognized (or `format` is given) but a record does not fit. Siblings: a BBH task file
 * picks up `cot-prompts/<task>.txt` beside it as the few-shot prompt; PubMedQA's `ori_pqal.json`
 * picks up `test_ground_truth.json` beside it and then loads the official 500 test questions only.
 */
export async function loadEvalDataset(
  filePath: string,
  options: LoadEvalDatasetOptions = {},
): Promise<EvalDataset> {
  let text: string;
  try {
    text = await fs.promises.readFile(filePath, 'utf8');
  } catch (error) {
    throw new ReckonError(
      'FILE_NOT_FOUND',
      `Cannot read the dataset ${filePath}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  throwIfAborted(options.signal);
  const folder = path.dirname(filePath);
  const dataset = parseEvalDataset(text, {
    ...options,
    fileName: path.basename(filePath),
    readSibling: (relative) => {
      try {
        return fs.readFileSync(path.join(folder, relative), 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  return { ...dataset, path: filePath };
}

/** The same as loadEvalDataset on a file's text (`path` is the file name). No I/O beyond `readSibling`. */
export function parseEvalDataset(text: string, options: ParseEvalDatasetOptions): EvalDataset {
  const { fileName } = options;
  if (options.format !== undefined && !(EVAL_DATASET_FORMATS as readonly string[]).includes(options.format))
    throw new ReckonError(
      'UNKNOWN_DATASET_FORMAT',
      `There is no dataset format "${options.format}". Use one of: ${EVAL_DATASET_FORMATS.join(', ')}.`,
    );
  const isCsv =
    /\.csv$/i.test(fileName) || options.format === 'bamboogle-csv' || options.format === 'custom-csv';
  const json = isCsv ? null : parseJsonOrLines(text, fileName);
  const rows = json === null ? parseCsv(text, fileName) : undefined;
  const format = options.format ?? detectEvalFormat(json, rows, fileName);
  const notes: string[] = [];
  let fewShotPrompt: string | undefined;
  let items: EvalItem[];
  let name: string = KIND_OF_FORMAT[format];

  switch (format) {
    case 'hotpotqa':
    case '2wikimultihopqa':
      items = hotpotQaItems(recordsOf(json, format, fileName), format, fileName);
      if (format === '2wikimultihopqa')
        notes.push(
          'Golds are the answer only (the official alias file is not read); joint scores need evidence predictions and are not computed.',
        );
      break;
    case 'musique':
      items = musiqueItems(recordsOf(json, format, fileName), fileName);
      break;
    case 'bamboogle-csv':
      items = bamboogleCsvItems(rowsOf(rows, text, fileName), fileName);
      name = 'bamboogle';
      break;
    case 'bamboogle-json':
      items = bamboogleJsonItems(recordsOf(json, format, fileName), fileName);
      break;
    case 'flashrag':
      items = flashRagItems(recordsOf(json, format, fileName), fileName);
      name = baseName(fileName);
      break;
    case 'gsm8k':
      items = gsm8kItems(recordsOf(json, format, fileName), fileName);
      break;
    case 'bbh': {
      const task = baseName(fileName);
      items = bbhItems(documentOf(json, format, fileName), task, fileName);
      name = `bbh/${task}`;
      const prompt = options.readSibling?.(`cot-prompts/${task}.txt`);
      fewShotPrompt = prompt === undefined ? undefined : stripBbhCanary(prompt);
      notes.push(
        fewShotPrompt === undefined
          ? `No cot-prompts/${task}.txt beside the task file: no few-shot prompt.`
          : `Few-shot prompt: cot-prompts/${task}.txt (canary stripped).`,
      );
      break;
    }
    case 'pubmedqa': {
      const document = documentOf(json, format, fileName);
      const labelsText = options.readSibling?.('test_ground_truth.json');
      let testLabels: Record<string, unknown> | undefined;
      if (labelsText !== undefined) {
        const parsed = parseJsonOrLines(labelsText, 'test_ground_truth.json');
        if (parsed?.shape === 'document' && isPubMedQaLabelFile(parsed.value))
          testLabels = parsed.value as Record<string, unknown>;
      }
      items = pubMedQaItems(document, testLabels, fileName);
      notes.push(
        testLabels
          ? `The official test split: the ${items.length} PMIDs of test_ground_truth.json.`
          : 'Every record (no test_ground_truth.json beside the file, so not the official test split).',
      );
      break;
    }
    case 'strategyqa':
      items = strategyQaItems(recordsOf(json, format, fileName), fileName);
      break;
    case 'custom-csv':
      items = customCsvItems(rowsOf(rows, text, fileName), fileName);
      name = baseName(fileName);
      break;
    case 'custom-jsonl':
      items = customJsonItems(recordsOf(json, format, fileName), fileName);
      name = baseName(fileName);
      break;
  }

  assertUniqueIds(items, fileName);
  const total = items.length;
  const sampled = sampleItems(items, {
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  });
  return {
    kind: KIND_OF_FORMAT[format],
    format,
    path: fileName,
    name,
    items: sampled,
    total,
    hasContexts: sampled.some((item) => (item.input.paragraphs?.length ?? 0) > 0),
    ...(fewShotPrompt !== undefined ? { fewShotPrompt } : {}),
    notes,
  };
}

/**
 * Recognizes a dataset's format from its parsed content (`json`, or CSV `rows` when it is not JSON).
 * Throws ReckonError `UNKNOWN_DATASET_FORMAT` listing the formats it knows.
 */
export function detectEvalFormat(
  json: ParsedJson,
  rows: string[][] | undefined,
  fileName: string,
): EvalDatasetFormat {
  const unknown: (why: string) => never = (why) => {
    throw new ReckonError(
      'UNKNOWN_DATASET_FORMAT',
      `Cannot tell what kind of dataset "${fileName}" is (${why}). Expected one of:\n${EXPECTED_FORMATS.map((f) => `  - ${f}`).join('\n')}\nIf it is one of these, name it with --format (${EVAL_DATASET_FORMATS.join(', ')}).`,
    );
  };
  if (json === null) {
    const header = (rows?.[0] ?? []).map((cell) => cell.trim().toLowerCase());
    if (header.includes('question')) return 'custom-csv';
    if (rows && rows.length > 0 && rows.every((row) => row.length >= 5 && (row[4] ?? '').trim() !== ''))
      return 'bamboogle-csv';
    return unknown(
      rows && rows.length > 0
        ? 'not JSON, and not a CSV with a "question" header or an answer in column 5'
        : 'it is empty',
    );
  }
  if (json.shape === 'document' && isObject(json.value)) {
    const value = json.value;
    if (Array.isArray(value.examples)) return 'bbh';
    if (isPubMedQaLabelFile(value))
      throw new ReckonError(
        'BAD_DATASET',
        `"${fileName}" is PubMedQA's label file (PMID → yes/no/maybe). Pass ori_pqal.json as the dataset; with test_ground_truth.json beside it, the official 500 test questions are loaded.`,
      );
    const first = Object.values(value)[0];
    if (isObject(first) && 'QUESTION' in first && 'CONTEXTS' in first) return 'pubmedqa';
  }
  const records =
    json.shape === 'lines' ? json.records : Array.isArray(json.value) ? json.value : [json.value];
  const first: unknown = records[0];
  if (!isObject(first)) return unknown('its records are not JSON objects');
  if ('_id' in first && 'context' in first && 'supporting_facts' in first)
    return 'evidences' in first || 'answer_id' in first || 'entity_ids' in first
      ? '2wikimultihopqa'
      : 'hotpotqa';
  if ('paragraphs' in first && ('answer_aliases' in first || 'question_decomposition' in first))
    return 'musique';
  if ('qid' in first && typeof first.answer === 'boolean') return 'strategyqa';
  if ('Question' in first && 'Answer' in first) return 'bamboogle-json';
  if ('golden_answers' in first && 'question' in first) return 'flashrag';
  if (
    typeof first.question === 'string' &&
    typeof first.answer === 'string' &&
    /#### -?[0-9.,]+\s*$/.test(first.answer)
  )
    return 'gsm8k';
  const hasQuestion = ['question', 'query', 'input'].some((field) => typeof first[field] === 'string');
  const hasAnswer = ['answers', 'answer', 'gold', 'target'].some((field) => field in first);
  if (hasQuestion && hasAnswer) return 'custom-jsonl';
  return unknown(`its first record has the fields ${Object.keys(first).slice(0, 8).join(', ') || '(none)'}`);
}

function recordsOf(json: ParsedJson, format: EvalDatasetFormat, fileName: string): unknown[] {
  if (json === null) notJson(format, fileName);
  if (json.shape === 'lines') return json.records;
  return Array.isArray(json.value) ? json.value : [json.value];
}

function documentOf(json: ParsedJson, format: EvalDatasetFormat, fileName: string): unknown {
  if (json === null) notJson(format, fileName);
  if (json.shape === 'lines')
    throw new ReckonError(
      'BAD_DATASET',
      `"${fileName}" is JSON lines, but the ${format} format is one JSON document.`,
    );
  return json.value;
}

function rowsOf(rows: string[][] | undefined, text: string, fileName: string): string[][] {
  return rows ?? parseCsv(text, fileName);
}

function notJson(format: EvalDatasetFormat, fileName: string): never {
  throw new ReckonError(
    'BAD_DATASET',
    `"${fileName}" is not JSON, but the ${format} format is JSON. Check the file or the --format.`,
  );
}

function baseName(fileName: string): string {
  return path.basename(fileName).replace(/\.(jsonl?|csv)$/i, '');
}

function assertUniqueIds(items: readonly EvalItem[], fileName: string): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.id))
      throw new ReckonError(
        'BAD_DATASET',
        `"${fileName}" has the question id "${item.id}" twice; predictions are matched by id, so ids must be unique.`,
      );
    seen.add(item.id);
  }
}
