import type { TraceEvent } from '../../../../preload/TraceEvent.ts';

/**
 * The distinct titles of the passages a run retrieved, in first-seen order, read from its trace:
 * the `chunks` of retrieve() tool results (program methods: PyRAG, CoC, a user's program) and the
 * `docs` of step events (the retrieval baselines' retrievalStep, IRCoT's reader documents, …). This
 * is what supporting-paragraph recall is scored on, so a method that retrieves but never shows the
 * passages to its reader still gets the recall of its retriever.
 */
export function retrievedTitlesOf(events: readonly TraceEvent[]): string[] {
  const titles = new Set<string>();
  for (const event of events) {
    if (event.type === 'tool-result') {
      for (const chunk of event.chunks ?? []) titles.add(chunk.title);
    } else if (event.type === 'step') {
      const docs = event.data?.docs;
      if (!Array.isArray(docs)) continue;
      for (const doc of docs as unknown[]) {
        const title =
          typeof doc === 'object' && doc !== null ? (doc as { title?: unknown }).title : undefined;
        if (typeof title === 'string') titles.add(title);
      }
    }
  }
  return [...titles];
}
