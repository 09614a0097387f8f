/**
 * The simulation host tool shared by Chain-of-Code and ICRAG: `simulate(name, args)` asks the model
 * what an undefined helper function would return for these arguments (or, with `args` null, what
 * value an undeclared name holds), given the task and the program around the call, and hands the
 * JSON value back to the program, which goes on running. routeUndefinedCalls.ts rewrites the
 * program's undefined calls into calls of this tool.
 */
import { z } from 'zod';
import type { ChatMessage, LlmBackend } from '../../models/LlmBackend.ts';
import { ReckonError } from '../../errors.ts';
import type { HostCallContext, HostTool, JsonValue } from '../../sandbox/SandboxTypes.ts';
import { HostArgumentError } from '../../sandbox/sandboxErrors.ts';
import { numberLines } from '../ProgramLoop.ts';
import { SIMULATE_TOOL } from './routeUndefinedCalls.ts';

/** Simulated calls one program execution may make before the program is sent back for a repair. */
export const DEFAULT_MAX_SIMULATED_CALLS = 16;
/** Model calls per simulated value: the first, plus retries after a reply that is not JSON. */
export const DEFAULT_SIMULATION_ATTEMPTS = 2;

/** The simulation options every strategy that simulates helper calls offers (Chain-of-Code, ICRAG). */
export const SIMULATION_OPTION_FIELDS = {
  maxSimulatedCalls: z
    .number()
    .int()
    .min(1)
    .max(64)
    .default(DEFAULT_MAX_SIMULATED_CALLS)
    .describe(
      'Simulated helper calls one program execution may make; more sends the program back for a repair. Default 16.',
    ),
  simulationAttempts: z
    .number()
    .int()
    .min(1)
    .max(5)
    .default(DEFAULT_SIMULATION_ATTEMPTS)
    .describe(
      'Model calls per simulated value: a reply that is not JSON is sent back with the error until this many tries. Default 2.',
    ),
};
/** Token budget of one simulation reply. */
export const DEFAULT_SIMULATION_MAX_TOKENS = 128;
/** Lines of program shown on each side of the call. */
export const SIMULATION_CONTEXT_LINES = 6;

export type SimulateArgs = { name: string; args: JsonValue[] | null };

/** One simulated call, as the strategy records it (trace step, figures). */
export interface SimulatedCall {
  name: string;
  /** The arguments, or null for a simulated variable. */
  args: JsonValue[] | null;
  line: number | undefined;
  value: JsonValue;
  /** Model calls it took (more than one when a reply was not JSON). */
  attempts: number;
}

/** The model's replies to a simulation were never a JSON value; the program cannot go on. */
export class SimulationError extends ReckonError {
  override name = 'SimulationError';
  constructor(message: string) {
    super('SIMULATION_INVALID_JSON', message);
  }
}

export interface SimulateToolOptions {
  llm: LlmBackend;
  /** The task (question) the program solves; the simulator reads it. */
  task: string;
  /** The program as written (the simulator sees the lines around the call). */
  source: string;
  /** Default DEFAULT_MAX_SIMULATED_CALLS (16). */
  maxCalls?: number;
  /** Default DEFAULT_SIMULATION_ATTEMPTS (2). */
  attempts?: number;
  /** Default DEFAULT_SIMULATION_MAX_TOKENS (128). */
  maxTokens?: number;
  /** Called after each simulated value (trace steps, figures). */
  onSimulated?: (call: SimulatedCall) => void;
}

/**
 * The `simulate(name, args)` host tool for one program execution. `args` must be a list (a call) or
 * null (a variable). Each call asks the model (role "simulate") for `{"value": …}` — or any JSON,
 * taken whole — about the call's line and the lines around it; a reply that is not JSON is sent back
 * once more with the parse error (`attempts`, default 2), after which the call rejects with
 * SimulationError ('SIMULATION_INVALID_JSON'), which ends the execution with HostError. More than
 * `maxCalls` (default 16) simulated calls in one execution is an argument error (InvalidHostArgument),
 * which the program loop sends back for a repair: compute more in code, call fewer helpers.
 */
