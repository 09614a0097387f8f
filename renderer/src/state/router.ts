/**
 * The view and the open run live in the URL's hash (`#/ask`, `#/history`, `#/history/run/<id>`,
 * `#/ask/run/<id>`), so back, forward, reload and deep links work in both hosts: the desktop app's
 * `app://reckon/index.html#/…` and the browser host's `/?token=…#/…` (the token stays in the query).
 *
 * The stores stay the source of truth while the page runs: the router writes the hash when they
 * change (a new history entry per navigation) and applies the hash to them when the user goes back,
 * forward or edits the address. A view can hold navigation with a leave guard (Settings with unsaved
 * edits, see AppStore.setLeaveGuard): the router asks it before leaving, and puts the address back
 * when the user stays.
 */
import { VIEW_IDS, type ViewId } from './types.ts';

/** Where the user is: a view, and the run open in it (Ask's current run or History's open run). */
export interface Route {
  view: ViewId;
  runId: string | null;
}

/** The route of an empty or unknown hash. */
export const DEFAULT_ROUTE: Route = { view: 'ask', runId: null };

/** Views whose run can be named in the URL. */
const RUN_VIEWS: ReadonlySet<ViewId> = new Set<ViewId>(['ask', 'history']);

/**
 * Reads a location hash (`#/history/run/abc`, with or without the `#`). An empty hash is
 * DEFAULT_ROUTE; a hash that names no known view (or a run in a view that has none) is null, so the
 * caller can correct the address. Run ids are URI-decoded.
 */
export function parseRoute(hash: string, views: readonly string[] = VIEW_IDS): Route | null {
  const trimmed = hash.replace(/^#/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return DEFAULT_ROUTE;
  const [view, keyword, ...rest] = trimmed.split('/');
  if (view === undefined || !views.includes(view)) return null;
  const viewId = view as ViewId;
  if (keyword === undefined) return { view: viewId, runId: null };
  if (keyword !== 'run' || rest.length !== 1 || !RUN_VIEWS.has(viewId)) return null;
  let runId: string;
  try {
    runId = decodeURIComponent(rest[0]!);
  } catch {
    return null;
  }
  return runId === '' ? null : { view: viewId, runId };
}

/** The hash of a route: `#/<view>` or `#/<view>/run/<id>` (id URI-encoded). */
export function formatRoute(route: Route): string {
  const base = `#/${route.view}`;
  return route.runId !== null && RUN_VIEWS.has(route.view)
    ? `${base}/run/${encodeURIComponent(route.runId)}`
    : base;
}

/** The part of a store the router reads and writes (a createStore store fits). */
export interface RouteSlice<T> {
  get(): T;
  set(update: Partial<T>): void;
  subscribe(listener: () => void): () => void;
}

/** The stores the router reads and writes. */
export interface RouterStores {
  app: RouteSlice<{ view: ViewId }>;
  history: RouteSlice<{ openRunId: string | null }>;
  ask: RouteSlice<{ currentRunId: string | null }>;
}

/** The parts of `window` the router uses (tests pass a small fake). */
export interface RouterWindow {
  location: { hash: string };
  history: {
    pushState(data: unknown, unused: string, url: string): void;
    replaceState(data: unknown, unused: string, url: string): void;
  };
  addEventListener(type: 'hashchange' | 'popstate', listener: () => void): void;
  removeEventListener(type: 'hashchange' | 'popstate', listener: () => void): void;
}

/** The router as the app uses it. */
export interface Router {
  /**
   * Goes to a view from its navigation item: always the view's top (History's list, not a run that
   * was open in it), after `confirmLeave`. Returns false when the user chose to stay.
   */
  openView(view: ViewId): boolean;
  dispose(): void;
}

/** The route the stores describe. */
export function routeOf(stores: RouterStores): Route {
  const view = stores.app.get().view;
  const runId =
    view === 'history'
      ? stores.history.get().openRunId
      : view === 'ask'
        ? stores.ask.get().currentRunId
        : null;
  return { view, runId };
}

function applyRoute(stores: RouterStores, route: Route): void {
  if (route.view === 'history') stores.history.set({ openRunId: route.runId });
  if (route.view === 'ask' && route.runId !== null) stores.ask.set({ currentRunId: route.runId });
  stores.app.set({ view: route.view });
}

/**
 * Connects the stores to the address: applies the current hash (a deep link or a reload), corrects
 * an unknown one with replaceState, then keeps the two in step both ways.
 */
export function startRouter(
  stores: RouterStores,
  win: RouterWindow,
  options: { confirmLeave: () => boolean },
): Router {
  const { confirmLeave } = options;
  let current = formatRoute(routeOf(stores));
  /** Set while a route read from the address is being applied, so it is not written back. */
  let applying = false;

  const initial = parseRoute(win.location.hash);
  if (initial) {
    applying = true;
    applyRoute(stores, initial);
    applying = false;
  }
  current = formatRoute(routeOf(stores));
  if (win.location.hash !== current) win.history.replaceState(null, '', current);

  function onStores(): void {
    if (applying) return;
    const next = formatRoute(routeOf(stores));
    if (next === current) return;
    current = next;
    win.history.pushState(null, '', next);
  }

  function onAddress(): void {
    const hash = win.location.hash;
    if (hash === current) return;
    const route = parseRoute(hash);
    if (!route) {
      win.history.replaceState(null, '', current);
      return;
    }
    if (route.view !== stores.app.get().view && !confirmLeave()) {
      // Staying: the address goes back to where the user still is.
      win.history.pushState(null, '', current);
      return;
    }
    applying = true;
    try {
      applyRoute(stores, route);
    } finally {
      applying = false;
    }
    current = formatRoute(routeOf(stores));
    if (hash !== current) win.history.replaceState(null, '', current);
  }

  const unsubscribe = [stores.app, stores.history, stores.ask].map((store) => store.subscribe(onStores));
  win.addEventListener('hashchange', onAddress);
  win.addEventListener('popstate', onAddress);

  return {
    openView(view) {
      if (view !== stores.app.get().view && !confirmLeave()) return false;
      if (view === 'history') stores.history.set({ openRunId: null });
      stores.app.set({ view });
      return true;
    },
    dispose() {
      for (const off of unsubscribe) off();
      win.removeEventListener('hashchange', onAddress);
      win.removeEventListener('popstate', onAddress);
    },
  };
}
