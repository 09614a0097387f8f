/**
 * Reading a dataset file's JSON (one document or JSON lines) and checking record fields, with
 * errors that name the file, the record and what was expected.
 */
import { ReckonError } from '../../errors.ts';

/** A parsed dataset file: one JSON document, JSON lines, or neither. */
export type ParsedJson =
  | { shape: 'document'; value: unknown }
  | { shape: 'lines'; records: unknown[] }
  | null;

/**
 * Parses `text` as one JSON document, else as JSON lines (blank lines skipped). Returns null when the
 * first non-blank line is not JSON either (so the caller may try CSV); throws ReckonError
 * `BAD_DATASET` when some later line is broken, naming its line number.
 */
export function parseJsonOrLines(text: string, fileName: string): ParsedJson {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return { shape: 'document', value: JSON.parse(source) as unknown };
  } catch {
    // Not one document: JSON lines, or not JSON at all.
  }
  const records: unknown[] = [];
  for (const [index, line] of source.split('\n').entries()) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as unknown);
    } catch (error) {
      if (records.length === 0) return null;
      throw new ReckonError(
        'BAD_DATASET',
        `"${fileName}" is not valid JSON lines: line ${index + 1}: ${(error as Error).message}. Fix or remove that line and try again.`,
        { cause: error },
      );
    }
  }
  return records.length > 0 ? { shape: 'lines', records } : null;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Reads typed fields of one record; every failure is a BAD_DATASET error naming the record and the format. */
export class RecordReader {
  constructor(
    private readonly fileName: string,
    private readonly formatLabel: string,
  ) {}

  fail(where: string, expected: string): never {
    throw new ReckonError(
      'BAD_DATASET',
      `"${this.fileName}" does not look like ${this.formatLabel}: ${where}: expected ${expected}. Check the file, or pass --format to read it as another format.`,
    );
  }

  object(value: unknown, where: string): Record<string, unknown> {
    if (!isObject(value)) this.fail(where, 'a JSON object');
    return value;
  }

  string(record: Record<string, unknown>, key: string, where: string): string {
    const value = record[key];
    if (typeof value !== 'string') this.fail(where, `"${key}" to be a string`);
    return value;
  }

  optionalString(record: Record<string, unknown>, key: string, where: string): string | undefined {
    const value = record[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') this.fail(where, `"${key}" to be a string`);
    return value;
  }

  stringArray(record: Record<string, unknown>, key: string, where: string): string[] {
    const value = record[key];
    if (!isStringArray(value)) this.fail(where, `"${key}" to be a list of strings`);
    return value;
  }

  array(record: Record<string, unknown>, key: string, where: string): unknown[] {
    const value = record[key];
    if (!Array.isArray(value)) this.fail(where, `"${key}" to be a list`);
    return value;
  }
}
