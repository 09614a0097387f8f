/**
 * The app service's evaluation commands: the dataset files on offer, starting an evaluation (every
 * method with every model on every dataset, through the engine's runEvaluation, one dataset after
 * another), resuming and cancelling it, listing the saved ones and reading one's results.
 *
 * An evaluation lives in `<dataDir>/evaluations/<id>/`: `evaluation.json` (the request, the sandbox
 * and retry settings it started with — so a resume makes the same measurements — and its status),
 * and one folder per dataset holding `dataset.json` (the sample's item ids and the configs), the
 * records (`results.jsonl`, the same file `reckon eval` resumes from) and the reports
 * (writeEvalReports). Results are read back from the records, so a stopped evaluation shows what it
 * has, and resuming it never scores a question twice.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type {
  CommandOutput,
  ErrorPayload,
  EvalRequest,
  EventPayload,
  Settings,
} from '../../../preload/contract.ts';
import { APP_ROOT } from '../config.ts';
import { ReckonError } from '../errors.ts';
import type { EvalDataset } from '../eval/datasets/EvalItem.ts';
import { loadEvalDataset } from '../eval/datasets/loadEvalDataset.ts';
import { evalChartData } from '../eval/run/evalChartData.ts';
import type { EvalConfig, EvalRecord } from '../eval/run/EvalRecord.ts';
import { EVAL_RESULTS_FILE, EvalResultsFile, parseEvalRecords } from '../eval/run/EvalResultsFile.ts';
import { evalReportColumns } from '../eval/run/evalReportColumns.ts';
import { EVAL_CORPUS_FILES_DIR, prepareEvalCorpus } from '../eval/run/prepareEvalCorpus.ts';
import { hashDatasetBytes, runEvaluation } from '../eval/run/runEvaluation.ts';
import { summarizeEvaluation, type EvalReport } from '../eval/run/summarizeEvaluation.ts';
import { summarizeEvalSuite } from '../eval/run/summarizeEvalSuite.ts';
import { EVAL_REPORT_FILES, writeEvalReports } from '../eval/run/writeEvalReports.ts';
import { METRIC_INFO } from '../eval/scoring/EvalScore.ts';
import { parseModelSpec } from '../models/createLlmBackend.ts';
import { strategyRegistry } from '../strategies/registry.ts';
import { atomicWriteFileSync } from '../util/atomicWrite.ts';
import type { Handlers, ServiceContext } from './ServiceContext.ts';
import { toErrorPayload } from './toErrorPayload.ts';

/** Folder of `<dataDir>` that holds the app's evaluations. */
export const EVALUATIONS_DIR = 'evaluations';
/** The dataset files shipped with the app, offered by listEvalDatasets. */
export const SAMPLE_EVAL_DATASETS_DIR = path.join(APP_ROOT, 'corpora', 'hotpotqa-sample');

const EVALUATION_FILE = 'evaluation.json';
const DATASET_FILE = 'dataset.json';
/** Evaluation ids are folder names: made by Reckon, checked on the way in. */
const EVALUATION_ID = /^eval-[A-Za-z0-9-]{1,80}$/;

type EvalCommands =
  | 'listEvalDatasets'
  | 'startEvaluation'
  | 'resumeEvaluation'
  | 'cancelEvaluation'
  | 'listEvaluations'
  | 'getEvaluation';

type EvalSummary = CommandOutput<'getEvaluation'>['evaluation'];
type EvalDatasetResult = CommandOutput<'getEvaluation'>['datasets'][number];

/** evaluation.json. */
interface SavedEvaluation {
  id: string;
  createdAt: number;
  finishedAt: number | null;
  status: 'running' | 'done' | 'cancelled' | 'failed';
  request: EvalRequest;
  /** The settings in force when it started; a resume uses these, so its config keys match. */
  settings: Pick<Settings, 'sandbox' | 'retry'>;
  datasetNames: string[];
  error: ErrorPayload | null;
}

/** `<dataset folder>/dataset.json`: what the results of one dataset are summarized against. */
interface SavedDataset {
  path: string;
  name: string;
  kind: string;
  format: string;
  total: number;
  notes: string[];
  corpus: string | null;
  itemIds: string[];
  /** The configs, in row order, once runEvaluation has made them; null before. */
  configs: { configKey: string; config: EvalConfig }[] | null;
}

