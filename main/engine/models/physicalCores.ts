import { readFileSync } from 'node:fs';
import os from 'node:os';

/**
 * Counts distinct physical cores in the text of Linux's /proc/cpuinfo, from its
 * ("physical id", "core id") pairs, so hyper-threads of one core count once. Returns undefined when
 * the text has no "core id" lines (many ARM kernels, some VMs) and the caller must fall back.
 */
export function countPhysicalCores(cpuinfo: string): number | undefined {
  const cores = new Set<string>();
  for (const block of cpuinfo.split(/\n\s*\n/)) {
    let physicalId = '0';
    let coreId: string | undefined;
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key === 'physical id') physicalId = value;
      else if (key === 'core id') coreId = value;
    }
    if (coreId !== undefined) cores.add(`${physicalId}:${coreId}`);
  }
  return cores.size > 0 ? cores.size : undefined;
}

/**
 * The number of physical CPU cores this process may use: the default thread count for llama.cpp,
 * where running more threads than physical cores makes generation many times slower (hyper-threads
 * and oversubscribed cores spin against each other). On Linux it counts distinct (physical id,
 * core id) pairs in /proc/cpuinfo; elsewhere, or when that file is missing or has no core ids, it
 * falls back to os.availableParallelism(). The result is never above os.availableParallelism()
 * (CPU affinity may allow fewer) and never below 1.
 */
export function physicalCoreCount(): number {
  const available = Math.max(1, os.availableParallelism());
  if (process.platform !== 'linux') return available;
  let cpuinfo: string;
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return available;
  }
  const physical = countPhysicalCores(cpuinfo);
  return physical === undefined ? available : Math.max(1, Math.min(physical, available));
}

/**
 * Decoding threads used when none are configured: the physical cores less one, at least 1. llama.cpp's
 * worker threads spin while they wait, so sharing a core with the main thread (event loop, parsing,
 * the sandbox, embeddings) stalls every token: on a 2-core machine 2 threads measured ~10× slower than
 * 1. `npm run bench` measures the ratio on the machine at hand.
 */
export function defaultInferenceThreads(): number {
  return Math.max(1, physicalCoreCount() - 1);
}
