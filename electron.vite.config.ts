import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';

/**
 * out/main: ES modules (package.json has "type": "module"; Electron 39 loads ESM main and utility
 * processes). Besides the app's entry, the engine's own process and the two worker modules are
 * entries of their own, and every file (entries and shared chunks) lands flat in out/main, because
 * ParsePool and SandboxHost start `./parseWorker.js` / `./sandboxWorker.js` relative to the module
 * they are bundled into. Dependencies (native ones included) stay external, loaded from node_modules.
 *
 * out/preload: one CommonJS file, as sandboxed preload scripts must be; it bundles nothing but
 * `electron` (it imports only types from the contract).
 */
export default defineConfig({
  main: {
    plugins: [externalizeDepsPlugin()],
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'main/electron/main.ts'),
          serviceProcess: resolve(__dirname, 'main/electron/serviceProcess.ts'),
          parseWorker: resolve(__dirname, 'main/engine/corpus/loaders/parseWorker.ts'),
          sandboxWorker: resolve(__dirname, 'main/engine/sandbox/sandboxWorker.ts'),
        },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    plugins: [react()],
    build: { rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } } },
  },
});
