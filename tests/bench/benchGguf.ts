/**
 * The GGUF models the LLM benchmarks decode: Qwen2.5-0.5B's matrices (hidden 896, 14 heads / 2 KV
 * heads, intermediate 4864, 32k vocabulary) with random weights, written by the tiny-model fixture.
 * The layer count is a parameter: the bandwidth benchmark needs all 24, the prefix and parallel
 * ones only need per-token costs of a real width and use fewer, so that they run in seconds.
 */
import path from 'node:path';
import {
  makeTinyGguf,
  QWEN25_05B_SHAPE,
  tinyGgufTensors,
  type GgufTensorInfo,
  type GgufTensorType,
} from '../fixtures/makeTinyGguf.ts';

export interface BenchGgufOptions {
  /** Folder to write into (a benchmark temp dir). */
  dir: string;
  /** Transformer layers. Default: QWEN25_05B_SHAPE.blocks (24). */
  blocks?: number;
  /** Weight format. Default: 'Q8_0'. */
  tensorType?: GgufTensorType;
}

export interface BenchGguf {
  path: string;
  tensors: GgufTensorInfo[];
  /** Bytes of weights one decoded token reads: every tensor but the embedding table (one row of it). */
  bytesPerToken: number;
  /** A short description for the notes column, e.g. "Qwen2.5-0.5B widths, 4 layers, Q8_0, 132 MB". */
  label: string;
}

/** Writes a Qwen2.5-0.5B-shaped GGUF (defaults: 24 layers, Q8_0) into `options.dir`. */
export async function makeBenchGguf(options: BenchGgufOptions): Promise<BenchGguf> {
  const blocks = options.blocks ?? QWEN25_05B_SHAPE.blocks;
  const tensorType = options.tensorType ?? 'Q8_0';
  const shape = { ...QWEN25_05B_SHAPE, blocks };
  const file = path.join(options.dir, `qwen-shaped-${blocks}-${tensorType}.gguf`);
  await makeTinyGguf({ path: file, shape, tensorType });
  const tensors = tinyGgufTensors({ shape, tensorType });
  const total = tensors.reduce((sum, tensor) => sum + tensor.bytes, 0);
  const embedding = tensors.find((tensor) => tensor.name === 'token_embd.weight');
  const rows = embedding?.dims[1] ?? 1;
  const bytesPerToken = total - (embedding?.bytes ?? 0) + (embedding?.bytes ?? 0) / rows;
  return {
    path: file,
    tensors,
    bytesPerToken,
    label: `Qwen2.5-0.5B widths, ${blocks} layers, ${tensorType}, ${(total / 1e6).toFixed(0)} MB`,
  };
}
