/**
 * HotpotQA, 2WikiMultihopQA and MuSiQue records as EvalItems. Their context paragraphs become the
 * corpus (joined exactly as the corpus loader joins them, so titles and texts match an ingested
 * copy); the answer, aliases, supporting facts and decomposition go to `gold` only.
 */
import { joinSentences } from '../../corpus/loaders/loadQaDataset.ts';
import type { EvalDatasetKind, EvalItem, EvalParagraph, GoldStep, SupportingFact } from './EvalItem.ts';
import { RecordReader } from './readRecords.ts';

/**
 * HotpotQA (`_id`, `question`, `answer`, `type`, `supporting_facts`, `context`) or 2WikiMultihopQA
 * (the same fields, plus `evidences`) records. Throws BAD_DATASET naming the first record that does
 * not fit.
 */
export function hotpotQaItems(
  records: readonly unknown[],
  kind: Extract<EvalDatasetKind, 'hotpotqa' | '2wikimultihopqa'>,
  fileName: string,
): EvalItem[] {
  const read: RecordReader = new RecordReader(
    fileName,
    kind === 'hotpotqa' ? 'HotpotQA JSON' : '2WikiMultihopQA JSON',
  );
  return records.map((value, index) => {
    const where = `record ${index + 1}`;
    const record = read.object(value, where);
    const id = read.string(record, '_id', where);
    const paragraphs: EvalParagraph[] = read.array(record, 'context', where).map((entry) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
        read.fail(`${where} (${id}) context`, '[title, [sentence…]] pairs');
      const sentences = entry[1] as unknown[];
      if (!sentences.every((s): s is string => typeof s === 'string'))
        read.fail(`${where} (${id}) context "${entry[0]}"`, 'sentences to be strings');
      return { title: entry[0], text: joinSentences(sentences), sentences: [...sentences] };
    });
    const supportingFacts: SupportingFact[] = read.array(record, 'supporting_facts', where).map((fact) => {
      if (!Array.isArray(fact) || typeof fact[0] !== 'string' || typeof fact[1] !== 'number')
        read.fail(`${where} (${id}) supporting_facts`, '[title, sentence id] pairs');
      return [fact[0], fact[1]] as const;
    });
    const type = read.optionalString(record, 'type', where);
    return {
      id,
      dataset: kind,
      ...(type ? { category: type } : {}),
      input: { question: read.string(record, 'question', where), paragraphs },
      gold: {
        answers: [read.string(record, 'answer', where)],
        supportingFacts,
        supportingTitles: distinct(supportingFacts.map(([title]) => title)),
      },
    };
  });
}

/**
 * MuSiQue-Ans JSON lines (`id`, `question`, `answer`, `answer_aliases`, `paragraphs`,
 * `question_decomposition`). The category is the hop shape (`2hop`, `3hop1`, …), the id's prefix.
 */
export function musiqueItems(records: readonly unknown[], fileName: string): EvalItem[] {
  const read: RecordReader = new RecordReader(fileName, 'MuSiQue JSON lines');
  return records.map((value, index) => {
    const where = `line ${index + 1}`;
    const record = read.object(value, where);
    const id = read.string(record, 'id', where);
    const supportingTitles: string[] = [];
    const paragraphs: EvalParagraph[] = read.array(record, 'paragraphs', where).map((entry) => {
      const paragraph = read.object(entry, `${where} (${id}) paragraphs`);
      const title = read.string(paragraph, 'title', `${where} (${id}) paragraph`);
      if (paragraph.is_supporting === true) supportingTitles.push(title);
      return { title, text: read.string(paragraph, 'paragraph_text', `${where} (${id}) paragraph`) };
    });
    const aliases =
      record.answer_aliases === undefined ? [] : read.stringArray(record, 'answer_aliases', where);
    const decomposition: GoldStep[] = (
      record.question_decomposition === undefined ? [] : read.array(record, 'question_decomposition', where)
    ).map((entry) => {
      const step = read.object(entry, `${where} (${id}) question_decomposition`);
      return {
        question: read.string(step, 'question', `${where} (${id}) question_decomposition`),
        answers: [read.string(step, 'answer', `${where} (${id}) question_decomposition`)],
      };
    });
    const hops = /^([^_]+)__/.exec(id)?.[1];
    return {
      id,
      dataset: 'musique',
      ...(hops ? { category: hops } : {}),
      input: { question: read.string(record, 'question', where), paragraphs },
      gold: {
        answers: [read.string(record, 'answer', where), ...aliases],
        supportingTitles: distinct(supportingTitles),
        ...(decomposition.length > 0 ? { decomposition } : {}),
      },
    };
  });
}

export function distinct(values: readonly string[]): string[] {
  return [...new Set(values)];
}
