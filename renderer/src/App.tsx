import { useEffect, useRef, useState } from 'react';
import { ErrorNote } from './components/ErrorNote.tsx';
import { useAppModel, type AppModel } from './state/AppModel.ts';
import { useStore } from './state/useStore.ts';
import { startRouter, type Router } from './state/router.ts';
import { VIEW_IDS, type ViewId } from './state/types.ts';
import { AskView } from './views/AskView.tsx';
import { EvaluateView } from './views/EvaluateView.tsx';
import { HistoryView } from './views/HistoryView.tsx';
import { LibraryView } from './views/LibraryView.tsx';
import { ModelsView } from './views/ModelsView.tsx';
import { SettingsView } from './views/SettingsView.tsx';

/**
 * What a navigation item (or its shortcut) does: the view at its top — History's list rather than a
 * run open in it — once the leave guards agree (router.openView); before the router has started, a
 * plain guarded navigate.
 */
function openViewAtTop(id: ViewId, router: Router | null, model: AppModel): void {
  const opened = router ? router.openView(id) : model.app.navigate(id);
  if (opened) window.scrollTo({ top: 0 });
}

const NAV: Record<ViewId, { label: string; icon: string }> = {
  ask: { label: 'Ask', icon: '?' },
  library: { label: 'Library', icon: '▤' },
  models: { label: 'Models', icon: '◈' },
  history: { label: 'History', icon: '↺' },
  evaluate: { label: 'Evaluate', icon: '▦' },
  settings: { label: 'Settings', icon: '⚙' },
};

/**
 * The shell: left navigation and the current view. Views are reachable with Tab, with the arrow keys
 * inside the navigation, and with Alt+1…Alt+6 from anywhere. The view and its open run are in the
 * URL's hash (state/router.ts); a navigation item always opens its view at the top.
 */
export function App(): React.JSX.Element {
  const model = useAppModel();
  const view = useStore(model.app.store, (s) => s.view);
  const info = useStore(model.app.store, (s) => s.info);
  const loadError = useStore(model.app.store, (s) => s.loadError);
  const navRefs = useRef<Partial<Record<ViewId, HTMLButtonElement | null>>>({});
  const mainRef = useRef<HTMLElement>(null);
  const hasRun = useStore(model.runs.store, (s) => Object.values(s.runs).some((r) => r.status === 'running'));
  const [router, setRouter] = useState<Router | null>(null);

  useEffect(() => {
    const started = startRouter(
      { app: model.app.store, history: model.history.store, ask: model.ask.store },
      window,
      { confirmLeave: () => model.app.confirmLeave() },
    );
    setRouter(started);
    return () => started.dispose();
  }, [model]);

  // A run named in the address (`#/ask/run/<id>`, a reload or a deep link) is loaded from History;
  // one that is not there any more leaves Ask on its form.
  const askRunId = useStore(model.ask.store, (s) => s.currentRunId);
  useEffect(() => {
    if (askRunId === null || model.runs.store.get().runs[askRunId]) return;
    model.runs.load(askRunId).catch(() => {
      if (model.ask.store.get().currentRunId === askRunId) model.ask.setCurrentRun(null);
    });
  }, [model, askRunId]);

  // Files dropped outside "Add documents" must not make the browser leave the app to show them.
  useEffect(() => {
    const keep = (e: DragEvent): void => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    };
    window.addEventListener('dragover', keep);
    window.addEventListener('drop', keep);
    return () => {
      window.removeEventListener('dragover', keep);
      window.removeEventListener('drop', keep);
    };
  }, []);

  // Leaving with unsaved edits (Settings) asks the browser's own question first.
  useEffect(() => {
    const onBeforeUnload = (e: BeforeUnloadEvent): void => {
      if (!model.app.hasUnsavedChanges()) return;
      e.preventDefault();
      // Older browsers (and Electron) want returnValue set as well.
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [model]);

  const openView = (id: ViewId): void => openViewAtTop(id, router, model);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const index = Number(e.key) - 1;
      const target = VIEW_IDS[index];
      if (target) {
        e.preventDefault();
        openViewAtTop(target, router, model);
        navRefs.current[target]?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [model, router]);

  useEffect(() => {
    window.scrollTo({ top: 0 });
  }, [view]);

  function onNavKey(e: React.KeyboardEvent, current: ViewId): void {
    const index = VIEW_IDS.indexOf(current);
    const step = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
    const target =
      e.key === 'Home'
        ? VIEW_IDS[0]
        : e.key === 'End'
          ? VIEW_IDS.at(-1)
          : step
            ? VIEW_IDS[(index + step + VIEW_IDS.length) % VIEW_IDS.length]
            : undefined;
    if (!target) return;
    e.preventDefault();
    navRefs.current[target]?.focus();
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <nav className="nav" aria-label="Views">
        <div className="nav__brand">
          <span className="nav__logo" aria-hidden="true">
            R
          </span>
          <span className="nav__name">Reckon</span>
        </div>
        <ul className="nav__list">
          {VIEW_IDS.map((id, index) => (
            <li key={id}>
              <button
                type="button"
                ref={(el) => {
                  navRefs.current[id] = el;
                }}
                className={`nav__item${view === id ? ' is-current' : ''}`}
                aria-current={view === id ? 'page' : undefined}
                aria-keyshortcuts={`Alt+${index + 1}`}
                title={`${NAV[id].label} (Alt+${index + 1})`}
                onClick={() => openView(id)}
                onKeyDown={(e) => onNavKey(e, id)}
                data-testid={`nav-${id}`}
              >
                <span className="nav__icon" aria-hidden="true">
                  {NAV[id].icon}
                </span>
                <span className="nav__label">{NAV[id].label}</span>
                {id === 'ask' && hasRun && (
                  <span className="nav__dot" title="A run is in progress">
                    <span className="visually-hidden">(a run is in progress)</span>
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <div className="nav__footer small">
          {info ? (
            <>
              <span>v{info.version}</span>
              <span>{info.host === 'electron' ? 'desktop' : 'browser host'}</span>
              <span className={info.hasModel ? 'ok' : 'warn'}>
                {info.hasModel ? 'model ready' : 'no model'}
              </span>
              <span className={info.hasEmbedder ? 'ok' : 'muted'}>
                {info.hasEmbedder ? 'embeddings' : 'BM25 only'}
              </span>
            </>
          ) : (
            <span className="muted">{loadError ? 'not connected' : 'connecting…'}</span>
          )}
        </div>
      </nav>
      <main className="main" id="main" ref={mainRef} tabIndex={-1}>
        {loadError && (
          <ErrorNote
            error={loadError}
            title={
              loadError.code === 'NO_TOKEN'
                ? 'This page needs its access link.'
                : 'Reckon’s engine did not answer. Is the app (or `reckon serve`) still running?'
            }
          />
        )}
        {view === 'ask' && <AskView />}
        {view === 'library' && <LibraryView />}
        {view === 'models' && <ModelsView />}
        {view === 'history' && <HistoryView />}
        {view === 'evaluate' && <EvaluateView />}
        {view === 'settings' && <SettingsView />}
      </main>
    </div>
  );
}
