/** Turns texts into unit-length vectors for dense retrieval. */
export interface Embedder {
  /** Stable identifier recorded with every stored vector, e.g. "all-MiniLM-L6-v2". */
  readonly modelId: string;
  /** Vector length. Known after load. */
  readonly dimension: number;
  /** Embeds texts in order; each result is L2-normalized. */
  embed(texts: readonly string[], options?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}
