/**
 * ICRAG ("Codifying Natural Language Tasks"): the task becomes a program, and program and retrieval
 * refine each other.
 *
 * 1. Codify: the model writes c0 — the task's inputs as variables, its rules as branches, facts code
 *    cannot compute as calls of helper functions it does not define.
 * 2. Co-refinement, at most `maxIterations` rounds (default 3): round n retrieves with q_n (q_0 is
 *    the task) from R1 (the run's corpus, when it has one and `useCorpus`) and from R2 (the memory
 *    of solved examples named by `memory`, when set), and the refiner turns (task, c_n, r_n, R2
 *    snippets) into a JSON object {code: c_{n+1}, query: q_{n+1}}. An empty query stops the loop.
 *    A reply that is not that object, or whose code does not parse, is sent back with the error
 *    (`refineAttempts`, default 2) and then fails the run (RefinerInvalidJson).
 * 3. Chain-of-Code execution of the final program: calls of undefined helpers (and reads of
 *    undeclared names) are routed to the simulation tool and answered by the model while the
 *    program runs (capped by `maxSimulatedCalls`); a failure the simulator cannot absorb is
 *    repaired through the shared program loop.
 * 4. The returned value, normalized like every method's answer, is the answer.
 *
 * Every version c0 → c1 → … is a `step` event (kind "icrag-version", data: code, previous code,
 * query), with the retrievals between versions as "icrag-r1" / "icrag-r2" steps and simulated calls
 * as "simulated-call" steps. k-fold: a task that is itself in the memory never retrieves the
 * examples of its own fold (`memoryExclude`, default own-fold), in every R2 search mode.
 *
 * R2 search (`r2Search`, default hybrid): bm25, dense (the memory's task vectors) or hybrid
 * (reciprocal rank fusion, k = 60, of both) — see searchSolvedExamples. Hybrid on a memory without
 * vectors, or whose embedder is not installed, runs BM25 and the trace says why; dense there is a
 * typed error (DENSE_UNAVAILABLE) before the first model call. Each "icrag-r2" step records the mode
 * asked for and the mode used, and every example's scores.
 *
 * Ablations (the paper's) are options: memoryFormat=text (ICRAG_NL), memory unset (no R2),
 * useCorpus=false (no R1), maxIterations=0 (no refinement), answerBy=model (RAG_Code, or RAG_NL with
 * memoryFormat=text: retrieve solved examples and answer without a program).
 */
import { z } from 'zod';
import type { SolvedExampleHit, SolvedExampleMemory } from '../../corpus/memory/SolvedExampleMemory.ts';
import {
  DEFAULT_MEMORY_SEARCH_MODE,
  memoryDenseUnavailableError,
  searchSolvedExamples,
} from '../../corpus/memory/searchSolvedExamples.ts';
import { ReckonError } from '../../errors.ts';
import { extractProgram, normalizeProgramText } from '../../programs/extractProgram.ts';
import type { PreparedProgram } from '../../programs/prepareProgram.ts';
import type { RetrievedDoc } from '../../sandbox/SandboxTypes.ts';
import type { Citation } from '../../../../preload/TraceEvent.ts';
import { parseAnswerOutput } from '../answerFormat.ts';
import { normalizeAnswer, simulationStep } from '../coc/coc.ts';
import { ProgramLoop } from '../ProgramLoop.ts';
import { DocumentPool, citationsOfAnswer, retrievalStep } from '../retrievalStep.ts';
import { SIMULATE_TOOL, routeUndefinedCalls } from '../simulation/routeUndefinedCalls.ts';
import {
  DEFAULT_SIMULATION_MAX_TOKENS,
  simulateTool,
  SIMULATION_OPTION_FIELDS,
  type SimulatedCall,
} from '../simulation/simulateTool.ts';
import { citationOf, timePhase, type StrategyContext, type StrategyOutcome } from '../Strategy.ts';
import {
  REFINE_SCHEMA,
  codifyFixMessages,
  codifyMessages,
  ragAnswerMessages,
  refineMessages,
  refineRetryMessages,
  type RefineInput,
} from './icragPrompts.ts';

