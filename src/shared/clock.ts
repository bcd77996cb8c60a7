/**
 * Epoch milliseconds with sub-millisecond resolution. Each thread has its
 * own `timeOrigin`, but origin + elapsed is wall-clock time on all of them,
 * so timestamps from workers and the main thread can be compared. The
 * global `performance` (the very object node:perf_hooks exports), read at
 * each call, so a test's fake timers can stand in for it.
 */
export function now(): number {
  const clock = globalThis.performance;
  return clock.timeOrigin + clock.now();
}
