/**
 * Runs a program the user wrote (`reckon run-program`), with the same sandbox, tools and trace as a
 * model-written one: no planning, no repair, no boosting. `retrieve()` needs no model; `answer()`
 * needs one.
 */
import { prepareProgram } from '../programs/prepareProgram.ts';
import { normalizeProgramText } from '../programs/extractProgram.ts';
import { callAnswerModel } from './answerFormat.ts';
import { traceSandboxEvent } from './traceSandboxEvent.ts';
import { emptyStrategyMetrics, timePhase, type StrategyOutcome, type StrategyServices } from './Strategy.ts';

export async function runUserProgram(
  code: string,
  services: StrategyServices,
  options: { topK: number },
): Promise<StrategyOutcome> {
  const metrics = emptyStrategyMetrics();
  const { emit } = services;
  const source = normalizeProgramText(code);
  metrics.programAttempts = 1;
  emit({ type: 'program-generated', attempt: 1, purpose: 'user', code: source });
  const prepared = prepareProgram(source);
  if (!prepared.ok) {
    emit({
      type: 'syntax-error',
      attempt: 1,
      message: prepared.error.message,
      line: prepared.error.line ?? null,
      column: prepared.error.column ?? null,
    });
    metrics.executable = false;
    metrics.exceptionKind = 'SyntaxError';
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: { code: 'SyntaxError', message: prepared.error.message },
      metrics,
    };
  }
  const program = prepared.program;
  metrics.cyclomaticComplexity = program.analysis.cyclomaticComplexity;
  metrics.programLines = program.analysis.lines;
  metrics.nodeTypeProfile = program.analysis.nodeTypeProfile;
  metrics.hostCallSites = program.analysis.hostCallSites;
  metrics.executions = 1;
  emit({ type: 'execution-started', execution: 1, boosted: [] });
  const result = await timePhase(metrics, 'execute', services.now, () =>
    services.runProgram({
      script: program.script,
      signal: services.signal,
      tools: {
        retrieve: (query, k, context) => services.retrieve(query, k ?? options.topK, context.signal),
        answer: async (question, docs, context) =>
          (await callAnswerModel(services.llm, question, docs, { signal: context.signal })).answer,
      },
      onEvent: (event) => emit(traceSandboxEvent(1, event)),
    }),
  );
  metrics.hostCalls = result.metrics.hostCalls;
  metrics.maxStackDepth = result.metrics.maxStackDepth;
  metrics.executable = result.ok;
  if (!result.ok) {
    metrics.exceptionKind = result.error.kind;
    emit({
      type: 'runtime-error',
      execution: 1,
      kind: result.error.kind,
      errorName: result.error.errorName ?? null,
      message: result.error.message,
      line: result.error.line ?? null,
    });
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: { code: result.error.kind, message: result.error.message },
      metrics,
    };
  }
  const value = result.value;
  const answer = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return { answer, reasoning: null, citations: [], failure: null, metrics };
}
