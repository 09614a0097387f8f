/**
 * Chain-of-Code (Li et al. 2023), no retrieval; ICRAG's closest baseline.
 *
 * 1. The model writes a JavaScript program for the task (few-shot), computing what code can and
 *    calling helper functions it does not define for the semantic steps (`is_sarcastic(s)`).
 * 2. Before execution, every call of an undefined function — and every read of an undeclared name —
 *    is rewritten into a call of the simulation tool (routeUndefinedCalls): the paper's "LMulator".
 *    When the program runs, each such call is answered by the model (name, arguments, the lines
 *    around the call and the task → a JSON value) and execution continues with that value, so code
 *    and simulated steps interleave in one run. Simulated values are tool results of `simulate` in
 *    the trace, plus one 'simulated-call' step each.
 * 3. What the sandbox still cannot run (a TypeError, a `new` of an undefined class, …) is fed back
 *    for a repair through the shared program loop — QuickJS cannot resume a statement that threw, so
 *    the paper's line-by-line fallback to simulation becomes a repair here.
 * 4. The program's returned value is the answer, normalized as the shared answer format normalizes
 *    answers (yes/no for booleans, quotes and trailing punctuation removed).
 */
import { z } from 'zod';
import type { JsonValue } from '../../sandbox/SandboxTypes.ts';
import { parseAnswerOutput } from '../answerFormat.ts';
import { ProgramLoop } from '../ProgramLoop.ts';
import type { StrategyContext, StrategyOutcome } from '../Strategy.ts';
import { SIMULATE_TOOL, routeUndefinedCalls } from '../simulation/routeUndefinedCalls.ts';
import {
  DEFAULT_SIMULATION_MAX_TOKENS,
  simulateTool,
  SIMULATION_OPTION_FIELDS,
  type SimulatedCall,
} from '../simulation/simulateTool.ts';
import { cocFixMessages, cocMessages } from './cocPrompts.ts';

export const cocOptionsSchema = z
  .object({
    ...SIMULATION_OPTION_FIELDS,
    simulateVariables: z
      .boolean()
      .default(true)
      .describe('Also simulate reads of names the program never declares. Default true.'),
    maxProgramAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe('Program-writing attempts per write or repair (syntax errors fed back). Default 3.'),
    maxRepairs: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(3)
      .describe('Repair rounds after a runtime failure the simulator cannot absorb. Default 3.'),
    programMaxTokens: z
      .number()
      .int()
      .min(64)
      .max(8192)
      .default(768)
      .describe('Token budget of one program. Default 768.'),
    simulationMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(4096)
      .default(DEFAULT_SIMULATION_MAX_TOKENS)
      .describe('Token budget of one simulated value. Default 128.'),
  })
  .strict();
export type CocOptions = z.output<typeof cocOptionsSchema>;

export const COC_METRICS = {
  simulatedCalls: {
    label: 'Simulated calls',
    description: 'Helper calls and variable reads answered by the model in the final execution',
  },
  simulatedLines: {
    label: 'Simulated lines',
    description: 'Distinct program lines with a simulated call in the final execution',
  },
  simulationRetries: {
    label: 'Simulation retries',
    description: 'Simulation replies that were not JSON and were asked again (all executions)',
  },
  undefinedHelpers: {
    label: 'Undefined helpers',
    description: 'Names the final program uses without defining them, which were routed to the simulator',
  },
} as const;

export async function runCoc(context: StrategyContext<CocOptions>): Promise<StrategyOutcome> {
  const { question, options, emit, llm } = context;
  const phaseMs: Record<string, number> = {};
  const loop = new ProgramLoop(context, phaseMs, {
    toolNames: [SIMULATE_TOOL],
    maxAttempts: options.maxProgramAttempts,
    maxTokens: options.programMaxTokens,
    // The program grammar allows calls of the tools only; Chain-of-Code needs calls of any name.
    constrain: false,
    transform: (source) => routeUndefinedCalls(source, { values: options.simulateVariables }),
    checkResult: (value) =>
      value === undefined || value === null
        ? {
            kind: 'RuntimeError',
            message: 'The program returned nothing. It must end with: return <the answer>;',
          }
        : undefined,
  });
  const figures = { simulatedCalls: 0, simulatedLines: 0, simulationRetries: 0, undefinedHelpers: '' };
  const fix = (
    code: string,
    problem: Parameters<typeof cocFixMessages>[2],
  ): ReturnType<typeof cocFixMessages> => cocFixMessages(question, code, problem);

  const program = await loop.write({ messages: cocMessages(question), purpose: 'plan', feedback: fix });
  if (!program) {
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: {
        code: 'SyntaxError',
        message: `No program the model wrote would parse after ${options.maxProgramAttempts} attempts.`,
      },
      metrics: { phaseMs, program: loop.metrics, strategy: figures },
    };
  }

  let simulated: SimulatedCall[] = [];
  const { execution, program: final } = await loop.executeWithRepairs(program, {
    tools: (running) => {
      simulated = [];
      return {
        tools: {
          [SIMULATE_TOOL]: simulateTool({
            llm,
            task: question,
            source: running.source,
            maxCalls: options.maxSimulatedCalls,
            attempts: options.simulationAttempts,
            maxTokens: options.simulationMaxTokens,
            onSimulated: (call) => {
              simulated.push(call);
              figures.simulationRetries += call.attempts - 1;
              emit(simulationStep(call));
            },
          }),
        },
      };
    },
    repair: fix,
    maxRepairs: options.maxRepairs,
  });
  figures.simulatedCalls = simulated.length;
  figures.simulatedLines = new Set(simulated.map((call) => call.line)).size;
  const routed = routeUndefinedCalls(final.source, { values: options.simulateVariables });
  figures.undefinedHelpers = routed.ok ? [...new Set(routed.routed.map((r) => r.name))].join(', ') : '';
  const metrics = { phaseMs, program: loop.metrics, strategy: figures };
  if (execution.failure) {
    return {
      answer: null,
      reasoning: null,
      citations: [],
      failure: loop.failureOf(execution.failure),
      metrics,
    };
  }
  return { answer: normalizeAnswer(execution.value), reasoning: null, citations: [], failure: null, metrics };
}

/**
 * A program's returned value as a short answer: booleans become yes/no, numbers their decimal text,
 * strings are cleaned like every method's <answer> (quotes, trailing punctuation), anything else is
 * its JSON.
 */
export function normalizeAnswer(value: JsonValue | undefined): string {
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return parseAnswerOutput(`<answer>${value}</answer>`).answer;
  return JSON.stringify(value ?? null);
}

/** The trace step of one simulated call (shared with ICRAG). */
export function simulationStep(call: SimulatedCall): {
  type: 'step';
  kind: string;
  title: string;
  detail: string;
  data: Record<string, unknown>;
} {
  const value = JSON.stringify(call.value);
  const what =
    call.args === null
      ? call.name
      : `${call.name}(${call.args.map((arg) => JSON.stringify(arg)).join(', ')})`;
  return {
    type: 'step',
    kind: 'simulated-call',
    title: `Simulated ${what.length > 120 ? `${what.slice(0, 119)}…` : what}${call.line ? ` on line ${call.line}` : ''}`,
    detail: value.length > 300 ? `${value.slice(0, 299)}…` : value,
    data: {
      name: call.name,
      args: call.args,
      line: call.line ?? null,
      value: call.value,
      attempts: call.attempts,
      kind: call.args === null ? 'value' : 'call',
    },
  };
}
