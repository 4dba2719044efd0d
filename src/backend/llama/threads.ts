// The measured thread-count rule for llama.cpp's CPU compute threads.
import { availableParallelism } from "node:os";

/**
 * llama.cpp's CPU threads busy-wait between graph nodes, so more compute threads than free cores collapses
 * throughput (100x slowdowns were seen on 2 cores). One core is left to the Node event loop when there are
 * enough cores to spare one. Measured with `npm run bench:step` (see BENCHMARKS.md).
 */
export function defaultThreads(cores: number = availableParallelism()): number {
  if (!(Number.isInteger(cores) && cores > 0)) throw new RangeError(`cores must be a positive integer, got ${cores}`);
  return cores <= 2 ? cores : cores - 1;
}
