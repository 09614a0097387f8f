/**
 * Real text for the benchmarks, read (never copied) from the QA datasets in ../shared/data: the
 * context paragraphs of HotpotQA, 2WikiMultihopQA and MuSiQue split into sentences, and the questions
 * of all four datasets (Bamboogle has questions only).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SHARED_DATA_DIR } from './Benchmark.ts';

export type QaSource = 'hotpotqa' | '2wikimultihopqa' | 'musique';

export interface QaParagraph {
  source: QaSource;
  title: string;
  /** Trimmed sentences, in order. */
  sentences: string[];
  /** The sentences joined by single spaces. */
  text: string;
}

export interface QaText {
  /** Distinct (title, text) paragraphs in file order: HotpotQA, then 2WikiMultihopQA, then MuSiQue. */
  paragraphs: QaParagraph[];
  /** Every question, in file order: HotpotQA, 2WikiMultihopQA, MuSiQue, Bamboogle. */
  questions: string[];
}

export const HOTPOTQA_FILE = 'hotpotqa/dev_distractor_200.json';
export const HOTPOTQA_SMALL_FILE = 'hotpotqa/dev_distractor_official_first53.json';
const TWOWIKI_FILE = '2wikimultihopqa/dev_164.json';
const MUSIQUE_FILE = 'musique/ans_dev_200.jsonl';
const BAMBOOGLE_FILE = 'bamboogle/bamboogle_flashrag.jsonl';

type ContextRecord = { question: string; context: [string, string[]][] };
type MusiqueRecord = { question: string; paragraphs: { title: string; paragraph_text: string }[] };

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/** Reads the datasets under `dataDir` (default SHARED_DATA_DIR). */
export function loadQaText(dataDir = SHARED_DATA_DIR): QaText {
  const paragraphs: QaParagraph[] = [];
  const questions: string[] = [];
  const seen = new Set<string>();
  const add = (source: QaSource, title: string, rawSentences: readonly string[]): void => {
    const sentences = rawSentences.map((sentence) => sentence.trim()).filter((sentence) => sentence !== '');
    if (sentences.length === 0) return;
    const text = sentences.join(' ');
    const key = `${title}\u0000${text}`;
    if (seen.has(key)) return;
    seen.add(key);
    paragraphs.push({ source, title, sentences, text });
  };

  for (const [source, file] of [
    ['hotpotqa', HOTPOTQA_FILE],
    ['2wikimultihopqa', TWOWIKI_FILE],
  ] as const) {
    for (const record of readJson<ContextRecord[]>(path.join(dataDir, file))) {
      questions.push(record.question);
      for (const [title, sentences] of record.context) add(source, title, sentences);
    }
  }
  for (const record of readJsonLines<MusiqueRecord>(path.join(dataDir, MUSIQUE_FILE))) {
    questions.push(record.question);
    for (const paragraph of record.paragraphs) {
      const sentences = [...sentenceSegmenter.segment(paragraph.paragraph_text)].map((s) => s.segment);
      add('musique', paragraph.title, sentences);
    }
  }
  for (const record of readJsonLines<{ question: string }>(path.join(dataDir, BAMBOOGLE_FILE))) {
    questions.push(record.question);
  }
  return { paragraphs, questions };
}

function readJson<T>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

function readJsonLines<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}
