import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    // Native libraries (llama.cpp, onnxruntime, usearch) do not like being loaded into many
    // worker threads at once on a 2-core machine; forks isolate them and keep memory predictable.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
