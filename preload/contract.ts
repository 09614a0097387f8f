/**
 * The one contract between the UI and the main process: commands (imperative verbs) and events
 * (onDid…), each with a zod schema; the types come from the schemas. Both adapters — the Electron
 * IPC handlers and the browser host's HTTP + WebSocket server — parse every input against these
 * schemas before anything runs. Long work returns an id at once and streams deltas as events;
 * cancellation travels by id. Errors cross the boundary as {name, code, message}.
 *
 * Pure zod: imported by the renderer, the preload bridge and the engine's AppService alike.
 */
import { z } from 'zod';
import { citationSchema, runMetricsSchema, traceEventSchema } from './TraceEvent.ts';

// ---------------------------------------------------------------------------------------------
// Shared shapes
// ---------------------------------------------------------------------------------------------

export const corpusNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'use 1–64 letters, digits, ".", "_" or "-"');
export const searchModeSchema = z.enum(['bm25', 'dense', 'hybrid']);
/** A strategy id; which ids exist comes from the engine's registry (listStrategies). */
export const strategyIdSchema = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a strategy id such as "pyrag"');
/** The id used when a request names none. */
export const DEFAULT_STRATEGY_ID = 'pyrag';

/** One option of a strategy, as its descriptor declares it (type, default, range, description). */
export const strategyOptionInfoSchema = z.object({
  key: z.string(),
  type: z.enum(['integer', 'number', 'boolean', 'string', 'enum']),
  default: z.union([z.number(), z.boolean(), z.string()]),
  description: z.string(),
  minimum: z.number().optional(),
  maximum: z.number().optional(),
  /** The allowed values of an enum option. */
  values: z.array(z.string()).optional(),
});
export type StrategyOptionInfo = z.infer<typeof strategyOptionInfoSchema>;

/** A registered strategy as the UI, the CLI and evaluation see it. */
export const strategyInfoSchema = z.object({
  id: z.string(),
  label: z.string(),
  description: z.string(),
  /** Whether it retrieves: 'required' runs need a corpus; 'none' ignores one. */
  corpus: z.enum(['required', 'optional', 'none']),
  options: z.array(strategyOptionInfoSchema),
  /** The figures it reports in a run's `metrics.strategy`. */
  metrics: z.array(z.object({ key: z.string(), label: z.string(), description: z.string() })),
});
export type StrategyInfo = z.infer<typeof strategyInfoSchema>;

/** Values of a strategy's options by key; the engine checks them against the strategy's schema. */
export const strategyOptionValuesSchema = z.record(
  z.string().max(64),
  z.union([z.number(), z.boolean(), z.string().max(1000)]),
);

export const errorPayloadSchema = z.object({ name: z.string(), code: z.string(), message: z.string() });
export type ErrorPayload = z.infer<typeof errorPayloadSchema>;

export const corpusSummarySchema = z.object({
  name: z.string(),
  documents: z.number().int(),
  sections: z.number().int(),
  failedDocuments: z.number().int(),
  chunks: z.number().int(),
  vectors: z.number().int(),
  embedderId: z.string().nullable(),
  /** Why the corpus cannot be read (a damaged corpus.db), with the fix in the message; null when healthy. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export const documentSummarySchema = z.object({
  path: z.string(),
  title: z.string().nullable(),
  kind: z.string().nullable(),
  status: z.enum(['ok', 'failed']),
  errorCode: z.string().nullable(),
  error: z.string().nullable(),
  chunkCount: z.number().int(),
  size: z.number().int(),
});

export const ingestProgressSchema = z.object({
  phase: z.enum(['scan', 'parse', 'embed', 'index', 'done']),
  filesDone: z.number().int(),
  filesTotal: z.number().int(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  chunksWritten: z.number().int(),
  chunksEmbedded: z.number().int(),
  chunksToEmbed: z.number().int(),
  failed: z.number().int(),
  etaSeconds: z.number().nullable(),
  currentFile: z.string().nullable(),
});

export const ingestSummarySchema = z.object({
  added: z.number().int(),
  updated: z.number().int(),
  unchanged: z.number().int(),
  removed: z.number().int(),
  failed: z.array(z.object({ path: z.string(), code: z.string(), message: z.string() })),
  missing: z.array(z.string()),
  /** Paths left out with a reason: a broken link, a link loop, a FIFO or device, an unreadable folder. */
  skipped: z.array(z.object({ path: z.string(), code: z.string(), reason: z.string() })),
  skippedUnsupported: z.number().int(),
  chunksWritten: z.number().int(),
  chunksEmbedded: z.number().int(),
  embeddingSkipped: z.string().nullable(),
  cancelled: z.boolean(),
  durationMs: z.number(),
});

