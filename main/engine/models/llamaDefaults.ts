/**
 * The llama.cpp backend's defaults, in a module of their own so settings and the UI can show them
 * without loading node-llama-cpp.
 */

/** Context size in tokens when none is configured (clamped to the model's training context). */
export const DEFAULT_CONTEXT_SIZE = 4096;
/** Parallel sequences (independent answer() calls decoding at once). */
export const DEFAULT_SEQUENCES = 2;
/** Layers offloaded to a GPU: none, CPU only. */
export const DEFAULT_GPU_LAYERS = 0;
