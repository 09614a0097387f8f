import type { RetrievedDoc, SandboxEvent } from '../sandbox/SandboxTypes.ts';
import type { TraceEventBody } from '../runs/TraceEvent.ts';

/** The trace event for a sandbox event of the given execution (1-based). */
export function traceSandboxEvent(execution: number, event: SandboxEvent): TraceEventBody {
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
      };
      if (event.error !== undefined)
        return { ...base, summary: `failed: ${event.error}`, error: event.error };
      if (event.tool === 'retrieve') {
        const docs = Array.isArray(event.result) ? (event.result as RetrievedDoc[]) : [];
        return {
          ...base,
          summary: `${docs.length} passage${docs.length === 1 ? '' : 's'}`,
          chunks: docs.map((doc) => ({ id: doc.id, title: doc.title, score: doc.score, source: doc.source })),
        };
      }
      const answer = typeof event.result === 'string' ? event.result : String(event.result);
      return { ...base, summary: answer, answer };
    }
  }
}