export const searchHitSchema = z.object({
  chunkId: z.number().int(),
  path: z.string(),
  title: z.string(),
  text: z.string(),
  start: z.number().int(),
  end: z.number().int(),
  page: z.number().int().nullable(),
  score: z.number(),
});

export const catalogModelSchema = z.object({
  id: z.string(),
  kind: z.enum(['llm', 'embedder', 'reranker']),
  title: z.string(),
  description: z.string(),
  license: z.string(),
  installed: z.boolean(),
  /** Where the files go, so a user offline can put them there by hand. */
  installDir: z.string(),
  urls: z.array(z.string()),
  /** Bytes already downloaded into the entry's `.part` files (kept by a paused download); 0 if none. */
  partialBytes: z.number(),
  /** The entry's total size when the catalog knows every file's size; null otherwise. */
  sizeBytes: z.number().nullable(),
});

export const localModelSchema = z.object({
  kind: z.enum(['llm', 'embedder', 'reranker']),
  path: z.string(),
  sizeBytes: z.number(),
});

/** What checkModel found (see main/engine/models/checkModel.ts). */
export const modelCheckSchema = z.object({
  spec: z.string(),
  kind: z.enum(['llama', 'openai', 'replay', 'embedder', 'reranker']),
  /** The model can be used; `problem` says why not. */
  ok: z.boolean(),
  problem: z.object({ code: z.string(), message: z.string() }).nullable(),
  warnings: z.array(z.string()),
  gguf: z
    .object({
      path: z.string(),
      sizeBytes: z.number(),
      architecture: z.string(),
      name: z.string().nullable(),
      quantization: z.string(),
      contextLength: z.number().nullable(),
      ggufVersion: z.number(),
      /** An estimate (file size plus a fixed overhead share), not a measurement. */
      memory: z.object({ estimatedBytes: z.number(), totalMemoryBytes: z.number(), fits: z.boolean() }),
    })
    .nullable(),
  replay: z
    .object({
      path: z.string(),
      outputs: z.number().int(),
      failures: z.number().int(),
      recordedFor: z.object({ question: z.string(), strategy: z.string() }).nullable(),
    })
    .nullable(),
  server: z.object({ baseUrl: z.string(), model: z.string(), models: z.array(z.string()) }).nullable(),
  /** An ONNX embedder or cross-encoder reranker folder that loaded and ran one probe. */
  onnx: z
    .object({
      path: z.string(),
      modelId: z.string(),
      dtype: z.string(),
      labels: z.number().int().nullable(),
      dimension: z.number().int().nullable(),
      loadMs: z.number(),
    })
    .nullable(),
  generation: z.object({ text: z.string(), durationMs: z.number() }).nullable(),
});
export type ModelCheck = z.infer<typeof modelCheckSchema>;

export const llmSettingsSchema = z.object({
  /** llama.cpp threads; null = physical cores less one. */
  threads: z.number().int().min(1).max(256).nullable(),
  gpuLayers: z.number().int().min(0).max(1000),
  contextSize: z.number().int().min(512).max(262144),
});

