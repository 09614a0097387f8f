import { useEffect, useRef } from 'react';
import { ErrorNote } from './components/ErrorNote.tsx';
import { useAppModel } from './state/AppModel.ts';
import { useStore } from './state/createStore.ts';
import { VIEW_IDS, type ViewId } from './state/types.ts';
import { AskView } from './views/AskView.tsx';
import { EvaluateView } from './views/EvaluateView.tsx';
import { HistoryView } from './views/HistoryView.tsx';
import { LibraryView } from './views/LibraryView.tsx';
import { ModelsView } from './views/ModelsView.tsx';
import { SettingsView } from './views/SettingsView.tsx';

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
 * inside the navigation, and with Alt+1…Alt+6 from anywhere.
 */
export function App(): React.JSX.Element {
  const model = useAppModel();
  const view = useStore(model.app.store, (s) => s.view);
  const info = useStore(model.app.store, (s) => s.info);
  const loadError = useStore(model.app.store, (s) => s.loadError);
  const navRefs = useRef<Partial<Record<ViewId, HTMLButtonElement | null>>>({});
  const mainRef = useRef<HTMLElement>(null);
  const hasRun = useStore(model.runs.store, (s) => Object.values(s.runs).some((r) => r.status === 'running'));

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (!e.altKey || e.ctrlKey || e.metaKey) return;
      const index = Number(e.key) - 1;
      const target = VIEW_IDS[index];
      if (target) {
        e.preventDefault();
        model.app.navigate(target);
        navRefs.current[target]?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [model]);

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
                onClick={() => model.app.navigate(id)}
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