/** Refinement rounds at most (the paper: ≤ 3 in 96% of cases). */
export const DEFAULT_ICRAG_MAX_ITERATIONS = 3;
/** Refiner replies per round before the run fails. */
export const DEFAULT_REFINE_ATTEMPTS = 2;
/** Solved examples retrieved from R2 per round. */
export const DEFAULT_ICRAG_MEMORY_K = 3;

export const icragOptionsSchema = z
  .object({
    maxIterations: z
      .number()
      .int()
      .min(0)
      .max(10)
      .default(DEFAULT_ICRAG_MAX_ITERATIONS)
      .describe(
        'Refinement rounds at most; the loop stops earlier when the refiner returns an empty query. 0 turns refinement off (the "no refinement" ablation). Default 3.',
      ),
    memory: z
      .string()
      .max(64)
      .default('')
      .describe(
        'Memory of solved examples (R2) to retrieve from, by name (reckon memory list); empty runs without R2 (the "no R2" ablation). Default "" (none).',
      ),
    memoryK: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(DEFAULT_ICRAG_MEMORY_K)
      .describe('Solved examples retrieved from the memory per round. Default 3.'),
    r2Search: z
      .enum(['hybrid', 'dense', 'bm25'])
      .default(DEFAULT_MEMORY_SEARCH_MODE)
      .describe(
        'How R2 (the memory) is searched: hybrid (reciprocal rank fusion, k = 60, of BM25 and dense; BM25 alone, said in the trace, when the memory has no vectors or its embedder is not installed), dense (cosine over the examples’ task vectors; an error on a memory without them) or bm25. Default hybrid.',
      ),
    memoryFormat: z
      .enum(['code', 'text'])
      .default('code')
      .describe(
        'How solved examples are shown: code (ICRAG) or their natural-language solutions (ICRAG_NL; the memory must be built with --text). Default code.',
      ),
    memoryExclude: z
      .enum(['own-fold', 'own-task', 'none'])
      .default('own-fold')
      .describe(
        "Which examples a task that is itself in the memory may not retrieve: own-fold (k-fold evaluation: every example of the task's fold), own-task (only its own), none. Default own-fold.",
      ),
    useCorpus: z
      .boolean()
      .default(true)
      .describe(
        'Retrieve passages from the run’s corpus (R1) when it has one; false is the "no R1" ablation. Default true.',
      ),
    answerBy: z
      .enum(['program', 'model'])
      .default('program')
      .describe(
        'program: execute the refined program (ICRAG); model: answer from the retrieved examples and passages without a program (RAG_Code, or RAG_NL with memoryFormat=text). Default program.',
      ),
    refineAttempts: z
      .number()
      .int()
      .min(1)
      .max(5)
      .default(DEFAULT_REFINE_ATTEMPTS)
      .describe(
        'Refiner replies per round: one that is not the JSON object {code, query}, or whose code does not parse, is sent back with the error until this many tries, then the run fails. Default 2.',
      ),
    ...SIMULATION_OPTION_FIELDS,
    maxProgramAttempts: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .describe(
        'Program-writing attempts for the codified program and each repair (syntax errors fed back). Default 3.',
      ),
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
      .describe('Token budget of the codified program and of each repair. Default 768.'),
    refineMaxTokens: z
      .number()
      .int()
      .min(64)
      .max(8192)
      .default(1024)
      .describe('Token budget of one refiner reply (the JSON with the whole program). Default 1024.'),
    simulationMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(4096)
      .default(DEFAULT_SIMULATION_MAX_TOKENS)
      .describe('Token budget of one simulated value. Default 128.'),
    answerMaxTokens: z
      .number()
      .int()
      .min(8)
      .max(4096)
      .default(256)
      .describe('Token budget of the answer when answerBy=model. Default 256.'),
  })
  .strict();
export type IcragOptions = z.output<typeof icragOptionsSchema>;

