import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../renderer/src/state/appStore.ts';
import { createStore } from '../../renderer/src/state/createStore.ts';
import {
  DEFAULT_ROUTE,
  formatRoute,
  parseRoute,
  startRouter,
  type RouterWindow,
} from '../../renderer/src/state/router.ts';
import type { ViewId } from '../../renderer/src/state/types.ts';

/** A window whose history is a list of hashes, like the browser's, with back() firing popstate. */
function fakeWindow(hash: string) {
  const entries = [hash];
  let index = 0;
  const listeners = new Set<() => void>();
  const win: RouterWindow & { back(): void; entries: string[]; goTo(hash: string): void } = {
    location: {
      get hash() {
        return entries[index]!;
      },
    },
    history: {
      pushState(_data, _unused, url) {
        entries.splice(index + 1, entries.length, url);
        index += 1;
      },
      replaceState(_data, _unused, url) {
        entries[index] = url;
      },
    },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    back() {
      index -= 1;
      for (const listener of [...listeners]) listener();
    },
    goTo(next) {
      win.history.pushState(null, '', next);
      for (const listener of [...listeners]) listener();
    },
    entries,
  };
  return win;
}

function stores() {
  return {
    app: createStore<{ view: ViewId }>({ view: 'ask' }),
    history: createStore<{ openRunId: string | null }>({ openRunId: null }),
    ask: createStore<{ currentRunId: string | null }>({ currentRunId: null }),
  };
}

describe('parseRoute / formatRoute', () => {
  it('reads views and open runs, and writes them back the same way', () => {
    expect(parseRoute('')).toEqual(DEFAULT_ROUTE);
    expect(parseRoute('#/library')).toEqual({ view: 'library', runId: null });
    expect(parseRoute('#/history/run/run-1')).toEqual({ view: 'history', runId: 'run-1' });
    expect(parseRoute('#/ask/run/a%2Fb')).toEqual({ view: 'ask', runId: 'a/b' });
    expect(formatRoute({ view: 'ask', runId: 'a/b' })).toBe('#/ask/run/a%2Fb');
    expect(formatRoute({ view: 'settings', runId: 'ignored' })).toBe('#/settings');
  });

  it('refuses unknown views, runs in views without runs and malformed ids', () => {
    expect(parseRoute('#/nowhere')).toBeNull();
    expect(parseRoute('#/settings/run/x')).toBeNull();
    expect(parseRoute('#/history/run/')).toBeNull();
    expect(parseRoute('#/history/run/%E0%A4%A')).toBeNull();
  });
});

describe('startRouter', () => {
  it('applies a deep link, then records each navigation so back returns to it', () => {
    const win = fakeWindow('#/history/run/r1');
    const s = stores();
    const router = startRouter(s, win, { confirmLeave: () => true });
    expect(s.app.get().view).toBe('history');
    expect(s.history.get().openRunId).toBe('r1');

    s.app.set({ view: 'library' });
    expect(win.location.hash).toBe('#/library');
    win.back();
    expect(s.app.get().view).toBe('history');
    expect(s.history.get().openRunId).toBe('r1');
    router.dispose();
  });

  it('opens a view at its top: the History list, not the run that was open in it', () => {
    const win = fakeWindow('#/history/run/r1');
    const s = stores();
    const router = startRouter(s, win, { confirmLeave: () => true });
    expect(router.openView('history')).toBe(true);
    expect(s.history.get().openRunId).toBeNull();
    expect(win.location.hash).toBe('#/history');
  });

  it('corrects an unknown address and keeps the view when the leave guard says stay', () => {
    const win = fakeWindow('#/bogus');
    const s = stores();
    let leave = false;
    const router = startRouter(s, win, { confirmLeave: () => leave });
    expect(win.location.hash).toBe('#/ask');

    s.app.set({ view: 'settings' });
    expect(router.openView('library')).toBe(false);
    expect(s.app.get().view).toBe('settings');
    win.goTo('#/models');
    expect(s.app.get().view).toBe('settings');
    expect(win.location.hash).toBe('#/settings');

    leave = true;
    win.goTo('#/models');
    expect(s.app.get().view).toBe('models');
  });
});

describe('leave guards (createAppStore)', () => {
  it('asks the installed guard before leaving a view, and stops asking once it is removed', () => {
    const asked: string[] = [];
    let answer = false;
    const bridge = { invoke: () => Promise.reject(new Error('unused')), on: () => () => {} };
    const app = createAppStore(bridge, {
      confirm: (question) => {
        asked.push(question);
        return answer;
      },
    });
    app.store.set({ view: 'settings' });
    const remove = app.setLeaveGuard(() => 'Leave without saving?');
    expect(app.hasUnsavedChanges()).toBe(true);
    expect(app.navigate('ask')).toBe(false);
    expect(app.store.get().view).toBe('settings');
    // Staying on the same view asks nothing.
    expect(app.navigate('settings')).toBe(true);
    answer = true;
    expect(app.navigate('ask')).toBe(true);
    expect(asked).toEqual(['Leave without saving?', 'Leave without saving?']);
    remove();
    expect(app.hasUnsavedChanges()).toBe(false);
    answer = false;
    expect(app.navigate('library')).toBe(true);
    expect(asked).toHaveLength(2);
  });
});
