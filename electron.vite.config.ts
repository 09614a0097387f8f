import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { defineConfig, externalizeDepsPlugin } from 'electron-vite';
import react from '@vitejs/plugin-react';
import packageJson from './package.json' with { type: 'json' };

/**
 * The Electron major version the bundles target (Node and Chrome versions, ESM support). electron-vite
 * reads it from the installed electron package, which an offline `npm install` leaves out (Electron
 * is optional: its installer downloads a binary); the build needs nothing else from that package, so
 * without it the version pinned in package.json stands in. electron-vite takes an explicit version
 * only through ELECTRON_MAJOR_VER, so that is set here, for this build process only.
 */
function electronMajorVersion(): string {
  let version: string = packageJson.optionalDependencies.electron;
  try {
    version = (createRequire(import.meta.url)('electron/package.json') as { version: string }).version;
  } catch {
    // Not installed: the pinned version.
  }
  return version.split('.')[0]!;
}
process.env.ELECTRON_MAJOR_VER ??= electronMajorVersion();

/**
 * out/main: ES modules (package.json has "type": "module"; Electron 39 loads ESM main and utility
 * processes). Besides the app's entry, the engine's own process and the three worker modules are
 * entries of their own, and every file (entries and shared chunks) lands flat in out/main, because
 * ParsePool, SandboxHost and ProgramPreparer start `./parseWorker.js` / `./sandboxWorker.js` /
 * `./prepareWorker.js` relative to the module they are bundled into. Dependencies (native ones included) stay external, loaded from node_modules.
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
          prepareWorker: resolve(__dirname, 'main/engine/programs/prepareWorker.ts'),
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
