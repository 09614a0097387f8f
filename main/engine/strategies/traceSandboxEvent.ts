import type { JsonValue, RetrievedDoc, SandboxEvent } from '../sandbox/SandboxTypes.ts';
import type { TraceEventBody } from '../../../preload/TraceEvent.ts';

/** Longest one-line summary of a tool result in the trace. */
const MAX_SUMMARY_CHARS = 300;

/**
 * The trace event for a sandbox event of the given execution (1-based). Results of `retrieve` keep
 * the chunks found, results of `answer` the answer; any other tool's result is summarized as JSON.
 * `cached` marks a result served from an earlier execution of the run.
 */
export function traceSandboxEvent(
  execution: number,
  event: SandboxEvent,
  options: { cached?: boolean } = {},
): TraceEventBody {
  switch (event.type) {
    case 'host-call':
      return {
        type: 'tool-call',
        execution,
        callIndex: event.callIndex,
        tool: event.tool,
        args: event.args,
        line: event.line ?? null,
      };
    case 'binding':
      return { type: 'binding', execution, name: event.name, preview: event.preview, line: event.line };
    case 'log':
      return { type: 'log', execution, level: event.level, message: event.message };
    case 'host-result': {
      const base = {
        type: 'tool-result' as const,
        execution,
        callIndex: event.callIndex,
        tool: event.tool,
        durationMs: event.durationMs,
        ...(options.cached ? { cached: true } : {}),
      };
      if (event.error !== undefined)
        return { ...base, summary: `failed: ${event.error}`, error: event.error };
      if (event.tool === 'retrieve' && Array.isArray(event.result)) {
        const docs = event.result as unknown as RetrievedDoc[];
        return {
          ...base,
          summary: `${docs.length} passage${docs.length === 1 ? '' : 's'}`,
          chunks: docs.map((doc) => ({ id: doc.id, title: doc.title, score: doc.score, source: doc.source })),
        };
      }
      if (event.tool === 'answer' && typeof event.result === 'string')
        return { ...base, summary: event.result, answer: event.result };
      return { ...base, summary: summarize(event.result) };
    }
  }
}

function summarize(value: JsonValue | undefined): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value ?? null) ?? 'null');
  return text.length > MAX_SUMMARY_CHARS ? `${text.slice(0, MAX_SUMMARY_CHARS - 1)}…` : text;
}
