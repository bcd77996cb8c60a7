import type { Redis } from 'ioredis';
import { now } from '../shared/clock.js';
import { taskError } from '../shared/errors.js';
import type { WorkerBudgets } from './budget-store.js';
import type { JobData } from './job.js';
import { keys } from './keys.js';
import type { RemoteOutcome } from './outcome-wire.js';
import type { ClusterSettings } from './settings.js';
import { refusal, refusalReply } from './worker-replies.js';

/** What a worker knows to decide whether it may run a job. */
export interface JobChecks {
  settings: ClusterSettings;
  redis: Redis;
  /** Agent name -> module file URL. */
  agents: ReadonlyMap<string, string>;
  /** Agent name -> content hash. */
  hashes: ReadonlyMap<string, string>;
  budgets: WorkerBudgets;
}

/**
 * Why job `id` must not run here, as its outcome; undefined when it may.
 * `started`: BullMQ's count of this job's starts (over 1: it ran before).
 */
export async function refuseJob(
  checks: JobChecks,
  id: string,
  data: JobData,
  started: number,
): Promise<RemoteOutcome | undefined> {
  const at = now();
  const { agents, hashes, redis } = checks;
  if (!agents.has(data.agent))
    return refusal(
      at,
      'ERR_UNKNOWN_AGENT',
      `this worker has no agent "${data.agent}" (it has ${[...hashes.keys()].map((n) => `"${n}"`).join(', ') || 'none'})`,
    );
  if (hashes.get(data.agent) !== data.hash)
    return refusal(
      at,
      'ERR_CLUSTER_AGENT_HASH',
      `agent "${data.agent}" is ${hashes.get(data.agent)} on this worker, ${data.hash} on the planner`,
    );
  const k = keys(checks.settings);
  const budget = data.runTokens;
  const [cancelled, tainted, spent] = await Promise.all([
    redis.exists(k.cancelled(id)),
    started > 1 ? redis.exists(k.tainted(id)) : Promise.resolve(0),
    budget === undefined ? Promise.resolve(false) : checks.budgets.refused(budget),
  ]);
  if (cancelled) return { kind: 'cancelled' };
  // A run of this attempt on a worker that died had already shown
  // effects: running it again silently would show them twice.
  if (tainted)
    return {
      kind: 'crashed',
      reply: {
        ...refusalReply(at),
        error: taskError(
          'ERR_WORKER_CRASHED',
          `task "${data.taskId}": the worker running it died after it had shown outside effects (chunks, progress, host calls or run-budget charges)`,
        ),
      },
    };
  // A charge to the run's budget was refused (on any worker): the planner
  // would not start this attempt now, so it is not begun (as a local thread
  // refuses one queued on it).
  if (spent) return { kind: 'refused' };
  return undefined;
}
