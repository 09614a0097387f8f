import fs from 'node:fs';
import path from 'node:path';
import { ReckonError } from '../../errors.ts';
import { EVAL_RECORD_VERSION, evalRecordKey, type EvalRecord } from './EvalRecord.ts';

/** File name of the per-question records inside an evaluation's output folder. */
export const EVAL_RESULTS_FILE = 'results.jsonl';

/**
 * The append-only JSON lines of an evaluation's records. Each completed question is one line,
 * written with a single append and fsynced before the next question is counted as done, so a kill
 * at any moment loses at most the line being written; a torn last line (no newline) is cut off
 * when the file is opened, before anything is appended. Lines that are not records of this version
 * are kept in the file but ignored. When one measurement appears twice (two processes on one
 * folder), the first line wins.
 */
export class EvalResultsFile {
  readonly path: string;
  readonly #byKey = new Map<string, EvalRecord>();
  /** Lines that were not records of this version (kept in the file, not read). */
  readonly skippedLines: number;

  private constructor(filePath: string, records: EvalRecord[], skippedLines: number) {
    this.path = filePath;
    this.skippedLines = skippedLines;
    for (const record of records) {
      const key = evalRecordKey(record.configKey, record.itemId);
      if (!this.#byKey.has(key)) this.#byKey.set(key, record);
    }
  }

  /**
   * Opens (creating the folder) `<outDir>/results.jsonl` and reads its records. Throws ReckonError
   * `EVAL_OUT_UNREADABLE` when the file exists but cannot be read or repaired.
   */
  static open(outDir: string): EvalResultsFile {
    const filePath = path.join(outDir, EVAL_RESULTS_FILE);
    try {
      fs.mkdirSync(outDir, { recursive: true });
      if (!fs.existsSync(filePath)) return new EvalResultsFile(filePath, [], 0);
      let text = fs.readFileSync(filePath, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) {
        // A line torn by a kill mid-write: drop it, so that the next append starts a clean line.
        const keep = text.lastIndexOf('\n') + 1;
        fs.truncateSync(filePath, Buffer.byteLength(text.slice(0, keep)));
        text = text.slice(0, keep);
      }
      const { records, skipped } = parseEvalRecords(text);
      return new EvalResultsFile(filePath, records, skipped);
    } catch (error) {
      throw new ReckonError(
        'EVAL_OUT_UNREADABLE',
        `Cannot read the evaluation results ${filePath}: ${(error as Error).message}. Choose another --out folder or move that file away.`,
        { cause: error },
      );
    }
  }

  /** The record of this measurement, if it was made. */
  get(configKey: string, itemId: string): EvalRecord | undefined {
    return this.#byKey.get(evalRecordKey(configKey, itemId));
  }

  has(configKey: string, itemId: string): boolean {
    return this.#byKey.has(evalRecordKey(configKey, itemId));
  }

  /** Every record read or appended, in file order. */
  records(): EvalRecord[] {
    return [...this.#byKey.values()];
  }

  /**
   * Appends `record` as one line (one write, then fsync). A record whose measurement is already in
   * the file is not written again; returns whether it was written.
   */
  append(record: EvalRecord): boolean {
    const key = evalRecordKey(record.configKey, record.itemId);
    if (this.#byKey.has(key)) return false;
    const fd = fs.openSync(this.path, 'a');
    try {
      fs.writeSync(fd, `${JSON.stringify(record)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.#byKey.set(key, record);
    return true;
  }
}

/** The records of JSON-lines text, and how many non-blank lines were not records of this version. */
export function parseEvalRecords(text: string): { records: EvalRecord[]; skipped: number } {
  const records: EvalRecord[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped++;
      continue;
    }
    if (isEvalRecord(value)) records.push(value);
    else skipped++;
  }
  return { records, skipped };
}

function isEvalRecord(value: unknown): value is EvalRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<EvalRecord>;
  return (
    record.version === EVAL_RECORD_VERSION &&
    typeof record.configKey === 'string' &&
    typeof record.itemId === 'string' &&
    typeof record.score === 'object' &&
    record.score !== null
  );
}
