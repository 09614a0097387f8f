/**
 * Evaluate state: the form of a new evaluation, the dataset files on offer, the saved evaluations,
 * the one open with its results, the live progress of running ones (kept whatever view shows), and
 * what the user opened from the results (a question's run, or two runs side by side).
 */
import type { CommandOutput, EventPayload, ReckonBridge } from '../../../preload/contract.ts';
import { toUiError, type UiError } from '../errors.ts';
import { createStore } from './createStore.ts';

export type EvalDatasetInfo = CommandOutput<'listEvalDatasets'>['datasets'][number];
export type EvalSummary = CommandOutput<'listEvaluations'>['evaluations'][number];
export type EvalResults = CommandOutput<'getEvaluation'>;
export type EvalDatasetResult = EvalResults['datasets'][number];
export type EvalQuestion = EvalDatasetResult['questionRows'][number];
export type EvalProgress = EventPayload<'onDidChangeEvalProgress'>;

/** Questions per dataset a new evaluation starts with (small: a first look, not a benchmark). Default 10. */
export const DEFAULT_EVAL_LIMIT = 10;

/** The form as typed (numbers stay text until Start, so a half-typed value is not rejected). */
export interface EvaluateDraft {
  /** Dataset paths ticked in the list. */
  datasets: string[];
  /** Other dataset paths, one per line (absolute, on the machine the engine runs on). */
  otherPaths: string;
  methods: string[];
  /** Model specs, one per line. */
  models: string;
  limit: string;
  seed: string;
  concurrency: string;
  /** A corpus of the Library for datasets without context paragraphs; '' for none. */
  corpus: string;
}

/** What the results area shows besides the tables: nothing, one run, or two side by side. */
export type EvaluateFocus =
  | { kind: 'none' }
  | { kind: 'run'; runId: string; title: string }
  | { kind: 'compare'; left: { runId: string; title: string }; right: { runId: string; title: string } };

export interface EvaluateState {
  draft: EvaluateDraft;
  datasets: EvalDatasetInfo[] | null;
  datasetsLoading: boolean;
  evaluations: EvalSummary[] | null;
  openId: string | null;
  results: Record<string, EvalResults>;
  /** The latest progress event of each evaluation that reported one in this session. */
  progress: Record<string, EvalProgress>;
  /** The cell whose questions are listed: dataset index and config key. */
  drill: { dataset: number; configKey: string } | null;
  focus: EvaluateFocus;
  starting: boolean;
  error: UiError | null;
}

export type EvaluateStore = ReturnType<typeof createEvaluateStore>;

