/**
 * Human-readable rendering of a run's trace for the terminal, printed as events arrive: the program
 * with line numbers, tool calls and their results, bindings, retries with their backoff, repairs,
 * boosts, the answer with citations and the metrics.
 */
import type { TraceEvent, RunMetrics } from '../../preload/TraceEvent.ts';
import { formatCount } from './formatCount.ts';
import { sanitizeTerminalText } from './sanitizeTerminalText.ts';

/** Characters of an answer or argument shown inline. */
const INLINE_CHARS = 120;

export class TracePrinter {
  readonly #metricLabels: Readonly<Record<string, string>>;
  /** Where cached results came from: an earlier execution, or the run an edited program came from. */
  #cachedFrom = 'the previous execution';

  /** `metricLabels`: labels of the strategy's own figures by key (default: the keys themselves). */
  constructor(
    private readonly write: (line: string) => void,
    options: { metricLabels?: Readonly<Record<string, string>> } = {},
  ) {
    this.#metricLabels = options.metricLabels ?? {};
  }

  print(event: TraceEvent): void {
    // Model output, programs and error messages may hold anything: no control character reaches the
    // terminal (lines are not cut; a trace is read in full).
    const w = (line: string): void => this.write(sanitizeTerminalText(line, Number.POSITIVE_INFINITY));
    switch (event.type) {
      case 'run-started':
        w(
          `Run ${event.runId} · ${event.strategy} · model ${event.model}${event.corpus ? ` · corpus ${event.corpus}` : ''}`,
        );
        w(`Question: ${event.question}`);
        if (event.parentRunId !== undefined) {
          w(`Edited from run ${event.parentRunId} (its results are reused where the calls are unchanged)`);
          this.#cachedFrom = `run ${event.parentRunId}`;
        }
        break;
      case 'decomposition':
        w(`\nSub-questions${event.fallback ? ' (decomposition failed; using the question itself)' : ''}:`);
        event.subQuestions.forEach((q, i) => w(`  ${i + 1}. ${q}`));
        break;
      case 'program-generated':
        w(`\nProgram (${event.purpose}, attempt ${event.attempt}):`);
        event.code.split('\n').forEach((line, i) => w(`  ${String(i + 1).padStart(3)} │ ${line}`));
        break;
      case 'syntax-error':
        w(`  ✗ syntax error${event.line ? ` on line ${event.line}` : ''}: ${event.message}`);
        break;
      case 'execution-started':
        w(
          `\nExecution ${event.execution}${event.boosted.length ? ` (boosted: ${event.boosted.map((b) => `tool call #${b.callIndex} → k=${b.k}`).join(', ')})` : ''}`,
        );
        break;
      case 'tool-call': {
        const args = [...event.args];
        while (args.length > 0 && args.at(-1) === undefined) args.pop();
        w(
          `  → ${event.tool}(${args.map((a) => inline(JSON.stringify(a) ?? 'undefined')).join(', ')})${event.line ? `  [line ${event.line}]` : ''}`,
        );
        break;
      }
      case 'tool-result': {
        const took = event.cached ? `cached from ${this.#cachedFrom}` : `${event.durationMs.toFixed(0)} ms`;
        if (event.error) w(`  ← ${event.tool} failed: ${event.error}`);
        else if (event.chunks) {
          w(`  ← ${event.summary} (${took})`);
          for (const chunk of event.chunks)
            w(`      #${chunk.id} ${chunk.title}  (${chunk.score.toFixed(3)})`);
        } else w(`  ← ${inline(event.summary)} (${took})`);
        break;
      }
      case 'step':
        w(`\n${event.title}${event.detail ? `: ${inline(event.detail)}` : ''}`);
        // Strategies list the passages a step retrieved as data.docs ({id, title, score}).
        for (const doc of stepDocs(event.data)) w(`      #${doc.id} ${doc.title}  (${doc.score.toFixed(3)})`);
        break;
      case 'binding':
        w(`  ${event.name} = ${inline(event.preview)}  [line ${event.line}]`);
        break;
      case 'log':
        w(`  console.${event.level}: ${inline(event.message)}`);
        break;
      case 'runtime-error':
        w(
          `  ✗ ${event.kind}${event.errorName ? ` (${event.errorName})` : ''}${event.line ? ` on line ${event.line}` : ''}: ${event.message}`,
        );
        break;
      case 'repair-requested':
        w(
          `\nRepair round ${event.round}: asking the model to fix ${event.kind}${event.line ? ` on line ${event.line}` : ''}.`,
        );
        break;
      case 'retrieval-boosted':
        w(
          `\nAdaptive retrieval: "${event.sentinel}" (${event.path}) → re-running with tool call #${event.callIndex} (retrieve) at k=${event.toK} (was ${event.fromK}).`,
        );
        break;
      case 'retry':
        w(
          `  ⟳ ${event.role}: attempt ${event.attempt}/${event.maxAttempts} failed (${event.reason}); ${event.outcome === 'retrying' ? `retrying in ${Math.round(event.delayMs)} ms` : 'giving up'}`,
        );
        break;
      case 'warning':
        w(`  ! ${event.message}`);
        break;
      case 'final-answer':
        w(`\nAnswer: ${event.answer}`);
        if (event.reasoning) w(`Reasoning: ${event.reasoning}`);
        if (event.citations.length) {
          w('Citations:');
          event.citations.forEach((c, i) => w(`  [${i + 1}] ${c.title} — ${c.source} (chunk ${c.chunkId})`));
        }
        break;
      case 'metrics':
        w(`\n${formatMetrics(event.metrics, this.#metricLabels)}`);
        break;
      case 'run-finished':
        if (event.error) w(`\nRun ${event.status}: ${event.error.message}`);
        break;
      case 'llm-call':
        break;
    }
  }
}

