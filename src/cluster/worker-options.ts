import type { HostServices } from '../pool/host-bridge.js';
import { connectionOptions } from './connect.js';
import type { ClusterSettings } from './settings.js';

/** How long a job's lock lasts unless renewed (`lockMs`). */
export const LOCK_MS = 5_000;

/** What `WorkerNode.start` is given (`agentpool worker`'s flags). */
export interface WorkerNodeOptions {
  settings: ClusterSettings;
  /** Agent name -> module file URL: the only code this worker ever runs. */
  agents: ReadonlyMap<string, string>;
  threads: number;
  host: HostServices;
  /**
   * BullMQ's job lock, in ms: a worker that dies holds its jobs this long at
   * most before the stall check may take them back. Agents run in threads,
   * so this process's event loop stays free to renew locks: short is safe.
   * @default 5000 (`LOCK_MS`)
   */
  lockMs?: number;
  /**
   * How often the stall check runs, in ms. A killed worker's job runs again
   * once its lock has expired and two checks have seen it: within lock + 2 x
   * this: 10 s at the defaults (it was 15 s at a 5000 interval).
   * @default 2500
   */
  stalledMs?: number;
  /** How often one job may come back after stalling before it fails. @default 2 */
  maxStalledCount?: number;
  /** How long past its timeout an attempt may take to stop before its thread is terminated. @default 250 */
  timeoutGraceMs?: number;
}

/** A BullMQ worker's options for `agentpool worker` (see `WorkerNodeOptions` for the settings' defaults). */
export function workerOptions(
  settings: ClusterSettings,
  options: Pick<WorkerNodeOptions, 'threads' | 'lockMs' | 'stalledMs' | 'maxStalledCount'>,
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
