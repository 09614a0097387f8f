/**
 * The renderer's model: one store per view plus the wiring of the bridge's events into them. The
 * event subscriptions live here, not in views, so progress and trace events are kept while the user
 * switches views.
 */
import { createContext, useContext } from 'react';
import type { ReckonBridge } from '../../../preload/contract.ts';
import { createAppStore } from './appStore.ts';
import { createAskStore } from './askStore.ts';
import { createEvaluateStore } from './evaluateStore.ts';
import { createHistoryStore } from './historyStore.ts';
import { createLibraryStore } from './libraryStore.ts';
import { createModelsStore } from './modelsStore.ts';
import { createRunsStore } from './runsStore.ts';
import { createStrategiesStore } from './strategiesStore.ts';

export type AppModel = ReturnType<typeof createAppModel>;

export function createAppModel(bridge: ReckonBridge) {
  const app = createAppStore(bridge);
  const library = createLibraryStore(bridge);
  const history = createHistoryStore(bridge);
  const models = createModelsStore(bridge, () => void app.refreshInfo());
  const runs = createRunsStore(bridge, () => void history.refreshIfLoaded());
  const ask = createAskStore();
  const strategies = createStrategiesStore(bridge);
  const evaluate = createEvaluateStore(bridge);

  const unsubscribe = [
    bridge.on('onDidRecordTraceStep', runs.onTraceEvent),
    bridge.on('onDidChangeIngestProgress', library.onProgress),
    bridge.on('onDidChangeDownloadProgress', models.onProgress),
    bridge.on('onDidChangeEvalProgress', evaluate.onProgress),
    bridge.on('onDidFinishEvaluation', evaluate.onFinished),
  ];

  return {
    bridge,
    app,
    library,
    models,
    runs,
    ask,
    history,
    strategies,
    evaluate,
    /** Loads what every view needs first. */
    start: () =>
      Promise.all([app.refreshInfo(), app.refreshSettings(), library.refreshCorpora(), strategies.refresh()]),
    dispose: () => unsubscribe.forEach((off) => off()),
  };
}

export const AppModelContext = createContext<AppModel | null>(null);

export function useAppModel(): AppModel {
  const model = useContext(AppModelContext);
  if (!model) throw new Error('useAppModel() outside <AppModelContext.Provider>.');
  return model;
}
