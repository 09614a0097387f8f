/**
 * The renderer's entry: picks the bridge (preload in the desktop app, WebSocket in a browser),
 * builds the per-view stores over it, and mounts the app.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { getBridge } from './bridge.ts';
import { AppModelContext, createAppModel } from './state/AppModel.ts';
import './styles.css';

const model = createAppModel(getBridge());
void model.start();
// Models are needed by Ask (local files for the model field) as well as by Models.
void model.models.refresh();

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <AppModelContext.Provider value={model}>
        <App />
      </AppModelContext.Provider>
    </StrictMode>,
  );
}
