/**
 * Runs a program the user wrote (`reckon run-program`), through the same program loop, sandbox,
 * tools and trace as a model-written one: no planning, no repair, no boosting. `retrieve()` needs no
 * model; `answer()` needs one.
 */
import { callAnswerModel } from './answerFormat.ts';
import { ProgramLoop } from './ProgramLoop.ts';
import { answerTool, retrieveTool } from './retrievalTools.ts';
import type { StrategyContext, StrategyOutcome } from './Strategy.ts';

export async function runUserProgram(
  code: string,
  context: StrategyContext<unknown>,
): Promise<StrategyOutcome> {
  const phaseMs: Record<string, number> = {};
  const loop = new ProgramLoop(context, phaseMs);
  const metrics = { phaseMs, program: loop.metrics, strategy: {} };
  const program = await loop.adopt(code, 'user');
  if (!('script' in program)) {
    loop.metrics.executable = false;
    loop.metrics.exceptionKind = 'SyntaxError';
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: { code: 'SyntaxError', message: program.message },
      metrics,
    };
  }
  const execution = await loop.execute(program, {
    tools: {
      retrieve: retrieveTool(({ query, k }, call) => context.retrieve(query, k ?? context.topK, call.signal)),
      answer: answerTool(
        async ({ question, docs }, call) =>
          (await callAnswerModel(context.llm, question, docs, { signal: call.signal })).answer,
      ),
    },
  });
  if (execution.failure) {
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: { code: execution.failure.kind, message: execution.failure.message },
      metrics,
    };
  }
  const value = execution.value;
  const answer = value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return { answer, reasoning: null, citations: [], failure: null, metrics };
}
