import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { keys } from './keys.js';
import type { ClusterSettings } from './settings.js';

// The states of a job no worker has taken yet: a cancel removes those only.
const WAITING = new Set(['waiting', 'prioritized', 'delayed']);

/**
 * Stops job `job`: marked cancelled for `keepS` seconds (a worker that takes
 * it later skips it), announced to workers (the one running it stops it),
 * and removed if it still waits. A job a worker has taken is never removed:
 * its end (completed "cancelled") must stay, and a remove just after it
 * completed deleted it (1 run of the cluster cancel test in ~30).
 */
export async function cancelJob(
  redis: Redis,
  queue: Queue,
  settings: ClusterSettings,
  job: string,
  keepS: number,
): Promise<void> {
  const k = keys(settings);
  try {
    await redis.multi().set(k.cancelled(job), '1', 'EX', keepS).publish(k.cancel, job).exec();
    if (WAITING.has(await queue.getJobState(job))) await queue.remove(job).catch(() => 0);
  } catch {
    // Redis away: the worker's result, when it comes, is ignored.
  }
}
