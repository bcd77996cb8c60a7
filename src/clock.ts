import { performance } from 'node:perf_hooks';

/**
 * Epoch milliseconds with sub-millisecond resolution. Each thread has its
 * own `timeOrigin`, but origin + elapsed is wall-clock time on all of them,
 * so timestamps from workers and the main thread can be compared.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