export const ICRAG_METRICS = {
  iterations: { label: 'Refinement rounds', description: 'Rounds of co-refinement that ran' },
  stopReason: {
    label: 'Stopped by',
    description:
      'empty-query (the refiner asked for nothing more), cap (maxIterations), or off (no refinement)',
  },
  programVersions: { label: 'Program versions', description: 'Versions c0, c1, … in the trace' },
  r1Passages: { label: 'R1 passages', description: 'Distinct corpus passages shown to the refiner' },
  r2Examples: { label: 'R2 examples', description: 'Distinct solved examples retrieved from the memory' },
  r2Search: {
    label: 'R2 search',
    description:
      'How the memory was searched: hybrid, dense or bm25 (bm25 when hybrid had no dense side); none without R2',
  },
  excludedFolds: {
    label: 'Excluded folds',
    description: 'Memory folds left out because the task itself is in them (k-fold)',
  },
  refinerRetries: {
    label: 'Refiner retries',
    description: 'Refiner replies that were not the JSON asked for, or whose code did not parse',
  },
  simulatedCalls: {
    label: 'Simulated calls',
    description: 'Helper calls and variable reads answered by the model in the final execution',
  },
  simulationRetries: {
    label: 'Simulation retries',
    description: 'Simulation replies that were not JSON and were asked again (all executions)',
  },
  undefinedHelpers: {
    label: 'Undefined helpers',
    description: 'Names the final program uses without defining them, routed to the simulator',
  },
} as const;

type Figures = {
  iterations: number;
  stopReason: string;
  programVersions: number;
  r1Passages: number;
  r2Examples: number;
  r2Search: string;
  excludedFolds: string;
  refinerRetries: number;
  simulatedCalls: number;
  simulationRetries: number;
  undefinedHelpers: string;
};

/** What a task may not retrieve from a memory it is itself in (see the memoryExclude option). */
export interface MemoryExclusion {
  excludeFolds: number[];
  excludeIds: number[];
}

/**
 * The exclusion for `task`: its own examples (same task text) by id, and with `own-fold` every fold
 * they are in — so no task ever retrieves its own snippet, and k-fold evaluation holds.
 */
export function memoryExclusionFor(
  memory: Pick<SolvedExampleMemory, 'examplesOfTask'>,
  task: string,
  mode: IcragOptions['memoryExclude'],
): MemoryExclusion {
  if (mode === 'none') return { excludeFolds: [], excludeIds: [] };
  const own = memory.examplesOfTask(task);
  return {
    excludeIds: own.map((example) => example.id),
    excludeFolds: mode === 'own-fold' ? [...new Set(own.map((example) => example.fold))].sort() : [],
  };
}

/** The refiner's reply read: the program (unfenced when the model fenced it) and the next query. */
export function parseRefinerOutput(
  text: string,
): { ok: true; code: string; query: string } | { ok: false; error: string } {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text)?.[1];
  const candidates = [text.trim(), fenced];
  const brace = text.indexOf('{');
  const close = text.lastIndexOf('}');
  if (brace >= 0 && close > brace) candidates.push(text.slice(brace, close + 1));
  let error = 'the reply is empty';
  for (const candidate of candidates) {
    if (candidate === undefined || candidate.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(candidate);
    } catch (caught) {
      error = `it is not JSON (${caught instanceof Error ? caught.message : 'parse error'})`;
      continue;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      error = 'it is not a JSON object';
      continue;
    }
    const { code, query } = value as Record<string, unknown>;
    if (typeof code !== 'string' || code.trim() === '') {
      error = 'its "code" is not the program as a string';
      continue;
    }
    if (query !== undefined && query !== null && typeof query !== 'string') {
      error = 'its "query" is not a string';
      continue;
    }
    const program = code.includes('```') ? (extractProgram(code)?.code ?? code) : code;
    return { ok: true, code: normalizeProgramText(program), query: (query ?? '').trim() };
  }
  return { ok: false, error };
}

/** Decimal places a numeric answer keeps (0.1 + 0.2 answers 0.3, not 0.30000000000000004). */
export const NUMERIC_ANSWER_DECIMALS = 6;

/**
 * A program's returned value as an answer of the task's type: booleans yes/no; numbers without
 * floating-point noise (NUMERIC_ANSWER_DECIMALS); for a multiple-choice task (options written
 * "(A) …" on their own lines) an option's text or bare letter becomes its label "(A)"; everything
 * else as every method's answers are cleaned (normalizeAnswer).
 */
