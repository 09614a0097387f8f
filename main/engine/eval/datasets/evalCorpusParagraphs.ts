import type { EvalItem, EvalParagraph } from './EvalItem.ts';

/**
 * The paragraphs of a dataset's questions as one corpus: every item's `input.paragraphs`, in
 * first-seen order, each distinct (title, text) pair once (the same Wikipedia paragraph serves many
 * HotpotQA questions). Written as JSON lines of `{title, text}`, this is a file `reckon ingest`
 * reads as a QA corpus, one section per paragraph — and, unlike ingesting the dataset file itself,
 * it cannot carry an answer field (PubMedQA's LONG_ANSWER would be indexed as plain text).
 */
export function evalCorpusParagraphs(items: readonly EvalItem[]): { title: string; text: string }[] {
  const seen = new Set<string>();
  const out: { title: string; text: string }[] = [];
  for (const item of items)
    for (const paragraph of item.input.paragraphs ?? ([] as EvalParagraph[])) {
      const key = `${paragraph.title}\u0000${paragraph.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ title: paragraph.title, text: paragraph.text });
    }
  return out;
}