export const sandboxSettingsSchema = z.object({
  memoryBytes: z
    .number()
    .int()
    .min(1 << 20)
    .max(1 << 30),
  /** The sandbox refuses stacks under 32 KiB (MIN_SANDBOX_STACK_BYTES) or over 256 KiB. */
  stackBytes: z
    .number()
    .int()
    .min(32 << 10)
    .max(256 << 10),
  deadlineMs: z.number().int().min(100).max(600_000),
  maxHostCalls: z.number().int().min(1).max(10_000),
});

export const retrySettingsSchema = z.object({
  maxAttempts: z.number().int().min(1).max(20),
  baseDelayMs: z.number().int().min(0).max(60_000),
  maxDelayMs: z.number().int().min(0).max(600_000),
  timeoutMs: z.number().int().min(1000).max(3_600_000),
});

export const settingsSchema = z.object({
  dataDir: z.string(),
  modelsDir: z.string(),
  /** The model spec used by Ask: a .gguf path, openai:<url>#<model> or replay:<file>; null = none chosen. */
  activeModel: z.string().nullable(),
  llm: llmSettingsSchema,
  sandbox: sandboxSettingsSchema,
  retry: retrySettingsSchema,
});
export type Settings = z.infer<typeof settingsSchema>;

export const runSummarySchema = z.object({
  id: z.string(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  question: z.string(),
  corpus: z.string().nullable(),
  strategy: z.string(),
  model: z.string(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  answer: z.string().nullable(),
  error: errorPayloadSchema.nullable(),
  metrics: runMetricsSchema.nullable(),
  /** The strategy options the run used (defaults included); null when it did not record them. */
  strategyOptions: strategyOptionValuesSchema.nullable(),
  /** Passages per retrieval and search mode it ran with; null when not recorded. */
  k: z.number().int().nullable(),
  mode: searchModeSchema.nullable(),
  /** Model calls with a recorded output or failure; 0 means there is nothing to replay. */
  recordedCalls: z.number().int().nonnegative(),
  /** The run this one's program was edited from (rerunProgram); null or absent for other runs. */
  parentRunId: z.string().nullable().optional(),
});

// ---------------------------------------------------------------------------------------------
// Evaluation shapes
// ---------------------------------------------------------------------------------------------

/** A dataset file as listEvalDatasets found it: what it holds, or why it cannot be read. */
export const evalDatasetInfoSchema = z.object({
  /** Absolute path of the file on the machine that runs the engine. */
  path: z.string(),
  /** Named by the user, shipped with the app (the sample), or used by an earlier evaluation. */
  source: z.enum(['named', 'sample', 'recent']),
  /** Display name ("hotpotqa", "bbh/web_of_lies"); null when it could not be read. */
  name: z.string().nullable(),
  format: z.string().nullable(),
  /** Questions in the file. */
  questions: z.number().int().nullable(),
  /** Its questions carry context paragraphs, which become the corpus. */
  hasContexts: z.boolean(),
  notes: z.array(z.string()),
  error: errorPayloadSchema.nullable(),
});

/** What an evaluation runs: every method with every model on every dataset. */
export const evalRequestSchema = z
  .object({
    /** Absolute paths of dataset files (any format `reckon eval` reads). */
    datasets: z.array(z.string().min(1).max(4096)).min(1).max(20),
    methods: z
      .array(z.object({ id: strategyIdSchema, options: strategyOptionValuesSchema.optional() }).strict())
      .min(1)
      .max(20),
    /** Model specs (.gguf path, openai:…, replay:…), compared one after another. */
    models: z.array(z.string().min(1).max(4096)).min(1).max(8),
    /** Questions per dataset. Default: all. */
    limit: z.number().int().min(1).max(1_000_000).optional(),
    /** Draw the questions at random with this seed. Default: the first `limit`. */
    seed: z.number().int().min(0).max(0xffffffff).optional(),
    /** Questions at once (replay and local models: at most what the backend serves in parallel). Default 1. */
    concurrency: z.number().int().min(1).max(64).optional(),
    /** A corpus to search for datasets without context paragraphs. Default: none. */
    corpus: corpusNameSchema.optional(),
    k: z.number().int().min(1).max(50).optional(),
    mode: searchModeSchema.optional(),
  })
  .strict();
export type EvalRequest = z.infer<typeof evalRequestSchema>;

export const evalStatusSchema = z.enum(['running', 'done', 'cancelled', 'failed', 'incomplete']);

/** A saved evaluation: what it ran and how far it got. */
export const evalSummarySchema = z.object({
  id: z.string(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  /** `incomplete`: stopped without finishing (the app closed); resumeEvaluation finishes it. */
  status: evalStatusSchema,
  request: evalRequestSchema,
  /** Dataset display names, in request order (the file name until it has been read). */
  datasetNames: z.array(z.string()),
  error: errorPayloadSchema.nullable(),
});

/** id prefix of the elements of an HTML report that hold each dataset's EvalChartData as JSON. */
export const EVAL_CHART_DATA_ELEMENT_ID = 'reckon-eval-chart-data';

/**
 * id of the element holding the chart data of a report's `index`-th dataset (0-based); its chart
 * slots name it in their `data-eval-chart-data` attribute, so a report of several datasets draws each.
 */
export function evalChartDataElementId(index: number): string {
  return `${EVAL_CHART_DATA_ELEMENT_ID}-${index}`;
}

/** One point per method × model of a dataset, for the accuracy vs seconds-per-question chart. */
export const evalChartCellSchema = z.object({
  label: z.string(),
  /** The main metric as a share in [0, 1]; null when nothing was scored. */
  primary: z.number().nullable(),
  secondsPerQuestion: z.number(),
});
/** One point per question's final program, for the complexity vs stack depth chart. */
export const evalChartProgramSchema = z.object({
  label: z.string(),
  cyclomaticComplexity: z.number(),
  maxStackDepth: z.number(),
});
export const evalChartDataSchema = z.object({
  metricLabel: z.string(),
  cells: z.array(evalChartCellSchema),
  programs: z.array(evalChartProgramSchema),
});
export type EvalChartCell = z.infer<typeof evalChartCellSchema>;
export type EvalChartProgram = z.infer<typeof evalChartProgramSchema>;
export type EvalChartData = z.infer<typeof evalChartDataSchema>;

/** One question × method × model of an evaluation, as the drill-down shows it. */
export const evalQuestionSchema = z.object({
  configKey: z.string(),
  method: z.string(),
  model: z.string(),
  itemId: z.string(),
  question: z.string(),
  golds: z.array(z.string()),
  prediction: z.string().nullable(),
  /** The main metric of this question; null when not scored. */
  score: z.number().nullable(),
  /** Every metric the official rule gives it (em, f1, paragraph_recall, …). */
  metrics: z.record(z.string(), z.number()),
  runId: z.string(),
  status: z.enum(['succeeded', 'failed']),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** null where the method has no such step (no program, no boosting, no simulation). */
  repaired: z.boolean().nullable(),
  boosted: z.boolean().nullable(),
  simulated: z.boolean().nullable(),
  llmCalls: z.number(),
  tokens: z.number(),
  tokensEstimated: z.boolean(),
  seconds: z.number(),
});

/** The results of one dataset of an evaluation: its table, charts and questions. */
export const evalDatasetResultSchema = z.object({
  path: z.string(),
  name: z.string(),
  format: z.string(),
  /** Questions in the sample, and in the file. */
  questions: z.number().int(),
  total: z.number().int(),
  corpus: z.string().nullable(),
  notes: z.array(z.string()),
  /** The main metric's key and label ("em", "EM"). */
  primaryMetric: z.string(),
  primaryLabel: z.string(),
  /** Measurements not made yet (stopped early); 0 when complete. */
  missing: z.number().int(),
  /** The method × model table, columns as in the CLI and the HTML report. */
  columns: z.array(z.object({ id: z.string(), label: z.string(), higherIsBetter: z.boolean() })),
  rows: z.array(
    z.object({
      configKey: z.string(),
      method: z.string(),
      model: z.string(),
      primary: z.number().nullable(),
      /** One per column: the text shown, and whether it is the best of its column. */
      cells: z.array(z.object({ text: z.string(), best: z.boolean() })),
    }),
  ),
  charts: evalChartDataSchema,
  questionRows: z.array(evalQuestionSchema),
  /** The HTML report written for this dataset (absolute path), null before the first report. */
  reportPath: z.string().nullable(),
});

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

const empty = z.object({}).strict();
const ok = z.object({ ok: z.literal(true) });

/** Largest upload the engine accepts by default, all files together (1 GiB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
/** Largest single uploaded file the engine accepts by default (256 MiB). */
export const DEFAULT_MAX_UPLOAD_FILE_BYTES = 256 * 1024 * 1024;
/** Largest piece of an uploaded file one writeUploadChunk carries, in bytes (1 MiB). */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
/** A file of an upload: its path relative to the dropped folder (or its bare name), and its size. */
export const uploadFileSchema = z.object({
  path: z.string().min(1).max(1024),
  size: z.number().int().min(0),
});

export const commands = {
  getAppInfo: {
    input: empty,
    output: z.object({
      version: z.string(),
      dataDir: z.string(),
      modelsDir: z.string(),
      /** A model is configured and its file exists (or it is a server / replay spec). */
      hasModel: z.boolean(),
      hasEmbedder: z.boolean(),
      /** Which bridge the UI is talking through. */
      host: z.enum(['electron', 'browser']),
      /** The bundled sample corpus folder (`<app>/corpora/hotpotqa-sample`); null when it is not shipped. */
      sampleCorpusDir: z.string().nullable(),
    }),
  },
  listCorpora: { input: empty, output: z.object({ corpora: z.array(corpusSummarySchema) }) },
  listDocuments: {
    input: z.object({ corpus: corpusNameSchema }).strict(),
    output: z.object({ documents: z.array(documentSummarySchema) }),
  },
  ingestPaths: {
    input: z
      .object({
        corpus: corpusNameSchema,
        paths: z.array(z.string().min(1).max(4096)).min(1).max(10_000),
        embedder: z.enum(['auto', 'none']).optional(),
      })
      .strict(),
    output: z.object({ jobId: z.string() }),
  },
  /** Ingests every path the corpus already has again (changed files are replaced). */
  reindexCorpus: {
    input: z.object({ corpus: corpusNameSchema }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  /**
   * Stops an ingestion or a download. A stopped download keeps its `.part` files, so the next
   * pullModel resumes it (pause); with `discard: true` they are deleted once it has stopped (cancel).
   * `discard` is ignored for other jobs.
   */
  cancelJob: {
    input: z.object({ jobId: z.string(), discard: z.boolean().optional() }).strict(),
    output: ok,
  },
  removeCorpus: { input: z.object({ corpus: corpusNameSchema }).strict(), output: ok },
  search: {
    input: z
      .object({
        corpus: corpusNameSchema,
        query: z.string().min(1).max(4000),
        k: z.number().int().min(1).max(100).optional(),
        mode: searchModeSchema.optional(),
      })
      .strict(),
    output: z.object({
      mode: searchModeSchema,
      hits: z.array(searchHitSchema),
      warnings: z.array(z.string()),
    }),
  },
  /** A chunk and the text around it in its document, for opening a citation. */
  getChunk: {
    input: z.object({ corpus: corpusNameSchema, chunkId: z.number().int() }).strict(),
    output: z.object({
      chunk: searchHitSchema,
      /** Neighbouring chunks of the same section, in order, the cited one included. */
      context: z.array(z.object({ chunkId: z.number().int(), text: z.string() })),
    }),
  },
  /**
   * Desktop app only: the system's file or folder picker; `paths` is empty when the user cancels.
   * The browser host answers DESKTOP_ONLY (a web page cannot read paths from the server's disk).
   */
  showOpenDialog: {
    input: z.object({ select: z.enum(['files', 'folder']) }).strict(),
    output: z.object({ paths: z.array(z.string()) }),
  },
  /**
   * Desktop app only: opens a document of a corpus in the system's default application (or, for a
   * kind that could run as a program, such as source code, shows it in its folder). Only paths the
   * corpus recorded are accepted (DOCUMENT_NOT_FOUND otherwise); the browser host answers DESKTOP_ONLY.
   */
  openDocument: {
    input: z.object({ corpus: corpusNameSchema, path: z.string().min(1).max(4096) }).strict(),
    output: z.object({ path: z.string(), action: z.enum(['open', 'reveal']) }),
  },
  /**
   * Starts an upload of files from the page (the browser host's drag-and-drop): the engine keeps
   * them under `<data dir>/uploads/`, and finishUpload ingests them. Sizes are checked against the
   * upload limits first (UPLOAD_TOO_LARGE), paths against traversal (BAD_UPLOAD_PATH).
   */
  startUpload: {
    input: z.object({ files: z.array(uploadFileSchema).min(1).max(10_000) }).strict(),
    output: z.object({ uploadId: z.string(), totalBytes: z.number().int() }),
  },
  /** One piece of one file of an upload, base64; pieces of a file arrive in order (offset = bytes so far). */
  writeUploadChunk: {
    input: z
      .object({
        uploadId: z.string().min(1).max(100),
        file: z.number().int().min(0),
        offset: z.number().int().min(0),
        data: z
          .string()
          .max(Math.ceil(UPLOAD_CHUNK_BYTES / 3) * 4)
          .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64'),
      })
      .strict(),
    output: z.object({ receivedBytes: z.number().int() }),
  },
  /**
   * Ingests a complete upload into a corpus (with any server-side `paths` in the same job); like
   * ingestPaths, returns the ingestion job. An incomplete upload is UPLOAD_INCOMPLETE.
   */
  finishUpload: {
    input: z
      .object({
        uploadId: z.string().min(1).max(100),
        corpus: corpusNameSchema,
        paths: z.array(z.string().min(1).max(4096)).max(10_000).optional(),
        embedder: z.enum(['auto', 'none']).optional(),
      })
      .strict(),
    output: z.object({ jobId: z.string(), dir: z.string() }),
  },
  /** Stops an upload and deletes what it stored. */
  cancelUpload: { input: z.object({ uploadId: z.string().min(1).max(100) }).strict(), output: ok },
  listModels: {
    input: empty,
    output: z.object({
      modelsDir: z.string(),
      catalog: z.array(catalogModelSchema),
      local: z.array(localModelSchema),
    }),
  },
  pullModel: {
    input: z.object({ id: z.string().min(1).max(200) }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  /**
   * Checks a model spec (default: the active model) without running a question: a GGUF header, a
   * replay file's lines or a server's /models; with `generate`, also one token through the real
   * backend. A spec that is not a model spec is an error (BAD_MODEL_SPEC); an unusable model is
   * `ok: false` with its problem.
   */
  checkModel: {
    input: z
      .object({ spec: z.string().min(1).max(4096).optional(), generate: z.boolean().optional() })
      .strict(),
    output: modelCheckSchema,
  },
  /** Deletes what a paused download of a catalog model left (its `.part` files). */
  discardDownload: { input: z.object({ id: z.string().min(1).max(200) }).strict(), output: ok },
  getSettings: { input: empty, output: settingsSchema },
  updateSettings: {
    input: z
      .object({
        activeModel: z.string().max(4096).nullable().optional(),
        llm: llmSettingsSchema.partial().optional(),
        sandbox: sandboxSettingsSchema.partial().optional(),
        retry: retrySettingsSchema.partial().optional(),
      })
      .strict(),
    output: settingsSchema,
  },
  /** The registered strategies with their options and figures, in registry order. */
  listStrategies: { input: empty, output: z.object({ strategies: z.array(strategyInfoSchema) }) },
  startRun: {
    input: z
      .object({
        question: z.string().min(1).max(4000),
        /** The corpus retrieve() searches; null for a strategy that retrieves nothing (Direct, CoT). */
        corpus: corpusNameSchema.nullable(),
        strategy: strategyIdSchema.default(DEFAULT_STRATEGY_ID),
        /** The strategy's options (see listStrategies); absent ones take their defaults. */
        options: strategyOptionValuesSchema.optional(),
        /** Default: the active model from Settings. */
        model: z.string().max(4096).optional(),
        k: z.number().int().min(1).max(50).optional(),
        mode: searchModeSchema.optional(),
      })
      .strict(),
    output: z.object({ runId: z.string() }),
  },
  /**
   * Runs a saved run again with the model outputs it recorded (a `replay:` model), on the same
   * question, corpus, strategy, k and search mode; streams like startRun.
   */
  replayRun: {
    input: z.object({ runId: z.string() }).strict(),
    output: z.object({ runId: z.string() }),
  },
  /**
   * Runs an edited version of a saved run's program in the sandbox, on the run's corpus, model, k
   * and search mode: tool calls whose inputs are unchanged are served from the results that run
   * recorded (marked cached), new ones go to the retriever and the model. The new run records
   * `fromRunId` as its parent; streams like startRun.
   */
  rerunProgram: {
    input: z
      .object({
        fromRunId: z.string().min(1),
        /** The edited program (at most 64 KiB, as any program). */
        program: z.string().max(64 * 1024),
        /** The execution whose recorded results are reused. Default: the run's last successful one. */
        execution: z.number().int().positive().optional(),
        /** The model new answer() calls go to. Default: the run's own model. */
        model: z.string().min(1).max(4096).optional(),
      })
      .strict(),
    output: z.object({ runId: z.string() }),
  },
  cancelRun: { input: z.object({ runId: z.string() }).strict(), output: ok },
  listRuns: {
    input: z
      .object({ limit: z.number().int().min(1).max(1000).optional(), search: z.string().max(500).optional() })
      .strict(),
    output: z.object({ runs: z.array(runSummarySchema) }),
  },
  getRun: {
    input: z.object({ runId: z.string() }).strict(),
    output: z.object({
      run: runSummarySchema,
      events: z.array(traceEventSchema),
      /** The runs made from this one (edited program re-runs), oldest first. */
      childRunIds: z.array(z.string()).optional(),
    }),
  },
  exportRun: {
    input: z.object({ runId: z.string(), format: z.enum(['json', 'replay']) }).strict(),
    output: z.object({ fileName: z.string(), mimeType: z.string(), content: z.string() }),
  },
  /**
   * Dataset files for Evaluate: the ones named in `paths` (absolute paths on the engine's machine;
   * the browser host has no file picker, so the user types them), the sample shipped with the app,
   * and those of earlier evaluations, each read to say what it holds or why it cannot be used.
   */
  listEvalDatasets: {
    input: z.object({ paths: z.array(z.string().min(1).max(4096)).max(50).optional() }).strict(),
    output: z.object({ datasets: z.array(evalDatasetInfoSchema) }),
  },
  /**
   * Starts an evaluation; returns its id at once and reports onDidChangeEvalProgress, then
   * onDidFinishEvaluation. Its results are kept under the data folder and resume like `reckon eval`.
   */
  startEvaluation: { input: evalRequestSchema, output: z.object({ evaluationId: z.string() }) },
  /** Continues a stopped evaluation: questions already scored are not run again. */
  resumeEvaluation: {
    input: z.object({ evaluationId: z.string().min(1).max(200) }).strict(),
    output: z.object({ evaluationId: z.string() }),
  },
  cancelEvaluation: { input: z.object({ evaluationId: z.string().min(1).max(200) }).strict(), output: ok },
  /** Saved evaluations, newest first. */
  listEvaluations: { input: empty, output: z.object({ evaluations: z.array(evalSummarySchema) }) },
  /** One evaluation with the results of each of its datasets reported so far. */
  getEvaluation: {
    input: z.object({ evaluationId: z.string().min(1).max(200) }).strict(),
    output: z.object({ evaluation: evalSummarySchema, datasets: z.array(evalDatasetResultSchema) }),
  },
} as const;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
export type CommandInput<N extends CommandName> = z.input<Commands[N]['input']>;
export type CommandOutput<N extends CommandName> = z.output<Commands[N]['output']>;

// ---------------------------------------------------------------------------------------------
// Events (main → UI)
// ---------------------------------------------------------------------------------------------

export const events = {
  /** Progress of an ingestion job; the last one has `result` or `error`. */
  onDidChangeIngestProgress: z.object({
    jobId: z.string(),
    corpus: z.string(),
    progress: ingestProgressSchema,
    result: ingestSummarySchema.nullable(),
    error: errorPayloadSchema.nullable(),
  }),
  /** Progress of a model download; the last one has `done` or `error`. */
  onDidChangeDownloadProgress: z.object({
    jobId: z.string(),
    modelId: z.string(),
    file: z.string(),
    receivedBytes: z.number(),
    totalBytes: z.number().nullable(),
    bytesPerSecond: z.number(),
    etaSeconds: z.number().nullable(),
    done: z.boolean(),
    error: errorPayloadSchema.nullable(),
  }),
  /** One trace event of a run (deltas, in seq order). */
  onDidRecordTraceStep: traceEventSchema,
  /** Progress of an evaluation, after each finished question (and at each phase change). */
  onDidChangeEvalProgress: z.object({
    evaluationId: z.string(),
    /** The dataset being worked on: its index in the request, the count, and its name. */
    datasetIndex: z.number().int(),
    datasetCount: z.number().int(),
    dataset: z.string(),
    /**
     * Reading the file, building its corpus (ingestion), building ICRAG's memory of solved examples
     * k-fold (done/total: examples), or running questions.
     */
    phase: z.enum(['load', 'corpus', 'memory', 'run']),
    /** Measurements (questions × methods × models) of this dataset finished, resumed ones included, and in all. */
    done: z.number().int(),
    total: z.number().int(),
    /** Already scored before this session (not run again). */
    resumed: z.number().int(),
    /** Seconds left for this dataset, from this session's pace; null before the first question ends. */
    etaSeconds: z.number().nullable(),
    /** The question that just finished, if any. */
    last: z
      .object({
        method: z.string(),
        itemId: z.string(),
        question: z.string(),
        score: z.number().nullable(),
        error: z.string().nullable(),
      })
      .nullable(),
  }),
  /** An evaluation stopped: finished, cancelled or failed (with the error). */
  onDidFinishEvaluation: z.object({
    evaluationId: z.string(),
    status: z.enum(['done', 'cancelled', 'failed']),
    error: errorPayloadSchema.nullable(),
  }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<N extends EventName> = z.output<Events[N]>;

export const COMMAND_NAMES = Object.keys(commands) as CommandName[];
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isCommandName(name: unknown): name is CommandName {
  return typeof name === 'string' && Object.hasOwn(commands, name);
}

export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name);
}

/**
 * What only the desktop app's preload can do: name the path of a file dropped onto the page
 * (Electron's webUtils.getPathForFile). Its presence on the bridge is how the UI tells the desktop
 * app (native picker, dropped paths, open file) from the browser host (uploads).
 */
export interface DesktopBridge {
  /** The absolute path of a dropped file or folder; '' when it has none (e.g. made by the page). */
  pathForFile(file: File): string;
}

/** What the preload bridge (desktop) and the WebSocket client (browser) both expose to the UI. */
export interface ReckonBridge {
  invoke<N extends CommandName>(name: N, input: CommandInput<N>): Promise<CommandOutput<N>>;
  on<N extends EventName>(event: N, listener: (payload: EventPayload<N>) => void): () => void;
  /** Present only in the desktop app. */
  desktop?: DesktopBridge;
}

/** The shape a failed command takes over either bridge. */
export const invokeResultSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: errorPayloadSchema }),
]);
export type InvokeResult = z.infer<typeof invokeResultSchema>;

export { citationSchema };