export function normalizeTaskAnswer(value: unknown, task: string): string {
  if (typeof value === 'number' && Number.isFinite(value))
    return String(Number(value.toFixed(NUMERIC_ANSWER_DECIMALS)));
  const answer = normalizeAnswer(value as Parameters<typeof normalizeAnswer>[0]);
  const options = [...task.matchAll(/^\s*\(([A-Z])\)\s*(.+?)\s*$/gm)].map((m) => ({
    label: m[1]!,
    text: m[2]!.toLowerCase(),
  }));
  if (options.length < 2) return answer;
  const bare = answer.replace(/[\s()[\].:]/g, '').toUpperCase();
  const byLabel = options.find((option) => option.label === bare);
  if (byLabel) return `(${byLabel.label})`;
  const byText = options.filter((option) => option.text === answer.trim().toLowerCase());
  return byText.length === 1 ? `(${byText[0]!.label})` : answer;
}

/** The failure of a run whose refiner never gave a usable reply. */
class RefinerFailure {
  constructor(readonly message: string) {}
}

export async function runIcrag(context: StrategyContext<IcragOptions>): Promise<StrategyOutcome> {
  const { question: task, options, emit, llm, signal } = context;
  const phaseMs: Record<string, number> = {};
  const figures: Figures = {
    iterations: 0,
    stopReason: options.maxIterations === 0 ? 'off' : 'cap',
    programVersions: 0,
    r1Passages: 0,
    r2Examples: 0,
    r2Search: 'none',
    excludedFolds: 'none',
    refinerRetries: 0,
    simulatedCalls: 0,
    simulationRetries: 0,
    undefinedHelpers: '',
  };
  const loop = new ProgramLoop(context, phaseMs, {
    toolNames: [SIMULATE_TOOL],
    maxAttempts: options.maxProgramAttempts,
    maxTokens: options.programMaxTokens,
    // The program grammar allows calls of the tools only; codified programs call helpers of any name.
    constrain: false,
    transform: (source) => routeUndefinedCalls(source),
    checkResult: (value) =>
      value === undefined || value === null
        ? {
            kind: 'RuntimeError',
            message: 'The program returned nothing. It must end with: return <the answer>;',
          }
        : undefined,
  });
  const metrics = (): StrategyOutcome['metrics'] => ({
    phaseMs,
    program: options.answerBy === 'program' ? loop.metrics : null,
    strategy: figures,
  });
  const fail = (code: string, message: string): StrategyOutcome => ({
    answer: null,
    reasoning: null,
    citations: [],
    failure: { code, message },
    metrics: metrics(),
  });

  // R1 and R2, shared by the refinement rounds and the RAG variant.
  const useR1 = options.useCorpus && context.hasCorpus;
  const memory = options.memory.trim() === '' ? undefined : openMemory(context, options.memory.trim());
  const exclusion = memory ? memoryExclusionFor(memory, task, options.memoryExclude) : undefined;
  if (exclusion && exclusion.excludeFolds.length > 0)
    figures.excludedFolds = exclusion.excludeFolds.join(', ');
  // Dense asked for by name never quietly becomes BM25: the run stops before its first model call.
  if (memory && options.r2Search === 'dense') {
    const dense = await memory.denseSide();
    if ('unavailable' in dense) throw memoryDenseUnavailableError(memory.name, dense.unavailable);
  }
  const passagePool = new DocumentPool();
  const seenExamples = new Set<number>();
  let r2FallbackReported = false;
  const retrieveRound = async (
    query: string,
    round: number,
  ): Promise<{ passages: RetrievedDoc[]; examples: SolvedExampleHit[] }> =>
    timePhase(phaseMs, 'retrieve', context.now, async () => {
      const passages = useR1
        ? await retrievalStep(context, {
            query,
            k: context.topK,
            kind: 'icrag-r1',
            title: `R1: retrieved passages for round ${round}`,
            data: { round },
            pool: passagePool,
          })
        : [];
      figures.r1Passages = passagePool.size;
      let examples: SolvedExampleHit[] = [];
      if (memory && exclusion) {
        const search = await searchSolvedExamples(memory, query, {
          k: options.memoryK,
          ...exclusion,
          mode: options.r2Search,
          signal,
        });
        examples = search.hits;
        for (const example of examples) seenExamples.add(example.id);
        figures.r2Examples = seenExamples.size;
        figures.r2Search = search.mode;
        const warnings = [...search.warnings];
        if (search.fallback && !r2FallbackReported) {
          r2FallbackReported = true;
          warnings.push(`R2 ${search.requestedMode} search runs as bm25: ${search.fallback}.`);
        }
        for (const message of warnings) emit({ type: 'warning', message });
        emit({
          type: 'step',
          kind: 'icrag-r2',
          title: `R2: ${examples.length} solved example${examples.length === 1 ? '' : 's'} from ${memory.name} for round ${round}${examples.length > 0 ? ` (${examples.map((example) => example.itemId).join(', ')})` : ''}, ${search.mode} search`,
          detail: query,
          data: {
            round,
            query,
            memory: memory.name,
            search: { requested: search.requestedMode, used: search.mode, fallback: search.fallback },
            k: options.memoryK,
            excludedFolds: exclusion.excludeFolds,
            excludedIds: exclusion.excludeIds,
            examples: examples.map((example) => ({
              id: example.id,
              itemId: example.itemId,
              fold: example.fold,
              score: example.score,
              scores: example.scores ?? {},
              task: example.task,
              answer: example.answer,
              snippet: options.memoryFormat === 'text' && example.text ? example.text : example.program,
            })),
          },
        });
      }
      return { passages, examples };
    });

  if (options.answerBy === 'model') {
    const { passages, examples } = await retrieveRound(task, 1);
    const output = await timePhase(phaseMs, 'answer', context.now, () =>
      llm.generate({
        role: 'answer',
        messages: ragAnswerMessages({ task, passages, examples, exampleFormat: options.memoryFormat }),
        maxTokens: options.answerMaxTokens,
        signal,
      }),
    );
    const parsed = parseAnswerOutput(output.text);
    figures.stopReason = 'off';
    return {
      answer: parsed.answer,
      reasoning: parsed.reasoning,
      citations: citationsOfAnswer(parsed, passages),
      failure: null,
      metrics: metrics(),
    };
  }

  // 1. Codify.
  const codified = await loop.write({
    messages: codifyMessages(task),
    purpose: 'codify',
    feedback: (code, problem) => codifyFixMessages(task, code, problem),
  });
  if (!codified) {
    return fail(
      'SyntaxError',
      `No program the model wrote for the task would parse after ${options.maxProgramAttempts} attempts.`,
    );
  }
  let program: PreparedProgram = codified;
  emitVersion(context, { version: 0, code: program.source, previousCode: null, query: null, round: 0 });
  figures.programVersions = 1;

  // 2. Co-refinement.
  let query = task;
  for (let round = 1; round <= options.maxIterations; round++) {
    const { passages, examples } = await retrieveRound(query, round);
    const input: RefineInput = {
      task,
      code: program.source,
      passages,
      examples,
      exampleFormat: options.memoryFormat,
    };
    const refined = await timePhase(phaseMs, 'refine', context.now, () =>
      refine(context, loop, input, figures),
    );
    if (refined instanceof RefinerFailure) return fail('RefinerInvalidJson', refined.message);
    figures.iterations = round;
    emitVersion(context, {
      version: round,
      code: refined.program.source,
      previousCode: program.source,
      query: refined.query,
      round,
    });
    figures.programVersions++;
    program = refined.program;
    if (refined.query === '') {
      figures.stopReason = 'empty-query';
      break;
    }
    query = refined.query;
  }
  emit({
    type: 'step',
    kind: 'icrag-stop',
    title:
      figures.stopReason === 'empty-query'
        ? `Refinement stopped after ${figures.iterations} round${figures.iterations === 1 ? '' : 's'}: the refiner asked for nothing more`
        : figures.stopReason === 'cap'
          ? `Refinement stopped at the cap of ${options.maxIterations} round${options.maxIterations === 1 ? '' : 's'}`
          : 'Refinement is off (maxIterations=0)',
    detail: `Executing program c${figures.programVersions - 1}`,
    data: {
      reason: figures.stopReason,
      iterations: figures.iterations,
      finalVersion: figures.programVersions - 1,
    },
  });

  // 3. Chain-of-Code execution with simulated helpers.
  let simulated: SimulatedCall[] = [];
  const { execution, program: final } = await loop.executeWithRepairs(program, {
    tools: (running) => {
      simulated = [];
      return {
        tools: {
          [SIMULATE_TOOL]: simulateTool({
            llm,
            task,
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
    repair: (code, problem) => codifyFixMessages(task, code, problem),
    maxRepairs: options.maxRepairs,
  });
  figures.simulatedCalls = simulated.length;
  const routed = routeUndefinedCalls(final.source);
  figures.undefinedHelpers = routed.ok ? [...new Set(routed.routed.map((r) => r.name))].join(', ') : '';
  if (execution.failure) {
    const { code, message } = loop.failureOf(execution.failure);
    return fail(code, message);
  }
  const citations: Citation[] = passagePool.docs().map(citationOf);
  return {
    answer: normalizeTaskAnswer(execution.value, task),
    reasoning: null,
    citations,
    failure: null,
    metrics: metrics(),
  };
}

function openMemory(context: StrategyContext<IcragOptions>, name: string): SolvedExampleMemory {
  if (!context.openMemory)
    throw new ReckonError(
      'MEMORY_UNAVAILABLE',
      `This run cannot open memories of solved examples, so the memory "${name}" cannot be used. Run without the memory option.`,
    );
  return context.openMemory(name);
}

/**
 * One refinement round: asks for {code, query}, under the JSON schema, until a reply is that object
 * and its code parses (attempts: `refineAttempts`). The accepted program is adopted by the loop (a
 * program-generated event with purpose "refine").
 */
async function refine(
  context: StrategyContext<IcragOptions>,
  loop: ProgramLoop,
  input: RefineInput,
  figures: Figures,
): Promise<{ program: PreparedProgram; query: string } | RefinerFailure> {
  const { options, llm, signal } = context;
  let messages = refineMessages(input);
  let problem = '';
  for (let attempt = 1; attempt <= options.refineAttempts; attempt++) {
    if (attempt > 1) figures.refinerRetries++;
    const output = await llm.generate({
      role: 'refine',
      messages,
      jsonSchema: REFINE_SCHEMA,
      maxTokens: options.refineMaxTokens,
      signal,
    });
    const parsed = parseRefinerOutput(output.text);
    if (parsed.ok) {
      const prepared = await loop.adopt(parsed.code, 'refine');
      if ('script' in prepared) return { program: prepared, query: parsed.query };
      problem = `The program in "code" does not parse: ${prepared.message}${prepared.line ? ` (line ${prepared.line})` : ''}.`;
    } else {
      problem = `That reply is not the JSON object asked for: ${parsed.error}.`;
    }
    context.emit({
      type: 'step',
      kind: 'icrag-refiner-retry',
      title: `Refiner reply ${attempt} was not usable`,
      detail: problem,
      data: {
        attempt,
        problem,
        reply: output.text.length > 2000 ? `${output.text.slice(0, 2000)}…` : output.text,
      },
    });
    messages = refineRetryMessages(input, output.text, problem);
  }
  return new RefinerFailure(
    `The refiner gave no usable {code, query} reply after ${options.refineAttempts} ${options.refineAttempts === 1 ? 'try' : 'tries'} (${problem})`,
  );
}

/** The trace step of one program version: its code, the one before (for diffs) and the next query. */
function emitVersion(
  context: StrategyContext<IcragOptions>,
  version: {
    version: number;
    code: string;
    previousCode: string | null;
    query: string | null;
    round: number;
  },
): void {
  const title =
    version.version === 0
      ? 'Program c0: the task codified'
      : `Program c${version.version}: refinement ${version.round}${version.previousCode === version.code ? ' (unchanged)' : ''}`;
  context.emit({
    type: 'step',
    kind: 'icrag-version',
    title,
    detail:
      version.query === null
        ? 'The task as a program, before any retrieval'
        : version.query === ''
          ? 'Next query: none (refinement stops)'
          : `Next query: ${version.query}`,
    data: version,
  });
}
