import { useState } from 'react';
import { searchModeSchema } from '../../../preload/contract.ts';
import { Callout } from '../components/Callout.tsx';
import { ErrorNote } from '../components/ErrorNote.tsx';
import { toUiError, type UiError } from '../errors.ts';
import { joinPath } from '../format.ts';
import { RunView } from '../run/RunView.tsx';
import { useAppModel } from '../state/AppModel.ts';
import { useStore } from '../state/useStore.ts';
import { collectOptions } from '../state/strategyOptions.ts';
import type { SearchMode, StartRunInput } from '../state/types.ts';
import { StrategyOptionsForm } from './StrategyOptionsForm.tsx';

/** The drafts of a strategy whose options were never edited (all at their defaults). */
const NO_DRAFTS = {};

/**
 * Ask: a question, a corpus, a strategy from the engine's registry and its options → a live run with
 * its whole trace.
 */
export function AskView(): React.JSX.Element {
  const model = useAppModel();
  const info = useStore(model.app.store, (s) => s.info);
  const settings = useStore(model.app.store, (s) => s.settings);
  const corpora = useStore(model.library.store, (s) => s.corpora);
  const local = useStore(model.models.store, (s) => s.local);
  const draft = useStore(model.ask.store, (s) => s.draft);
  const currentRunId = useStore(model.ask.store, (s) => s.currentRunId);
  const strategies = useStore(model.strategies.store, (s) => s.strategies);
  const strategiesError = useStore(model.strategies.store, (s) => s.error);
  const strategiesLoading = useStore(model.strategies.store, (s) => s.loading);
  // When the engine cannot be reached at all the app says so once; the form does not repeat it.
  const appLoadError = useStore(model.app.store, (s) => s.loadError);
  const [error, setError] = useState<UiError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const [optionsOpen, setOptionsOpen] = useState(false);

  // The draft's strategy when the registry has it, else the registry's first.
  const strategy = strategies?.find((s) => s.id === draft.strategy) ?? strategies?.[0] ?? null;
  const strategyId = strategy?.id ?? draft.strategy;
  const optionDrafts = draft.options[strategyId] ?? NO_DRAFTS;
  const collected = strategy ? collectOptions(strategy, optionDrafts) : { options: {}, errors: {} };
  const optionErrors = Object.entries(collected.errors);

  const needsModel = info !== null && !info.hasModel && draft.model.trim() === '';
  const noCorpora = corpora !== null && corpora.length === 0;
  const corpus = draft.corpus || corpora?.[0]?.name || '';
  const k = draft.k.trim() === '' ? null : Number(draft.k);
  const kInvalid = k !== null && (!Number.isInteger(k) || k < 1 || k > 50);

  async function submit(): Promise<void> {
    const question = draft.question.trim();
    if (!question) {
      setError({ message: 'Type a question first.', code: null });
      return;
    }
    if (!corpus) {
      setError({ message: 'Choose a corpus to search (add one in Library).', code: null });
      return;
    }
    if (kInvalid) return;
    if (optionErrors.length > 0) {
      setOptionsOpen(true);
      setError({
        message: `Fix the ${strategy?.label ?? strategyId} options first: ${optionErrors
          .map(([key, message]) => `${key}: ${message}`)
          .join(' ')}`,
        code: null,
      });
      return;
    }
    setSubmitting(true);
    setError(null);
    const input: StartRunInput = {
      question,
      corpus,
      strategy: strategyId,
      ...(Object.keys(collected.options).length > 0 ? { options: collected.options } : {}),
      mode: draft.mode,
      ...(draft.model.trim() ? { model: draft.model.trim() } : {}),
      ...(k !== null ? { k } : {}),
    };
    try {
      const runId = await model.runs.start(input);
      model.ask.setCurrentRun(runId);
    } catch (caught) {
      setError(toUiError(caught));
    } finally {
      setSubmitting(false);
    }
  }

  return (
    <div className="view">
      <header className="view__header">
        <h1 className="view__title">Ask</h1>
        <p className="view__subtitle">
          Ask a question of your documents with one of the methods below; every step of the run is shown and
          can be audited.
        </p>
      </header>

      {needsModel && (
        <Callout title="No model yet" testId="first-run-model">
          <p>
            No model yet. Download a recommended model in Models, or put a .gguf file in{' '}
            <code className="path">{joinPath(info.modelsDir, 'llm')}/</code> and choose it there; or point
            Reckon at an OpenAI-compatible server (llama-server, Ollama) with{' '}
            <code>openai:http://127.0.0.1:8080/v1#&lt;model&gt;</code>.
          </p>
          <button
            type="button"
            className="button button--primary"
            onClick={() => model.app.navigate('models')}
            data-testid="first-run-go-models"
          >
            Go to Models
          </button>
        </Callout>
      )}
      {noCorpora && (
        <Callout title="No documents yet" testId="first-run-library">
          <p>
            Nothing to search yet. Add files or folders to a corpus in Library — or add the bundled sample
            corpus (20 HotpotQA questions’ paragraphs) with one click there.
          </p>
          <button
            type="button"
            className="button button--primary"
            onClick={() => model.app.navigate('library')}
            data-testid="first-run-go-library"
          >
            Go to Library
          </button>
        </Callout>
      )}

      {!needsModel && (
        <form
          className="card ask-form"
          aria-label="Ask a question"
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <label className="field field--wide">
            <span className="field__label">Question</span>
            <textarea
              className="input ask-form__question"
              rows={2}
              value={draft.question}
              placeholder="e.g. Were Scott Derrickson and Ed Wood of the same nationality?"
              onChange={(e) => model.ask.setDraft({ question: e.target.value })}
              onKeyDown={(e) => {
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
                  e.preventDefault();
                  void submit();
                }
              }}
              data-testid="ask-question"
              aria-describedby="ask-hint"
            />
            <span className="field__hint" id="ask-hint">
              Ctrl+Enter to ask.
            </span>
          </label>
          <div className="form-row">
            <label className="field">
              <span className="field__label">Corpus</span>
              <select
                className="input"
                value={corpus}
                onChange={(e) => model.ask.setDraft({ corpus: e.target.value })}
                data-testid="ask-corpus"
                disabled={!corpora || corpora.length === 0}
              >
                {(corpora ?? []).map((c) => (
                  <option key={c.name} value={c.name}>
                    {c.name} ({c.documents} document{c.documents === 1 ? '' : 's'})
                  </option>
                ))}
                {draft.corpus && corpora && !corpora.some((c) => c.name === draft.corpus) && (
                  <option value={draft.corpus}>{draft.corpus} (not found)</option>
                )}
              </select>
            </label>
            <label className="field">
              <span className="field__label">Strategy</span>
              <select
                className="input"
                value={strategyId}
                onChange={(e) => model.ask.setDraft({ strategy: e.target.value })}
                data-testid="ask-strategy"
                aria-describedby="ask-strategy-description"
                disabled={!strategies}
              >
                {strategies
                  ? strategies.map((s) => (
                      <option key={s.id} value={s.id} title={s.description}>
                        {s.label}
                      </option>
                    ))
                  : [
                      <option key={strategyId} value={strategyId}>
                        {strategiesLoading ? 'Loading strategies…' : strategyId}
                      </option>,
                    ]}
              </select>
            </label>
            <label className="field field--grow">
              <span className="field__label">Model</span>
              <input
                className="input mono"
                list="ask-model-options"
                value={draft.model}
                placeholder={settings?.activeModel ? `active: ${settings.activeModel}` : 'the active model'}
                onChange={(e) => model.ask.setDraft({ model: e.target.value })}
                data-testid="ask-model"
                aria-describedby="ask-model-hint"
              />
              <datalist id="ask-model-options">
                {local
                  .filter((m) => m.kind === 'llm')
                  .map((m) => (
                    <option key={m.path} value={m.path} />
                  ))}
              </datalist>
              <span className="field__hint" id="ask-model-hint">
                Empty: the active model (Models). Or a .gguf path, openai:…#model, replay:file.jsonl.
              </span>
            </label>
            <label className="field field--narrow">
              <span className="field__label">Passages (k)</span>
              <input
                className="input"
                inputMode="numeric"
                value={draft.k}
                placeholder="5"
                onChange={(e) => model.ask.setDraft({ k: e.target.value })}
                aria-invalid={kInvalid}
                data-testid="ask-k"
              />
              {kInvalid && <span className="field__error">1–50</span>}
            </label>
            <label className="field">
              <span className="field__label">Search</span>
              <select
                className="input"
                value={draft.mode}
                onChange={(e) =>
                  model.ask.setDraft({ mode: searchModeSchema.parse(e.target.value) as SearchMode })
                }
                data-testid="ask-mode"
              >
                {searchModeSchema.options.map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
            <div className="field field--action">
              <button
                type="submit"
                className="button button--primary"
                disabled={submitting || noCorpora || draft.question.trim() === ''}
                title={draft.question.trim() === '' ? 'Type a question first' : undefined}
                data-testid="ask-submit"
              >
                {submitting ? 'Starting…' : 'Ask'}
              </button>
            </div>
          </div>
          <p
            className="field__hint ask-form__strategy"
            id="ask-strategy-description"
            data-testid="ask-strategy-description"
          >
            {strategy ? (
              <>
                <strong>{strategy.label}</strong>: {strategy.description}
                {strategy.corpus === 'none' && ' It does not search the corpus.'}
              </>
            ) : strategiesLoading || !strategiesError ? (
              'Loading the strategies…'
            ) : (
              `The strategies could not be listed; the run uses "${strategyId}" with its default options.`
            )}
          </p>
          {strategiesError && !appLoadError && (
            <div className="form-row">
              <ErrorNote error={strategiesError} testId="ask-strategies-error" />
              <button
                type="button"
                className="button"
                onClick={() => void model.strategies.refresh()}
                disabled={strategiesLoading}
              >
                Try again
              </button>
            </div>
          )}
          {strategy && (
            <StrategyOptionsForm
              strategy={strategy}
              drafts={optionDrafts}
              errors={collected.errors}
              open={optionsOpen}
              onToggle={setOptionsOpen}
              onChange={(key, value) => model.ask.setOption(strategy.id, key, value)}
              onReset={() => model.ask.resetOptions(strategy.id)}
            />
          )}
          <ErrorNote error={error} testId="ask-error" />
        </form>
      )}

      {currentRunId && <RunView runId={currentRunId} />}
    </div>
  );
}
