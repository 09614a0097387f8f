import { ParseError, throwIfAborted } from '../../errors.ts';
import { cleanText } from '../cleanText.ts';
import { assertTextWithinLimit, type LoaderContext } from './LoaderContext.ts';
import type { ParsedFile, ParsedSection } from './ParsedFile.ts';

interface RawParagraph {
  title: string;
  text: string;
}

/**
 * Reads a QA-dataset file as its retrieval corpus: one section per distinct (title, text) context
 * paragraph, in first-seen order, deduplicated across questions (the same Wikipedia paragraph serves
 * many questions). Recognized record shapes, in a JSON array, a single JSON object or JSON lines:
 * - HotpotQA / 2WikiMultihopQA: `context: [[title, [sentence…]]…]` (sentences joined with "", as they
 *   keep their leading spaces), also the Hugging Face form `context: {title: [...], sentences: [[...]]}`;
 * - MuSiQue: `paragraphs: [{title, paragraph_text}…]`;
 * - FlashRAG-style corpus: `{contents: "title\ntext"}` (a quoted title is unquoted) or `{title, text}`.
 * Returns null when some record matches none of these, so that the caller indexes the file as plain
 * text (any JSON is searchable text); throws ParseError `BAD_JSON` when the content is not JSON at
 * all, neither one document nor JSON lines — a damaged file is reported, not indexed as text. Titles and texts go through cleanText; empty paragraphs are
 * skipped. Throws ParseError `TEXT_TOO_LARGE` past limits.maxTextChars. No defaults.
 */
export function loadQaDataset(text: string, context: LoaderContext): ParsedFile | null {
  const records = parseJsonRecords(text, context);
  if (records.length === 0) return null;

  const perRecord: RawParagraph[][] = [];
  for (const record of records) {
    const paragraphs = paragraphsOf(record);
    if (paragraphs === null) return null;
    perRecord.push(paragraphs);
  }

  const seen = new Set<string>();
  const sections: ParsedSection[] = [];
  let totalChars = 0;
  for (const paragraphs of perRecord) {
    throwIfAborted(context.signal);
    for (const paragraph of paragraphs) {
      const sectionText = cleanText(paragraph.text);
      if (sectionText === '') continue;
      const title = cleanText(paragraph.title) || context.fileName;
      const key = `${title}\u0000${sectionText}`;
      if (seen.has(key)) continue;
      seen.add(key);
      sections.push({ title, text: sectionText });
      totalChars += title.length + sectionText.length;
      assertTextWithinLimit(totalChars, context);
    }
  }
  return { kind: 'qa-dataset', sections };
}

/**
 * A JSON document (array → its items, object → itself) or JSON lines. Throws ParseError BAD_JSON
 * when it is neither, quoting the parser's complaint: about the first bad line of a `.jsonl` file
 * (or of a file whose first line parses on its own), else about the document as a whole.
 */
function parseJsonRecords(text: string, context: LoaderContext): unknown[] {
  let documentError: string;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value : [value];
  } catch (error) {
    // Not one JSON document: try JSON lines.
    documentError = (error as Error).message;
  }
  const records: unknown[] = [];
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    try {
      const value: unknown = JSON.parse(line);
      if (Array.isArray(value)) records.push(...(value as unknown[]));
      else records.push(value);
    } catch (error) {
      const asLines = /\.jsonl$/i.test(context.fileName) || records.length > 0;
      throw new ParseError(
        'BAD_JSON',
        asLines
          ? `"${context.fileName}" is not valid JSON lines: line ${index + 1}: ${(error as Error).message}. Fix or remove that line and ingest the file again.`
          : `"${context.fileName}" is not valid JSON: ${documentError}. Fix the file and ingest it again.`,
        { cause: error },
      );
    }
  }
  return records;
}

/**
 * Joins a paragraph's sentences. HotpotQA keeps the leading space of every sentence after the first
 * (so "" restores the paragraph); 2WikiMultihopQA does not, so a space is added where none is.
 */
export function joinSentences(sentences: readonly string[]): string {
  let text = '';
  for (const sentence of sentences) {
    if (text !== '' && sentence !== '' && !/^\s/.test(sentence) && !/\s$/.test(text)) text += ' ';
    text += sentence;
  }
  return text;
}

function paragraphsOf(record: unknown): RawParagraph[] | null {
  if (!isObject(record)) return null;
  const { context, paragraphs, contents, title, text } = record;

  if (Array.isArray(context)) {
    const out: RawParagraph[] = [];
    for (const entry of context) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !isStringArray(entry[1])) return null;
      out.push({ title: entry[0], text: joinSentences(entry[1]) });
    }
    return out;
  }
  if (isObject(context) && isStringArray(context.title) && Array.isArray(context.sentences)) {
    const sentences = context.sentences;
    const out: RawParagraph[] = [];
    for (const [i, paragraphTitle] of context.title.entries()) {
      const paragraphSentences: unknown = sentences[i];
      if (!isStringArray(paragraphSentences)) return null;
      out.push({ title: paragraphTitle, text: joinSentences(paragraphSentences) });
    }
    return out;
  }
  if (Array.isArray(paragraphs)) {
    const out: RawParagraph[] = [];
    for (const paragraph of paragraphs) {
      if (!isObject(paragraph) || typeof paragraph.paragraph_text !== 'string') return null;
      const paragraphTitle = typeof paragraph.title === 'string' ? paragraph.title : '';
      out.push({ title: paragraphTitle, text: paragraph.paragraph_text });
    }
    return out;
  }
  if (typeof contents === 'string') {
    const newline = contents.indexOf('\n');
    if (newline === -1) return [{ title: '', text: contents }];
    const firstLine = contents.slice(0, newline).trim();
    const unquoted = /^"(.*)"$/.exec(firstLine)?.[1] ?? firstLine;
    return [{ title: unquoted, text: contents.slice(newline + 1) }];
  }
  if (typeof title === 'string' && typeof text === 'string') return [{ title, text }];
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
