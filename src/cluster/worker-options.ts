import { connectionOptions } from './connect.js';
import type { ClusterSettings } from './settings.js';

/** How long a job's lock lasts unless renewed (`lockMs`). */
export const LOCK_MS = 5_000;

/** A BullMQ worker's options for `agentpool worker` (see `WorkerNodeOptions` for the settings' defaults). */
export function workerOptions(
  settings: ClusterSettings,
  options: { threads: number; lockMs?: number; stalledMs?: number; maxStalledCount?: number },
) {
  return {
    connection: connectionOptions(settings),
    prefix: settings.prefix,
    concurrency: options.threads,
    lockDuration: options.lockMs ?? LOCK_MS,
    stalledInterval: options.stalledMs ?? 2_500,
    maxStalledCount: options.maxStalledCount ?? 2,
    // Seconds an idle worker blocks waiting for a job: closing waits for
    // that wait to end (measured: SIGTERM to exit took ~5 s at BullMQ's 5 s).
    drainDelay: 1,
    // The planner keeps jobs' lifetimes; these are BullMQ's defaults for ones added by hand.
    removeOnComplete: { age: 3_600 },
    removeOnFail: { age: 3_600 },
  };
}
