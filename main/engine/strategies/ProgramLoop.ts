/**
 * The one program loop every program-writing method shares (PyRAG, run-program, and later ICRAG and
 * Chain-of-Code): ask the model for a program → extract → normalize → parse → instrument → execute
 * in the sandbox → feed a syntax or runtime error back → retry. The strategy supplies the prompts and
 * the host tools; the loop does the rest and keeps the program figures (ProgramMetrics).
 */
import type { ChatMessage } from '../models/LlmBackend.ts';
import { extractProgram, foreignFenceLanguage, normalizeProgramText } from '../programs/extractProgram.ts';
import {
  DEFAULT_MAX_PROGRAM_BYTES,
  prepareProgram,
  type PreparedProgram,
  type PrepareProgramResult,
} from '../programs/prepareProgram.ts';
import { buildProgramGrammar } from '../programs/programGrammar.ts';
import type {
  HostTools,
  JsonValue,
  SandboxFailure,
  SandboxFailureKind,
  SandboxRunResult,
} from '../sandbox/SandboxTypes.ts';
import type { ProgramMetrics } from '../../../preload/TraceEvent.ts';
import { throwIfAborted } from '../errors.ts';
import { timePhase, type StrategyContext } from './Strategy.ts';
import { traceSandboxEvent } from './traceSandboxEvent.ts';

/** Program-writing attempts per plan or repair (syntax errors fed back in between). */
export const DEFAULT_MAX_PROGRAM_ATTEMPTS = 3;
/** Repair rounds after runtime failures. */
export const DEFAULT_MAX_REPAIR_ROUNDS = 3;

/**
 * Failures the model can fix by rewriting its program. HostError, HostTimeLimit (a slow or failing
 * model or search) and Cancelled are not the program's doing, so they are never repaired.
 */
export const REPAIRABLE_FAILURES: ReadonlySet<SandboxFailureKind> = new Set([
  'SyntaxError',
  'RuntimeError',
  'Timeout',
  'MemoryLimit',
  'StackOverflow',
  'HostCallLimit',
  'InvalidHostArgument',
]);

/** What went wrong with a program, as the model is told. */
export interface ProgramProblem {
  kind: string;
  message: string;
  line: number | null;
  /** The reply was fenced code in this other language (```python), not JavaScript. */
  language?: string;
  /** The runtime failure a repair was fixing when this syntax error came up: it still needs fixing. */
  repairing?: ProgramProblem;
}

/** The feedback text for a problem: what failed, where, and what to do. Prompts embed it. */
export function describeProblem(problem: ProgramProblem): string {
  const where = problem.line ? ` on line ${problem.line}` : '';
  const parts = [
    problem.language
      ? `Your reply was a \`\`\`${problem.language} block, but the program must be JavaScript. Write it in JavaScript.`
      : `That program failed with ${problem.kind}${where}: ${problem.message}`,
  ];
  if (problem.repairing) {
    const earlier = problem.repairing;
    const at = earlier.line ? ` on line ${earlier.line}` : '';
    parts.push(
      `You were fixing this earlier failure, which must still be fixed: ${earlier.kind}${at}: ${earlier.message}`,
    );
  }
  return parts.join('\n');
}

/** The source with line numbers, as feedback shows it. */
export function numberLines(code: string): string {
  return code
    .split('\n')
    .map((line, i) => `${String(i + 1).padStart(2, ' ')}| ${line}`)
    .join('\n');
}

export interface WriteProgramRequest {
  /** The first request (plan, codify, repair …). */
  messages: ChatMessage[];
  /** Recorded on program-generated events and used as the model call's role. */
  purpose: string;
  /** The follow-up request after a reply that does not parse. */
  feedback(code: string, problem: ProgramProblem): ChatMessage[];
}

export interface ExecuteOptions {
  tools: HostTools;
  /** Retrieve calls whose k was raised for this execution (shown on execution-started). */
  boosted?: { callIndex: number; k: number }[];
  /** Tool calls served from an earlier execution (marked cached in the trace). */
  isCached?: (callIndex: number) => boolean;
}

