// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';

export default tseslint.config(
  { ignores: ['node_modules/', 'out/', 'dist/', 'coverage/', 'models/', 'bench-results/', 'test-results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: { projectService: false },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'off',
    },
    settings: {
      'import-x/resolver': { node: { extensions: ['.ts', '.tsx', '.js', '.mjs'] } },
    },
  },
  // Layering, enforced rather than hoped for: the engine is plain Node and never sees Electron;
  // the renderer only knows the contract in preload/.
  {
    files: ['main/engine/**/*.ts', 'main/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['electron'], message: 'The engine and CLI are plain Node: never import electron.' },
            { group: ['**/electron/**'], message: 'The engine must not depend on the Electron adapter.' },
            { group: ['**/renderer/**'], message: 'The engine must not depend on the renderer.' },
          ],
        },
      ],
    },
  },
  // The engine's layers, bottom up: corpus/models/sandbox/programs/util → strategies → runs → eval
  // → app → adapters (cli, electron, browser-host). A layer may import from the ones below it, never
  // from one above; the contract (preload/) depends on nothing but zod.
  {
    files: ['main/**/*.ts', 'preload/**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...['corpus', 'models', 'sandbox', 'programs', 'util'].map((layer) => ({
              target: `./main/engine/${layer}`,
              from: [
                './main/engine/strategies',
                './main/engine/runs',
                './main/engine/eval',
                './main/engine/app',
              ],
              message: `engine/${layer} is a bottom layer: it cannot depend on strategies, runs, eval or app.`,
            })),
            {
              target: './main/engine/strategies',
              from: ['./main/engine/runs', './main/engine/eval', './main/engine/app'],
              message:
                'Strategies get what they need through their context; they cannot import runs, eval or app.',
            },
            {
              target: './main/engine/runs',
              from: ['./main/engine/eval', './main/engine/app'],
              message: 'Runs sit below evaluation and the app service.',
            },
            {
              target: './main/engine/eval',
              from: ['./main/engine/app'],
              message: 'Evaluation sits below the app service.',
            },
            {
              target: './main/engine',
              from: ['./main/cli', './main/electron', './main/browser-host'],
              message: 'The engine cannot depend on an adapter (CLI, Electron, browser host).',
            },
            {
              target: './preload',
              from: ['./main', './renderer'],
              message:
                'The contract is a leaf: the engine, the adapters and the renderer depend on it, never the reverse.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/main/**', 'electron', 'node:*'],
              message: 'The renderer talks to main only through the contract in preload/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
