/** Scores how well passages answer a query, reading each (query, passage) pair jointly. */
export interface Reranker {
  /** Stable identifier shown in traces, e.g. "ms-marco-MiniLM-L-6-v2". */
  readonly modelId: string;
  /**
   * Relevance of each passage to `query`, in order: the model's raw logit (higher is more relevant;
   * comparable only between passages scored for the same query).
   */
  score(query: string, passages: readonly string[], options?: { signal?: AbortSignal }): Promise<number[]>;
  dispose(): Promise<void>;
}