export interface ProgramExecution {
  /** 1-based number of this execution within the run. */
  number: number;
  result: SandboxRunResult;
  /** What the program returned, when it succeeded. */
  value: JsonValue | undefined;
  failure: SandboxFailure | undefined;
}

export interface RepairOptions {
  /** Tools for each execution (called again for every repaired program, which it is given). */
  tools: (program: PreparedProgram) => ExecuteOptions;
  /** The request to fix `code` that failed with `problem`. */
  repair(code: string, problem: ProgramProblem): ChatMessage[];
  maxRepairs: number;
}

/** Options of a ProgramLoop; every one has a default. */
export interface ProgramLoopOptions {
  /** Host tool names the programs may call (instrumented as host calls). Default: retrieve, answer. */
  toolNames?: readonly string[];
  /** Attempts per written program. Default DEFAULT_MAX_PROGRAM_ATTEMPTS (3). */
  maxAttempts?: number;
  /** Token budget of one program. Default 768. */
  maxTokens?: number;
  /**
   * Constrain program generation with the program grammar (buildProgramGrammar over `toolNames`)
   * where the backend enforces grammars (node-llama-cpp), so that a small model cannot write a
   * program that does not parse. Backends that cannot constrain ignore it. Default: false.
   */
  constrain?: boolean;
  /**
   * Checks a successful program's value; a failure returned here is treated like a runtime error
   * (fed back for repair). Default: accept everything.
   */
  checkResult?: (value: JsonValue | undefined) => SandboxFailure | undefined;
  /**
   * Rewrites a program's normalized source before it is prepared (Chain-of-Code routes calls of
   * undefined functions to the simulation tool). It must keep every line where it was; the program's
   * `source` — what the trace, repairs and figures show — stays the code as written. A failure
   * returned here is fed back like a syntax error. Default: none.
   */
  transform?: (source: string) => { ok: true; source: string } | { ok: false; error: SandboxFailure };
}

/** Default token budget of one program. */
export const DEFAULT_PROGRAM_MAX_TOKENS = 768;

/**
 * One run's program loop. Phases are timed into `phaseMs` (write → `purpose`, execute → 'execute');
 * figures accumulate in `metrics` across every write, execution and repair of the run.
 */
export class ProgramLoop {
  readonly metrics: ProgramMetrics = {
    programAttempts: 0,
    executions: 0,
    repairs: 0,
    hostCalls: 0,
    cyclomaticComplexity: null,
    maxStackDepth: null,
    programLines: null,
    nodeTypeProfile: null,
    hostCallSites: null,
    executable: null,
    exceptionKind: null,
  };
  readonly #context: StrategyContext<unknown>;
  readonly #phaseMs: Record<string, number>;
  readonly #toolNames: readonly string[];
  readonly #maxAttempts: number;
  readonly #maxTokens: number;
  readonly #checkResult: ProgramLoopOptions['checkResult'];
  readonly #grammar: string | undefined;
  readonly #transform: ProgramLoopOptions['transform'];

  constructor(
    context: StrategyContext<unknown>,
    phaseMs: Record<string, number>,
    options: ProgramLoopOptions = {},
  ) {
    this.#context = context;
    this.#phaseMs = phaseMs;
    this.#toolNames = options.toolNames ?? ['retrieve', 'answer'];
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_PROGRAM_ATTEMPTS;
    this.#maxTokens = options.maxTokens ?? DEFAULT_PROGRAM_MAX_TOKENS;
    this.#checkResult = options.checkResult;
    this.#transform = options.transform;
    this.#grammar =
      options.constrain === true && context.llm.supportsGrammar === true
        ? // `const`/`let` as the prompts' examples write them; a name declared twice is the one
          // mistake the grammar cannot rule out, and it is fed back like any syntax error.
          buildProgramGrammar({ toolNames: this.#toolNames, fenced: true, declarations: 'lexical' })
        : undefined;
  }

  /** Whether programs are generated under the program grammar (constrain on and the backend enforces it). */
  get constrained(): boolean {
    return this.#grammar !== undefined;
  }

  /** Prepares code the loop did not ask the model for (a user's program, a fallback) and records it. */
  async adopt(code: string, purpose: string): Promise<PreparedProgram | SandboxFailure> {
    const source = normalizeProgramText(code);
    this.metrics.programAttempts++;
    this.#context.emit({
      type: 'program-generated',
      attempt: this.metrics.programAttempts,
      purpose,
      code: source,
    });
    const prepared = await this.#prepare(source);
    if (prepared.ok) return prepared.program;
    this.#emitSyntaxError(prepared.error);
    return prepared.error;
  }

