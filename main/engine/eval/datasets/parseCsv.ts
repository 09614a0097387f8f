/**
 * A small RFC 4180 CSV reader: fields separated by commas, records by \n or \r\n; a field in double
 * quotes may hold commas, line breaks and doubled quotes (""). Enough for Bamboogle's file and a
 * spreadsheet export; no dialect sniffing.
 */
import { ReckonError } from '../../errors.ts';

/**
 * Splits `text` into records of fields. A leading BOM is dropped; blank lines (no fields at all) are
 * skipped. Throws ReckonError `BAD_DATASET` on a quote that is never closed, naming `fileName`.
 */
export function parseCsv(text: string, fileName: string): string[][] {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let line = 1;
  let quoteLine = 0;
  const endRecord = (): void => {
    record.push(field);
    if (!(record.length === 1 && record[0] === '' && !fieldStarted)) records.push(record);
    record = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!;
    if (quoted) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
      quoteLine = line;
    } else if (ch === ',') {
      record.push(field);
      field = '';
      fieldStarted = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && source[i + 1] === '\n') i++;
      line++;
      endRecord();
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted)
    throw new ReckonError(
      'BAD_DATASET',
      `"${fileName}" is not valid CSV: the quoted field that starts on line ${quoteLine} is never closed. Fix the quotes and try again.`,
    );
  if (field !== '' || record.length > 0 || fieldStarted) endRecord();
  return records;
}