export function createEvaluateStore(bridge: ReckonBridge) {
  const store = createStore<EvaluateState>({
    draft: {
      datasets: [],
      otherPaths: '',
      methods: [],
      models: '',
      limit: String(DEFAULT_EVAL_LIMIT),
      seed: '',
      concurrency: '1',
      corpus: '',
    },
    datasets: null,
    datasetsLoading: false,
    evaluations: null,
    openId: null,
    results: {},
    progress: {},
    drill: null,
    focus: { kind: 'none' },
    starting: false,
    error: null,
  });
  const fail = (error: unknown): void => store.set({ error: toUiError(error) });

  /** Lists the dataset files: the ones typed in the form, the sample, earlier evaluations'. */
  async function refreshDatasets(): Promise<void> {
    store.set({ datasetsLoading: true });
    try {
      const { datasets } = await bridge.invoke('listEvalDatasets', { paths: otherPaths() });
      store.set((s) => ({
        ...s,
        datasets,
        datasetsLoading: false,
        // A typed path that reads as a dataset is ticked, so Start uses it.
        draft: {
          ...s.draft,
          datasets: [
            ...new Set([
              ...s.draft.datasets,
              ...datasets.filter((d) => d.source === 'named' && d.error === null).map((d) => d.path),
            ]),
          ],
        },
      }));
    } catch (error) {
      store.set({ datasetsLoading: false });
      fail(error);
    }
  }

  function otherPaths(): string[] {
    return store
      .get()
      .draft.otherPaths.split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  }

  async function refreshEvaluations(): Promise<void> {
    try {
      const { evaluations } = await bridge.invoke('listEvaluations', {});
      store.set({ evaluations });
    } catch (error) {
      fail(error);
    }
  }

  /** Loads (again) the results of an evaluation. */
  async function load(evaluationId: string): Promise<void> {
    try {
      const results = await bridge.invoke('getEvaluation', { evaluationId });
      store.set((s) => ({ ...s, results: { ...s.results, [evaluationId]: results } }));
    } catch (error) {
      fail(error);
    }
  }

  function open(evaluationId: string | null): void {
    store.set({ openId: evaluationId, drill: null, focus: { kind: 'none' }, error: null });
    if (evaluationId) void load(evaluationId);
  }

  /** Starts the draft's evaluation and opens it; a bad form or a refused request ends in `error`. */
  async function start(): Promise<void> {
    const { draft } = store.get();
    const number = (text: string, name: string): number | undefined => {
      if (text.trim() === '') return undefined;
      const value = Number(text);
      if (!Number.isInteger(value) || value < (name === 'seed' ? 0 : 1))
        throw new Error(`The ${name} must be a whole number${name === 'seed' ? '' : ' of at least 1'}.`);
      return value;
    };
    store.set({ error: null });
    try {
      const models = draft.models
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      if (draft.datasets.length === 0) throw new Error('Tick at least one dataset file.');
      if (draft.methods.length === 0) throw new Error('Tick at least one method.');
      if (models.length === 0)
        throw new Error('Name at least one model (a .gguf file, openai:<url>#<model> or replay:<file>).');
      const limit = number(draft.limit, 'limit');
      const seed = number(draft.seed, 'seed');
      const concurrency = number(draft.concurrency, 'concurrency');
      store.set({ starting: true });
      const { evaluationId } = await bridge.invoke('startEvaluation', {
        datasets: draft.datasets,
        methods: draft.methods.map((id) => ({ id })),
        models,
        ...(limit !== undefined ? { limit } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(draft.corpus ? { corpus: draft.corpus } : {}),
      });
      store.set({ starting: false });
      open(evaluationId);
      void refreshEvaluations();
    } catch (error) {
      store.set({ starting: false });
      fail(error);
    }
  }

  async function cancel(evaluationId: string): Promise<void> {
    try {
      await bridge.invoke('cancelEvaluation', { evaluationId });
    } catch (error) {
      fail(error);
    }
  }

  async function resume(evaluationId: string): Promise<void> {
    store.set({ error: null });
    try {
      await bridge.invoke('resumeEvaluation', { evaluationId });
      open(evaluationId);
      void refreshEvaluations();
    } catch (error) {
      fail(error);
    }
  }

  function onProgress(event: EvalProgress): void {
    store.set((s) => ({ ...s, progress: { ...s.progress, [event.evaluationId]: event } }));
  }

  function onFinished(event: EventPayload<'onDidFinishEvaluation'>): void {
    if (event.error && store.get().openId === event.evaluationId) store.set({ error: event.error });
    void refreshEvaluations();
    if (store.get().openId === event.evaluationId || store.get().results[event.evaluationId])
      void load(event.evaluationId);
  }

  return {
    store,
    refreshDatasets,
    refreshEvaluations,
    load,
    open,
    start,
    cancel,
    resume,
    onProgress,
    onFinished,
    setDraft: (patch: Partial<EvaluateDraft>) =>
      store.set((s) => ({ ...s, draft: { ...s.draft, ...patch } })),
    /** Ticks or unticks a value of a list field of the draft. */
    toggle: (field: 'datasets' | 'methods', value: string) =>
      store.set((s) => {
        const list = s.draft[field];
        const next = list.includes(value) ? list.filter((item) => item !== value) : [...list, value];
        return { ...s, draft: { ...s.draft, [field]: next } };
      }),
    drillInto: (drill: EvaluateState['drill']) => store.set({ drill, focus: { kind: 'none' } }),
    setFocus: (focus: EvaluateFocus) => store.set({ focus }),
  };
}