  /**
   * Asks the model for a program until one parses, at most `maxAttempts` times; each reply that does
   * not parse goes back through `request.feedback` with the error (or a note that the reply was not
   * JavaScript). Undefined when no attempt parsed.
   */
  async write(request: WriteProgramRequest): Promise<PreparedProgram | undefined> {
    return timePhase(this.#phaseMs, request.purpose, this.#context.now, async () => {
      const { llm, emit, signal } = this.#context;
      let messages = request.messages;
      for (let attempt = 1; attempt <= this.#maxAttempts; attempt++) {
        const output = await llm.generate({
          role: request.purpose,
          messages,
          maxTokens: this.#maxTokens,
          ...(this.#grammar !== undefined ? { grammar: this.#grammar } : {}),
          signal,
        });
        this.metrics.programAttempts++;
        const language = foreignFenceLanguage(output.text);
        const extracted = extractProgram(output.text);
        const code = normalizeProgramText(extracted?.code ?? output.text);
        emit({
          type: 'program-generated',
          attempt: this.metrics.programAttempts,
          purpose: request.purpose,
          code,
        });
        const prepared = language === undefined ? await this.#prepare(code) : undefined;
        if (prepared?.ok) return prepared.program;
        const error: SandboxFailure =
          prepared?.ok === false
            ? prepared.error
            : { kind: 'SyntaxError', message: `The reply is ${language} code, not JavaScript.` };
        this.#emitSyntaxError(error);
        messages = request.feedback(code, {
          kind: 'SyntaxError',
          message: error.message,
          line: error.line ?? null,
          ...(language !== undefined ? { language } : {}),
        });
      }
      return undefined;
    });
  }

