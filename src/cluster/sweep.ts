import { Job, type Queue } from 'bullmq';
import { failureReply } from '../pool/decode.js';
import { now } from '../shared/clock.js';
import type { RunTokens } from '../shared/protocol.js';
import type { JobResult } from './job.js';
import type { QueueJob } from './packs.js';
import type { RemoteSubmission } from './remote-submission.js';

/** What the sweep needs of its executor. */
export interface SweepHost {
  readonly queue: Queue;
  /** Adds a job again (under its own id: a no-op if Redis has it). */
  add(job: QueueJob): Promise<unknown>;
  /** An attempt's packed outcome, read from its job's result. */
  ingest(submission: RemoteSubmission, packed: string): void;
  /** Reads the run's budget from Redis into the planner's cells. */
  mirror(runTokens: RunTokens | undefined): Promise<void>;
}

/**
 * Reads the state of the jobs of `submissions` not heard from since
 * `quietSince`: the replies stream is for speed, a job's state is the
 * truth. A pack's state is read once for all its members. A job Redis does
 * not know (lost with the last second of writes of a Redis that restarted
 * on its AOF) is added again under its id; one that completed gives each
 * attempt its outcome from the job's result; one that failed fails them.
 * An attempt neither added alone nor packed yet is left for the next sweep;
 * one adopted from a pack that is gone is added alone.
 */
export async function sweep(
  host: SweepHost,
  submissions: readonly RemoteSubmission[],
  quietSince: number,
): Promise<void> {
  const states = new Map<string, Promise<string>>();
  const jobs = new Map<string, Promise<Job | undefined>>();
  const readded = new Set<string>();
  for (const submission of submissions) {
    if (submission.settled || submission.submittedAt > quietSince) continue;
    const ref = submission.pack;
    const job = ref?.pack.job ?? submission.job;
    if (job === undefined) continue;
    // State first, then the job: a job read just before it completed
    // would show the new state with no return value yet.
    let state = states.get(job.id);
    if (state === undefined) {
      state = host.queue.getJobState(job.id);
      states.set(job.id, state);
    }
    const at = await state;
    if (at === 'unknown') {
      const alone = ref?.pack.fallback;
      if (alone !== undefined) {
        // An adopted pack that is gone (never added, or expired): the attempt goes alone.
        submission.pack = undefined;
        submission.job = alone;
        await host.add(alone);
      } else if (!readded.has(job.id)) await host.add(job);
      readded.add(job.id);
      continue;
    }
    if (at !== 'completed' && at !== 'failed') continue;
    let read = jobs.get(job.id);
    if (read === undefined) {
      read = Job.fromId(host.queue, job.id);
      jobs.set(job.id, read);
    }
    const found = await read;
    if (found === undefined || submission.settled) continue;
    if (at === 'failed') {
      // Its runs (on workers that died) may have charged the run's budget: read as a reply would be.
      await host.mirror(submission.request.runTokens).catch(() => undefined);
      // failureReply codes it ERR_WORKER_CRASHED (a TaskError given it would be wrapped as a non-Error).
      const why = new Error(`its job failed on the queue: ${found.failedReason}`);
      submission.finish({ kind: 'crashed', reply: failureReply(why, now()) });
      continue;
    }
    const result = found.returnvalue as JobResult;
    const packed =
      ref === undefined ? 'r' in result && result.r : 'rs' in result && result.rs[ref.index];
    if (typeof packed === 'string') host.ingest(submission, packed);
  }
}