export function simulateTool(options: SimulateToolOptions): HostTool<SimulateArgs> {
  const maxCalls = options.maxCalls ?? DEFAULT_MAX_SIMULATED_CALLS;
  const attempts = options.attempts ?? DEFAULT_SIMULATION_ATTEMPTS;
  let calls = 0;
  return {
    parameters: ['name', 'args'],
    usage: `${SIMULATE_TOOL}(name, args) is called for you where the program uses a helper it does not define; do not call it yourself.`,
    validate(args) {
      if (args.length !== 2)
        throw new HostArgumentError(`expects (name, args) but was given ${args.length} arguments`);
      const [name, list] = args;
      if (typeof name !== 'string' || !/^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(name))
        throw new HostArgumentError('name must be the name of the helper function');
      if (list !== null && !Array.isArray(list))
        throw new HostArgumentError('args must be the list of the call’s arguments, or null for a variable');
      if (++calls > maxCalls) {
        throw new HostArgumentError(
          `the program needed more than ${maxCalls} simulated helper calls; compute more with ordinary code, or call the undefined helpers fewer times (not inside long loops)`,
        );
      }
      return { name, args: list };
    },
    async call({ name, args }, context: HostCallContext) {
      let messages = simulationMessages(options.task, options.source, { name, args, line: context.line });
      for (let attempt = 1; ; attempt++) {
        const output = await options.llm.generate({
          role: 'simulate',
          messages,
          maxTokens: options.maxTokens ?? DEFAULT_SIMULATION_MAX_TOKENS,
          signal: context.signal,
        });
        const parsed = parseSimulatedValue(output.text);
        if (parsed.ok) {
          options.onSimulated?.({ name, args, line: context.line, value: parsed.value, attempts: attempt });
          return parsed.value;
        }
        if (attempt >= attempts) {
          throw new SimulationError(
            `The model's simulation of ${describeCall(name, args)} was not a JSON value after ${attempt} ${attempt === 1 ? 'try' : 'tries'} (${parsed.error}).`,
          );
        }
        messages = [
          ...messages,
          { role: 'assistant', content: output.text },
          {
            role: 'user',
            content: `That is not valid JSON (${parsed.error}). Reply with only {"value": …}, the value as JSON.`,
          },
        ];
      }
    },
  };
}

const SIMULATION_SYSTEM_PROMPT = [
  'You act as a JavaScript function that a program calls but does not define.',
  'Given the task, the program and the call, work out what the function would return for these arguments, using your knowledge.',
  'Reply with only a JSON object {"value": …} holding the return value: a string, number, boolean, null, list or object.',
].join(' ');

/** The messages of one simulation: the task, the lines around the call (marked), and the call. */
export function simulationMessages(
  task: string,
  source: string,
  call: { name: string; args: JsonValue[] | null; line: number | undefined },
): ChatMessage[] {
  const lines = numberLines(source).split('\n');
  const at = call.line ?? 1;
  const from = Math.max(0, at - 1 - SIMULATION_CONTEXT_LINES);
  const excerpt = lines
    .slice(from, at + SIMULATION_CONTEXT_LINES)
    .map((line, i) => (from + i + 1 === call.line ? `${line}   <-- here` : line))
    .join('\n');
  const what =
    call.args === null
      ? `The program reads the variable \`${call.name}\`, which it never defines. What value does it hold?`
      : `The program calls ${describeCall(call.name, call.args)}. What does it return?`;
  return [
    { role: 'system', content: SIMULATION_SYSTEM_PROMPT },
    { role: 'user', content: `Task: ${task}\n\nProgram:\n${excerpt}\n\n${what}` },
  ];
}

function describeCall(name: string, args: JsonValue[] | null): string {
  if (args === null) return `the variable ${name}`;
  const shown = args.map((arg) => JSON.stringify(arg)).join(', ');
  return `${name}(${shown.length > 500 ? `${shown.slice(0, 500)}…` : shown})`;
}

/**
 * Reads a simulation reply: the JSON in a ```json fence or the whole reply, else the first JSON
 * object in it; `{"value": X}` gives X, any other JSON value is taken whole.
 */
export function parseSimulatedValue(
  text: string,
): { ok: true; value: JsonValue } | { ok: false; error: string } {
  const fenced = /```(?:json)?\s*\n?([\s\S]*?)```/i.exec(text)?.[1];
  const candidates = [fenced, text.trim()];
  const brace = text.indexOf('{');
  const close = text.lastIndexOf('}');
  if (brace >= 0 && close > brace) candidates.push(text.slice(brace, close + 1));
  let error = 'the reply is empty';
  for (const candidate of candidates) {
    if (candidate === undefined || candidate.trim() === '') continue;
    try {
      const value = JSON.parse(candidate) as JsonValue;
      const unwrapped =
        value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, 'value')
          ? (value.value ?? null)
          : value;
      return { ok: true, value: unwrapped };
    } catch (caught) {
      error = caught instanceof Error ? caught.message : 'not JSON';
    }
  }
  return { ok: false, error };
}
