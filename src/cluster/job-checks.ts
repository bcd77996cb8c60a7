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

/** Why an attempt must not run on this worker at all (an agent it lacks, or has with other code); undefined when it may. */
function misfit(checks: JobChecks, data: JobData): RemoteOutcome | undefined {
  const { agents, hashes } = checks;
  if (!agents.has(data.agent))
    return refusal(
      now(),
      'ERR_UNKNOWN_AGENT',
      `this worker has no agent "${data.agent}" (it has ${[...hashes.keys()].map((n) => `"${n}"`).join(', ') || 'none'})`,
    );
  if (hashes.get(data.agent) !== data.hash)
    return refusal(
      now(),
      'ERR_CLUSTER_AGENT_HASH',
      `agent "${data.agent}" is ${hashes.get(data.agent)} on this worker, ${data.hash} on the planner`,
    );
  return undefined;
}

/**
 * Why each of a job's attempts (`ids[n]` is `attempts[n]`'s attempt id)
 * must not run here, as its outcome; undefined for one that may. One Redis
 * round trip for them all: their cancel marks, their taint marks (the job
 * ran before, BullMQ giving it again after its worker died; or the attempt
 * ran in a pack a later planner found gone, and now goes alone), and each
 * run budget they carry.
 */
export async function refuseJob(
  checks: JobChecks,
  ids: readonly string[],
  attempts: readonly JobData[],
): Promise<(RemoteOutcome | undefined)[]> {
  const k = keys(checks.settings);
  const { redis, budgets } = checks;
  const budgetIds = [...new Set(attempts.flatMap((a) => (a.runTokens ? [a.runTokens.id] : [])))];
  const [cancelled, tainted, spent] = await Promise.all([
    redis.mget(ids.map((id) => k.cancelled(id))),
    redis.mget(ids.map((id) => k.tainted(id))),
    Promise.all(budgetIds.map(async (id) => [id, await budgets.refused(id)] as const)),
  ]);
  const refusedBudgets = new Set(spent.filter(([, refused]) => refused).map(([id]) => id));
  return attempts.map((data, n) => {
    const unfit = misfit(checks, data);
    if (unfit !== undefined) return unfit;
    if (cancelled[n] !== null) return { kind: 'cancelled' };
    // A run of this attempt on a worker that died had already shown
    // effects: running it again silently would show them twice.
    if (tainted[n] !== null)
      return {
        kind: 'crashed',
        reply: {
          ...refusalReply(now()),
          error: taskError(
            'ERR_WORKER_CRASHED',
            `task "${data.taskId}": the worker running it died after it had shown outside effects (chunks, progress, host calls or run-budget charges)`,
          ),
        },
      };
    // A charge to the run's budget was refused (on any worker): the planner
    // would not start this attempt now, so it is not begun (as a local thread
    // refuses one queued on it).
    if (data.runTokens !== undefined && refusedBudgets.has(data.runTokens.id))
      return { kind: 'refused' };
    return undefined;
  });
}
