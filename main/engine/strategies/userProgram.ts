/**
 * Runs a program the user wrote (`reckon run-program`), through the same program loop, sandbox,
 * tools and trace as a model-written one: no planning, no repair, no boosting. `retrieve()` needs no
 * model; `answer()` needs one. An edited program re-run from a saved run is given that run's
 * recorded results: a call whose inputs are unchanged is served from them and marked cached.
 */
import type { RetrievedDoc } from '../sandbox/SandboxTypes.ts';
import { callAnswerModel } from './answerFormat.ts';
import { ProgramLoop } from './ProgramLoop.ts';
import { answerTool, retrieveTool } from './retrievalTools.ts';
import type { StrategyContext, StrategyOutcome } from './Strategy.ts';
import { answerCallKey, retrieveCallKey, ToolResultCache, type ToolResultsByKey } from './ToolResultCache.ts';

/** A reusable result of a user program's tool call: retrieve()'s documents or answer()'s text. */
export type UserProgramToolResult = RetrievedDoc[] | string;

export interface UserProgramOptions {
  /** Recorded results to serve unchanged calls from (ToolResultCache keys). Default: none, every call runs. */
  reuse?: ToolResultsByKey<UserProgramToolResult>;
}

export async function runUserProgram(
  code: string,
  context: StrategyContext<unknown>,
  options: UserProgramOptions = {},
): Promise<StrategyOutcome> {
  const phaseMs: Record<string, number> = {};
  const loop = new ProgramLoop(context, phaseMs);
  const calls = new ToolResultCache<UserProgramToolResult>(options.reuse);
  const strategy: Record<string, number> = {};
  const metrics = { phaseMs, program: loop.metrics, strategy };
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
      retrieve: retrieveTool(async ({ query, k }, call) => {
        const key = retrieveCallKey(query, k ?? context.topK);
        const docs =
          (calls.reuse(key, call.callIndex) as RetrievedDoc[] | undefined) ??
          (await context.retrieve(query, k ?? context.topK, call.signal));
        calls.remember(key, docs);
        return docs;
      }),
      answer: answerTool(async ({ question, docs }, call) => {
        const key = answerCallKey(question, docs ?? []);
        const answer =
          (calls.reuse(key, call.callIndex) as string | undefined) ??
          (await callAnswerModel(context.llm, question, docs, { signal: call.signal })).answer;
        calls.remember(key, answer);
        return answer;
      }),
    },
    isCached: (callIndex) => calls.isCached(callIndex),
  });
  if (options.reuse) strategy.cachedCalls = calls.cached.size;
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
