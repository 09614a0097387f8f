/**
 * The per-question record an evaluation writes (one JSON line of `results.jsonl` per completed
 * question × method × model) and the key that makes re-running the same command resume instead of
 * scoring a question twice.
 */
import { createHash } from 'node:crypto';
import type { QuestionScore } from '../scoring/EvalScore.ts';
import type { SearchMode } from '../../corpus/search/searchCorpus.ts';
import type { SandboxLimits } from '../../sandbox/SandboxTypes.ts';

/** Version of the record shape, written in every line; a reader skips lines of another version. */
export const EVAL_RECORD_VERSION = 1;

/**
 * Everything that decides what one method run on one question gives, except the question itself.
 * Two records with equal config keys and item ids are the same measurement, so the second is never
 * made. The sample (--limit, --seed) is not in it on purpose: it decides which questions are asked,
 * not what a question's run gives — except through the corpus built from the sample's paragraphs,
 * whose name (a hash of its content) is in it. So growing --limit reuses the questions already done
 * whenever their answers could not have changed.
 */
export interface EvalConfig {
  /** sha256 (hex, first 16) of the dataset file's bytes: the same file under another path is the same dataset. */
  datasetHash: string;
  /** The format it was read as. */
  datasetFormat: string;
  method: string;
  /** The model spec as given (a .gguf path, openai:…, replay:…). */
  model: string;
  /** The method's options as the registry completed them (defaults filled in). */
  options: Record<string, unknown>;
  /** Corpus retrieve() searches; null when the run has none. */
  corpus: string | null;
  topK: number;
  searchMode: SearchMode;
  /** Sandbox limits set for the runs (a shorter deadline can turn answers into timeouts); absent when the defaults apply. */
  sandboxLimits?: Partial<SandboxLimits>;
  /**
   * 'decomposition': an oracle-decomposition run (`reckon eval --oracle-decomposition`) of a method
   * that takes `givenSubQuestions`, so its records never mix with the method's own decomposition.
   * Absent otherwise, which leaves the keys of ordinary runs as they were.
   */
  oracle?: 'decomposition';
}

/** How reports name a config's method: its id, with "(oracle decomposition)" for an oracle run. */
export function evalMethodLabel(config: Pick<EvalConfig, 'method' | 'oracle'>): string {
  return config.oracle === 'decomposition' ? `${config.method} (oracle decomposition)` : config.method;
}

/**
 * The config's key: sha256 (hex, first 16 characters) of its JSON with object keys sorted at every
 * level, so that option order on the command line does not matter.
 */
export function evalConfigKey(config: EvalConfig): string {
  return createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 16);
}

/** The key of one measurement: config key and item id. */
export function evalRecordKey(configKey: string, itemId: string): string {
  return `${configKey}\u0000${itemId}`;
}

/** JSON with the keys of every object sorted (arrays keep their order). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : inner,
  );
}

/** One completed (question × method × model): what was asked, answered, scored and spent. */
export interface EvalRecord {
  version: typeof EVAL_RECORD_VERSION;
  /** evalConfigKey of `config`. */
  configKey: string;
  config: EvalConfig;
  /** The dataset's display name ("hotpotqa", "bbh/web_of_lies", …). */
  dataset: string;
  itemId: string;
  /** The item's sub-category where the dataset has one (HotpotQA type, MuSiQue hop shape, BBH task). */
  category: string | null;
  question: string;
  golds: string[];
  /** The method's answer; null when it gave none (an error, or no answer). */
  prediction: string | null;
  /** The score under the dataset's official rule (a missing prediction scores 0). */
  score: QuestionScore;
  /** The saved run (reckon runs show <id>). */
  runId: string;
  status: 'succeeded' | 'failed';
  error: { code: string; message: string } | null;
  llmCalls: number;
  promptTokens: number;
  completionTokens: number;
  /** The token counts are estimates (a backend that cannot count tokens, such as replay). */
  tokensEstimated: boolean;
  /** Wall time of the run. */
  seconds: number;
  retries: number;
  /** Program-writing methods: the program loop's figures; null for methods that write none. */
  program: {
    repairs: number;
    programAttempts: number;
    executable: boolean | null;
    exceptionKind: string | null;
    cyclomaticComplexity: number | null;
    maxStackDepth: number | null;
  } | null;
  /** The figures the method declares (PyRAG's boosts, CoC's simulatedCalls, IRCoT's steps, …). */
  figures: Record<string, number | string | boolean | null>;
  /** Distinct titles of the passages the run retrieved, in first-seen order. */
  retrievedTitles: string[];
  /** The strategy options per item added by the runner (a k-fold method's fold), if any. */
  itemOptions?: Record<string, unknown>;
  /** When it finished (ms since the epoch). */
  finishedAt: number;
}
