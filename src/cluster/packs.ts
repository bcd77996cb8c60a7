import { randomUUID } from 'node:crypto';
import { type JobData, PACK_MAX, type PackData } from './job.js';
import type { RemoteSubmission } from './remote-submission.js';

/** A job as the executor adds it to the queue. */
export interface QueueJob {
  readonly id: string;
  readonly name: string;
  readonly data: JobData | PackData;
  readonly priority: number;
}

/**
 * A pack on the planner's side: its job; for one an earlier planner of the
 * run added (adopted, see `RunJournal.previous`), the attempt's own job, to
 * add should the pack be gone from Redis.
 */
export interface PackState {
  readonly job: QueueJob;
  readonly fallback?: QueueJob;
}

/** Where a packed attempt is: its pack, and its place in it (its outcome's in the pack's result). */
export interface PackRef {
  readonly pack: PackState;
  readonly index: number;
}

/** Inputs larger than this (serialized, base64) travel alone: a pack's data is one Redis value. */
export const PACK_BODY_MAX = 64 * 1024;

/**
 * How many attempts each pack of a wave of `wave` short attempts carries,
 * with `inFlight` packed attempts already out and `jobSlots` jobs running
 * or waiting beside them across the cluster (two per live thread): all of
 * them spread evenly over every slot, at most `PACK_MAX`. A wave of a few
 * with little in flight goes out in packs of one or two, so every thread
 * gets some; a large one in packs of `PACK_MAX`.
 */
export function packSize(wave: number, inFlight: number, jobSlots: number): number {
  const size = Math.ceil((wave + inFlight) / Math.max(1, jobSlots));
  return Math.min(PACK_MAX, Math.max(1, size));
}

/** One gathered attempt, in the order the planner handed it over (its rank). */
export interface Gathered {
  readonly submission: RemoteSubmission;
  readonly job: QueueJob;
}

/**
 * The jobs for one wave of gathered short attempts: consecutive runs of
 * `size` (so the best-ranked attempts share the first pack, whose priority
 * is its first member's), a run of one as a plain job. Each packed member
 * learns its pack.
 */
export function packWave(wave: readonly Gathered[], size: number): QueueJob[] {
  const jobs: QueueJob[] = [];
  for (let at = 0; at < wave.length; at += size) {
    const run = wave.slice(at, at + size);
    const first = run[0] as Gathered;
    if (run.length === 1) {
      first.submission.job = first.job;
      jobs.push(first.job);
      continue;
    }
    const job: QueueJob = {
      id: `p-${randomUUID()}`,
      name: `pack of ${run.length}`,
      data: { v: 1, pack: run.map((g) => g.job.data as JobData) },
      priority: first.job.priority,
    };
    const pack: PackState = { job };
    run.forEach((g, index) => {
      g.submission.pack = { pack, index };
    });
    jobs.push(job);
  }
  return jobs;
}