export function createEvalHandlers(ctx: ServiceContext): Pick<Handlers, EvalCommands> {
  const { options, engine, settings, runs, emit, now, jobs, progressIntervalMs, llmProvider } = ctx;
  const root = path.join(options.dataDir, EVALUATIONS_DIR);

  const folderOf = (id: string): string => {
    if (!EVALUATION_ID.test(id)) throw notFound(id);
    return path.join(root, id);
  };

  function read(id: string): SavedEvaluation {
    try {
      return JSON.parse(fs.readFileSync(path.join(folderOf(id), EVALUATION_FILE), 'utf8')) as SavedEvaluation;
    } catch (error) {
      if (error instanceof ReckonError) throw error;
      throw notFound(id);
    }
  }

  function save(saved: SavedEvaluation): void {
    atomicWriteFileSync(
      path.join(folderOf(saved.id), EVALUATION_FILE),
      `${JSON.stringify(saved, null, 2)}\n`,
    );
  }

  function summaryOf(saved: SavedEvaluation): EvalSummary {
    const running = jobs.runningFor('evaluation', saved.id) !== undefined;
    return {
      id: saved.id,
      createdAt: saved.createdAt,
      finishedAt: saved.finishedAt,
      // "running" on disk with no job: the app stopped while it ran.
      status: saved.status === 'running' && !running ? 'incomplete' : saved.status,
      request: saved.request,
      datasetNames: saved.datasetNames,
      error: saved.error,
    };
  }

  /** Checks what can be checked before anything runs, so the caller gets the error, not a failed job. */
  function checkRequest(request: EvalRequest): void {
    for (const file of request.datasets) {
      if (!path.isAbsolute(file))
        throw new ReckonError(
          'BAD_PATH',
          `"${file}" is not a full path. Type the dataset file's path from the root of the disk (on the machine Reckon runs on).`,
        );
      if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile())
        throw new ReckonError(
          'FILE_NOT_FOUND',
          `There is no dataset file ${file}. Check the path and try again.`,
        );
    }
    for (const method of request.methods) strategyRegistry.parseOptions(method.id, method.options ?? {});
    for (const model of request.models) parseModelSpec(model);
    if (request.corpus !== undefined && !engine.library.exists(request.corpus))
      engine.library.open(request.corpus).close();
  }

  function launch(saved: SavedEvaluation): void {
    jobs.start('evaluation', saved.id, async (job) => {
      const signal = job.controller.signal;
      let status: SavedEvaluation['status'] = 'done';
      let error: ErrorPayload | null = null;
      try {
        for (let index = 0; index < saved.request.datasets.length; index++) {
          if (signal.aborted) break;
          const outcome = await evaluateDataset(saved, index, signal);
          if (outcome === 'cancelled') break;
        }
        if (signal.aborted) status = 'cancelled';
      } catch (caught) {
        error = toErrorPayload(caught);
        status = signal.aborted || error.code === 'CANCELLED' ? 'cancelled' : 'failed';
        if (status === 'cancelled') error = null;
      }
      saved.status = status;
      saved.error = error;
      saved.finishedAt = now();
      save(saved);
      emit('onDidFinishEvaluation', { evaluationId: saved.id, status, error });
    });
  }

  async function evaluateDataset(
    saved: SavedEvaluation,
    index: number,
    signal: AbortSignal,
  ): Promise<'done' | 'cancelled'> {
    const { request } = saved;
    const file = request.datasets[index]!;
    const base: Omit<EventPayload<'onDidChangeEvalProgress'>, 'phase' | 'dataset'> = {
      evaluationId: saved.id,
      datasetIndex: index,
      datasetCount: request.datasets.length,
      done: 0,
      total: 0,
      resumed: 0,
      etaSeconds: null,
      last: null,
    };
    emit('onDidChangeEvalProgress', { ...base, dataset: path.basename(file), phase: 'load' });
    const bytes = await fs.promises.readFile(file).catch((caught: unknown) => {
      throw new ReckonError(
        'FILE_NOT_FOUND',
        `Cannot read the dataset ${file}: ${(caught as Error).message}`,
      );
    });
    const dataset = await loadEvalDataset(file, {
      ...(request.limit !== undefined ? { limit: request.limit } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      signal,
    });
    saved.datasetNames[index] = dataset.name;
    save(saved);
    const dir = datasetFolder(saved.id, index, file);
    const results = EvalResultsFile.open(dir);

    const corpus = await corpusFor(saved, dataset, signal, (done, total) =>
      emit('onDidChangeEvalProgress', { ...base, dataset: dataset.name, phase: 'corpus', done, total }),
    );
    const meta: SavedDataset = {
      path: file,
      name: dataset.name,
      kind: dataset.kind,
      format: dataset.format,
      total: dataset.total,
      notes: dataset.notes,
      corpus,
      itemIds: dataset.items.map((item) => item.id),
      configs: null,
    };
    atomicWriteFileSync(path.join(dir, DATASET_FILE), `${JSON.stringify(meta, null, 2)}\n`);

    const outcome = await runEvaluation(
      {
        dataset,
        datasetHash: hashDatasetBytes(bytes),
        methods: request.methods.map((method) => ({ id: method.id, options: method.options ?? {} })),
        models: request.models,
        corpus,
        results,
        ...(request.k !== undefined ? { topK: request.k } : {}),
        ...(request.mode ? { searchMode: request.mode } : {}),
        ...(request.concurrency !== undefined ? { concurrency: request.concurrency } : {}),
        retry: saved.settings.retry,
        sandboxLimits: saved.settings.sandbox,
        signal,
        onProgress: (event) => {
          const record = event.record;
          const memory = event.memory;
          emit('onDidChangeEvalProgress', {
            ...base,
            dataset: dataset.name,
            ...(memory
              ? { phase: 'memory' as const, done: memory.done, total: memory.total }
              : { phase: 'run' as const, done: event.resumed + event.done, total: event.total }),
            resumed: event.resumed,
            etaSeconds: event.etaSeconds ?? null,
            last: record
              ? {
                  method: record.config.method,
                  itemId: record.itemId,
                  question: record.question,
                  score: primaryOf(record),
                  error: record.error ? record.error.message : null,
                }
              : null,
          });
        },
      },
      { engine, llm: llmProvider, store: runs() },
    );
    meta.configs = outcome.configs;
    atomicWriteFileSync(path.join(dir, DATASET_FILE), `${JSON.stringify(meta, null, 2)}\n`);
    writeEvalReports(dir, summarizeEvalSuite([reportOf(meta, outcome.records, request)]), outcome.records);
    return outcome.cancelled ? 'cancelled' : 'done';
  }

  /** The corpus the dataset's questions search: its own paragraphs, else the request's corpus, else none. */
  async function corpusFor(
    saved: SavedEvaluation,
    dataset: EvalDataset,
    signal: AbortSignal,
    onProgress: (done: number, total: number) => void,
  ): Promise<string | null> {
    const retrieving = saved.request.methods.filter(
      (method) => strategyRegistry.get(method.id).corpus !== 'none',
    );
    if (retrieving.length === 0) return null;
    if (!dataset.hasContexts) {
      if (saved.request.corpus !== undefined) return saved.request.corpus;
      const needs = retrieving.find((method) => strategyRegistry.get(method.id).corpus === 'required');
      if (needs)
        throw new ReckonError(
          'CORPUS_REQUIRED',
          `${strategyRegistry.get(needs.id).label} retrieves from a corpus, and ${dataset.name} has no context paragraphs to build one from. Choose one of your corpora for it, or leave that method out.`,
        );
      return null;
    }
    let lastSent = -Infinity;
    const prepared = await prepareEvalCorpus(engine, {
      dataset,
      corpusFilesDir: path.join(options.dataDir, EVAL_CORPUS_FILES_DIR),
      embedder: 'auto',
      signal,
      onProgress: (event) => {
        const at = now();
        if (at - lastSent < progressIntervalMs && event.phase !== 'done') return;
        lastSent = at;
        onProgress(event.filesDone, event.filesTotal);
      },
    });
    return prepared.name;
  }

  function datasetFolder(id: string, index: number, file: string): string {
    const slug =
      path
        .basename(file)
        .replace(/[^A-Za-z0-9._-]+/g, '-')
        .slice(0, 60) || 'dataset';
    return path.join(folderOf(id), `${index + 1}-${slug}`);
  }

  function datasetResult(saved: SavedEvaluation, index: number): EvalDatasetResult | null {
    const dir = datasetFolder(saved.id, index, saved.request.datasets[index]!);
    let meta: SavedDataset;
    try {
      meta = JSON.parse(fs.readFileSync(path.join(dir, DATASET_FILE), 'utf8')) as SavedDataset;
    } catch {
      return null;
    }
    // Read, not opened: a running evaluation may be appending to the file.
    const { records } = parseEvalRecords(readText(path.join(dir, EVAL_RESULTS_FILE)));
    const report = reportOf(meta, records, saved.request);
    const columns = evalReportColumns(report).filter((column) => column.id !== 'tokens_estimated');
    const best = new Map<string, number>();
    for (const column of columns) {
      const values = column.higherIsBetter
        ? report.cells.flatMap((cell) => {
            const value = column.value(cell);
            return typeof value === 'number' ? [value] : [];
          })
        : [];
      if (values.length > 1) best.set(column.id, Math.max(...values));
    }
    const byConfig = new Set(report.cells.map((cell) => cell.configKey));
    const inSample = new Set(meta.itemIds);
    const reportPath = path.join(dir, EVAL_REPORT_FILES.html);
    return {
      path: meta.path,
      name: meta.name,
      format: meta.format,
      questions: meta.itemIds.length,
      total: meta.total,
      corpus: meta.corpus,
      notes: meta.notes,
      primaryMetric: report.primaryMetric,
      primaryLabel: METRIC_INFO[report.primaryMetric].label,
      missing: report.missing,
      columns: columns.map((column) => ({
        id: column.id,
        label: column.label,
        higherIsBetter: column.higherIsBetter === true,
      })),
      rows: report.cells.map((cell) => ({
        configKey: cell.configKey,
        method: cell.method,
        model: cell.model,
        primary: cell.primary,
        cells: columns.map((column) => {
          const value = column.value(cell);
          return {
            text: column.format(cell),
            best: typeof value === 'number' && best.get(column.id) === value,
          };
        }),
      })),
      charts: evalChartData(report, records),
      questionRows: records
        .filter((record) => byConfig.has(record.configKey) && inSample.has(record.itemId))
        .map((record) => ({
          configKey: record.configKey,
          method: record.config.method,
          model: record.config.model,
          itemId: record.itemId,
          question: record.question,
          golds: record.golds,
          prediction: record.prediction,
          score: record.score.metrics[report.primaryMetric] ?? null,
          metrics: Object.fromEntries(
            Object.entries(record.score.metrics).filter(
              (entry): entry is [string, number] => typeof entry[1] === 'number',
            ),
          ),
          runId: record.runId,
          status: record.status,
          error: record.error,
          repaired: record.program ? record.program.repairs > 0 : null,
          boosted: typeof record.figures.boosts === 'number' ? record.figures.boosts > 0 : null,
          simulated:
            typeof record.figures.simulatedCalls === 'number' ? record.figures.simulatedCalls > 0 : null,
          llmCalls: record.llmCalls,
          tokens: record.promptTokens + record.completionTokens,
          tokensEstimated: record.tokensEstimated,
          seconds: record.seconds,
        })),
      reportPath: fs.existsSync(reportPath) ? reportPath : null,
    };
  }

  return {
    async listEvalDatasets({ paths }) {
      const seen = new Set<string>();
      const found: { path: string; source: 'named' | 'sample' | 'recent' }[] = [];
      const add = (file: string, source: 'named' | 'sample' | 'recent'): void => {
        if (seen.has(file)) return;
        seen.add(file);
        found.push({ path: file, source });
      };
      for (const file of paths ?? []) add(file, 'named');
      for (const name of safeReaddir(SAMPLE_EVAL_DATASETS_DIR))
        if (/\.(json|jsonl|csv)$/i.test(name)) add(path.join(SAMPLE_EVAL_DATASETS_DIR, name), 'sample');
      for (const saved of savedEvaluations()) for (const file of saved.request.datasets) add(file, 'recent');
      return {
        datasets: await Promise.all(found.map(({ path: file, source }) => describeDataset(file, source))),
      };
    },

    startEvaluation(request) {
      checkRequest(request);
      const current = settings.get();
      const id = `eval-${new Date(now()).toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
      fs.mkdirSync(folderOf(id), { recursive: true });
      const saved: SavedEvaluation = {
        id,
        createdAt: now(),
        finishedAt: null,
        status: 'running',
        request,
        settings: { sandbox: { ...current.sandbox }, retry: { ...current.retry } },
        datasetNames: request.datasets.map((file) => path.basename(file)),
        error: null,
      };
      save(saved);
      launch(saved);
      return { evaluationId: id };
    },

    resumeEvaluation({ evaluationId }) {
      const saved = read(evaluationId);
      if (jobs.runningFor('evaluation', evaluationId))
        throw new ReckonError('EVALUATION_RUNNING', `Evaluation ${evaluationId} is already running.`);
      checkRequest(saved.request);
      Object.assign(saved, { status: 'running', finishedAt: null, error: null });
      save(saved);
      launch(saved);
      return { evaluationId };
    },

    cancelEvaluation({ evaluationId }) {
      const job = jobs.runningFor('evaluation', evaluationId);
      if (job) job.controller.abort();
      else read(evaluationId);
      return { ok: true as const };
    },

    listEvaluations() {
      return { evaluations: savedEvaluations().map(summaryOf) };
    },

    getEvaluation({ evaluationId }) {
      const saved = read(evaluationId);
      const datasets = saved.request.datasets.flatMap((_file, index) => datasetResult(saved, index) ?? []);
      return { evaluation: summaryOf(saved), datasets };
    },
  };

  /** Every readable evaluation.json, newest first. */
  function savedEvaluations(): SavedEvaluation[] {
    return safeReaddir(root)
      .filter((name) => EVALUATION_ID.test(name))
      .flatMap((name) => {
        try {
          return [read(name)];
        } catch {
          return [];
        }
      })
      .sort((a, b) => b.createdAt - a.createdAt);
  }
}

function reportOf(meta: SavedDataset, records: readonly EvalRecord[], request: EvalRequest): EvalReport {
  const configs = meta.configs ?? configsOf(records);
  return summarizeEvaluation(records, {
    dataset: {
      name: meta.name,
      kind: meta.kind,
      format: meta.format,
      path: meta.path,
      total: meta.total,
      notes: meta.notes,
    },
    sample: { limit: request.limit ?? null, seed: request.seed ?? null, questions: meta.itemIds.length },
    corpus: meta.corpus,
    configs,
    itemIds: meta.itemIds,
  });
}

/** The configs of the records so far, in first-seen order (while the evaluation has not said). */
function configsOf(records: readonly EvalRecord[]): { configKey: string; config: EvalConfig }[] {
  const byKey = new Map<string, EvalConfig>();
  for (const record of records) if (!byKey.has(record.configKey)) byKey.set(record.configKey, record.config);
  return [...byKey].map(([configKey, config]) => ({ configKey, config }));
}

function primaryOf(record: EvalRecord): number | null {
  return record.score.metrics.em ?? record.score.metrics.accuracy ?? null;
}

async function describeDataset(
  file: string,
  source: 'named' | 'sample' | 'recent',
): Promise<CommandOutput<'listEvalDatasets'>['datasets'][number]> {
  const unreadable = (error: ErrorPayload) => ({
    path: file,
    source,
    name: null,
    format: null,
    questions: null,
    hasContexts: false,
    notes: [],
    error,
  });
  if (!path.isAbsolute(file))
    return unreadable({
      name: 'ReckonError',
      code: 'BAD_PATH',
      message: `"${file}" is not a full path. Type the file's path from the root of the disk (on the machine Reckon runs on).`,
    });
  try {
    const dataset = await loadEvalDataset(file);
    return {
      path: file,
      source,
      name: dataset.name,
      format: dataset.format,
      questions: dataset.total,
      hasContexts: dataset.hasContexts,
      notes: dataset.notes,
      error: null,
    };
  } catch (error) {
    return unreadable(toErrorPayload(error));
  }
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch {
    return [];
  }
}

function notFound(id: string): ReckonError {
  return new ReckonError(
    'EVALUATION_NOT_FOUND',
    `There is no evaluation ${id.slice(0, 100)}. It may have been deleted; Evaluate lists the saved ones.`,
  );
}