  /** Runs a prepared program once in the sandbox, tracing its tool calls, bindings and failure. */
  async execute(program: PreparedProgram, options: ExecuteOptions): Promise<ProgramExecution> {
    return timePhase(this.#phaseMs, 'execute', this.#context.now, async () => {
      const { emit, signal } = this.#context;
      throwIfAborted(signal);
      const number = ++this.metrics.executions;
      emit({ type: 'execution-started', execution: number, boosted: options.boosted ?? [] });
      const result = await this.#context.runProgram({
        script: program.script,
        tools: options.tools,
        signal,
        onEvent: (event) => {
          const cached = event.type === 'host-result' && options.isCached?.(event.callIndex) === true;
          emit(traceSandboxEvent(number, event, { cached }));
        },
      });
      this.metrics.hostCalls += result.metrics.hostCalls;
      let failure: SandboxFailure | undefined = result.ok ? undefined : result.error;
      const value = result.ok ? (result.value as JsonValue | undefined) : undefined;
      if (!failure) failure = this.#checkResult?.(value);
      if (failure) {
        emit({
          type: 'runtime-error',
          execution: number,
          kind: failure.kind,
          errorName: failure.errorName ?? null,
          message: failure.message,
          line: failure.line ?? null,
        });
      }
      this.#record(program, result, failure);
      return { number, result, value: failure ? undefined : value, failure };
    });
  }

  /**
   * Executes `program`; while it fails in a way the model can fix (REPAIRABLE_FAILURES), asks for a
   * repair — the failure's kind, message, line and the numbered code go back — and executes the new
   * program, at most `maxRepairs` rounds. A syntax error in a repair keeps the runtime failure it was
   * repairing in the feedback. Returns the last program and its execution.
   */
  async executeWithRepairs(
    program: PreparedProgram,
    options: RepairOptions,
  ): Promise<{ program: PreparedProgram; execution: ProgramExecution; rounds: number }> {
    let execution = await this.execute(program, options.tools(program));
    let rounds = 0;
    while (
      execution.failure &&
      REPAIRABLE_FAILURES.has(execution.failure.kind) &&
      rounds < options.maxRepairs
    ) {
      rounds++;
      this.metrics.repairs++;
      const failure = execution.failure;
      const problem: ProgramProblem = {
        kind: failure.kind,
        message: failure.message,
        line: failure.line ?? null,
      };
      this.#context.emit({
        type: 'repair-requested',
        round: this.metrics.repairs,
        kind: failure.kind,
        message: failure.message,
        line: failure.line ?? null,
      });
      const repaired = await this.write({
        messages: options.repair(program.source, problem),
        purpose: 'repair',
        feedback: (code, syntax) => options.repair(code, { ...syntax, repairing: problem }),
      });
      if (!repaired) break;
      program = repaired;
      execution = await this.execute(program, options.tools(program));
    }
    return { program, execution, rounds };
  }

  /** A run's failure for a program that still fails: its kind, and the message with the repairs tried. */
  failureOf(failure: SandboxFailure): { code: string; message: string } {
    const rounds = this.metrics.repairs;
    return {
      code: failure.kind,
      message: `The program failed${rounds > 0 ? ` after ${rounds} repair round${rounds > 1 ? 's' : ''}` : ''}: ${failure.message}`,
    };
  }

  /**
   * Makes `execution` of `program` the one the figures describe (executable, exception, complexity of
   * the final program): by default the last execution; a strategy that keeps an earlier result (a
   * boosted re-run that broke) says so here.
   */
  settle(program: PreparedProgram, execution: ProgramExecution): void {
    this.#record(program, execution.result, execution.failure);
  }

  #record(program: PreparedProgram, result: SandboxRunResult, failure: SandboxFailure | undefined): void {
    const { analysis } = program;
    this.metrics.cyclomaticComplexity = analysis.cyclomaticComplexity;
    this.metrics.programLines = analysis.lines;
    this.metrics.nodeTypeProfile = analysis.nodeTypeProfile;
    this.metrics.hostCallSites = analysis.hostCallSites;
    this.metrics.maxStackDepth = result.metrics.maxStackDepth;
    this.metrics.executable = !failure;
    this.metrics.exceptionKind = failure?.kind ?? null;
  }

  /**
   * prepareProgram over the transformed source, keeping the source as written: in the engine's
   * preparation worker under its deadline when the context has one (runs do), else on this thread.
   */
  async #prepare(source: string): Promise<PrepareProgramResult> {
    const options = { hostFunctions: this.#toolNames };
    const prepare = (code: string): Promise<PrepareProgramResult> | PrepareProgramResult =>
      this.#context.prepareProgram
        ? this.#context.prepareProgram(code, options)
        : prepareProgram(code, options);
    if (!this.#transform) return prepare(source);
    // The transform parses the source on this thread: refuse what prepareProgram would refuse first.
    if (Buffer.byteLength(source) > DEFAULT_MAX_PROGRAM_BYTES) return prepareProgram(source, options);
    let transformed: ReturnType<NonNullable<ProgramLoopOptions['transform']>>;
    try {
      transformed = this.#transform(source);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      return prepareProgram(source, options);
    }
    if (!transformed.ok) return transformed;
    const prepared = await prepare(transformed.source);
    return prepared.ok ? { ok: true, program: { ...prepared.program, source } } : prepared;
  }

  #emitSyntaxError(error: SandboxFailure): void {
    this.#context.emit({
      type: 'syntax-error',
      attempt: this.metrics.programAttempts,
      message: error.message,
      line: error.line ?? null,
      column: error.column ?? null,
    });
  }
}