function inline(text: string): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > INLINE_CHARS ? `${flat.slice(0, INLINE_CHARS)}…` : flat;
}

/**
 * The metrics as text: the common line (model calls, tokens — marked as estimates where the backend
 * could not count them —, retries, time per phase), the program line when the strategy wrote
 * programs, and the strategy's own figures by key (labels from `labels` when given).
 */
export function formatMetrics(m: RunMetrics, labels: Readonly<Record<string, string>> = {}): string {
  const phases = Object.entries(m.phaseMs)
    .map(([phase, ms]) => `${phase} ${(ms / 1000).toFixed(2)}s`)
    .join(', ');
  const tokens = `${m.promptTokens} prompt + ${formatCount(m.completionTokens, 'generated token')}${m.tokensEstimated ? ', estimated' : ''}`;
  const lines = [
    `Metrics: ${formatCount(m.llmCalls, 'LLM call')} (${tokens}), ${formatCount(m.retries, 'retry', 'retries')}, ${(m.totalMs / 1000).toFixed(2)}s total${phases ? ` (${phases})` : ''}`,
  ];
  const p = m.program;
  if (p) {
    lines.push(
      `Program: ${formatCount(p.hostCalls, 'tool call')}, cyclomatic complexity ${p.cyclomaticComplexity ?? '–'}, max stack depth ${p.maxStackDepth ?? '–'}, ${p.programLines === null ? '– lines' : formatCount(p.programLines, 'line')}, ${formatCount(p.programAttempts, 'attempt')}, ${formatCount(p.executions, 'execution')}, ${formatCount(p.repairs, 'repair')}, ${p.executable ? 'executable' : `not executable (${p.exceptionKind ?? 'unknown'})`}`,
    );
  }
  const figures = Object.entries(m.strategy);
  if (figures.length > 0)
    lines.push(
      `Strategy: ${figures.map(([key, value]) => `${labels[key] ?? key} ${String(value)}`).join(', ')}`,
    );
  return lines.join('\n');
}

/** The passages a step's data lists under `docs`, read defensively (step data is free-form). */
function stepDocs(data: Record<string, unknown> | undefined): { id: number; title: string; score: number }[] {
  const docs = data?.docs;
  if (!Array.isArray(docs)) return [];
  return docs.filter(
    (doc): doc is { id: number; title: string; score: number } =>
      typeof doc === 'object' &&
      doc !== null &&
      typeof (doc as { id?: unknown }).id === 'number' &&
      typeof (doc as { title?: unknown }).title === 'string' &&
      typeof (doc as { score?: unknown }).score === 'number',
  );
}
