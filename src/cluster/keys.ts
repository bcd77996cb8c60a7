import { createHash } from 'node:crypto';
import type { ClusterSettings } from './settings.js';

/** The BullMQ queue that carries ready attempts to workers. */
export const QUEUE = 'attempts';

/** Seconds a tainted mark is kept: longer than any job that could read it (jobs are kept an hour). */
export const TAINT_TTL_S = 3_600;

/** Every Redis key and channel agentpool itself uses (BullMQ's own keys are `<prefix>:attempts:…`). */
export function keys(settings: ClusterSettings) {
  const p = settings.prefix;
  return {
    /** Sorted set: worker id -> when its announcement expires (epoch ms). */
    workers: `${p}:workers`,
    /** Counter: each worker's number, for cluster-wide thread ids. */
    workerSeq: `${p}:worker-seq`,
    /** String: a worker's announcement (JSON), with a TTL. */
    worker: (id: string) => `${p}:worker:${id}`,
    /** Stream a planner reads its attempts' starts, events and replies from. */
    replies: (planner: string) => `${p}:replies:${planner}`,
    /** Pub/sub channel: job ids to stop. */
    cancel: `${p}:cancel`,
    /** Pub/sub channel: ids of run budgets a charge was refused on (workers stop beginning their attempts). */
    budgetRefused: `${p}:budget-refused`,
    /** String: this job was cancelled (a worker that picks it up later skips it). */
    cancelled: (jobId: string) => `${p}:cancelled:${jobId}`,
    /** Hash: a run's token budget (`spent`, `limit`, `refused`), charged by `budget-store.ts`'s script; kept 24 h past its last use. */
    budget: (id: string) => `${p}:budget:${id}`,
    /** String: this job's attempt has shown outside effects (chunks, progress, host calls, run-budget charges): a second start fails it crashed. */
    tainted: (jobId: string) => `${p}:tainted:${jobId}`,
  };
}

/**
 * A job id from (run, task, attempt): the same attempt always maps to the
 * same id, so adding it again is harmless (BullMQ ignores a known id).
 * Hashed: BullMQ refuses ids with `:` or all digits, and task ids may hold anything.
 */
export function jobId(runId: string, taskId: string, attempt: number): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([runId, taskId, attempt]))
    .digest('base64url');
  return `a-${digest.slice(0, 27)}`;
}
