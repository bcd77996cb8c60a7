import type { Queue } from 'bullmq';
import { failureReply } from '../pool/decode.js';
import { now } from '../shared/clock.js';
import type { PackedAttempt, RunJournal } from './journal.js';
import { type Gathered, packSize, packWave, type QueueJob } from './packs.js';

/** How long finished jobs stay in Redis: re-adding a known id is a no-op, so an attempt enqueued twice within this window runs once. */
export const KEEP_S = 3_600;

/** What the outbox reads of its executor when a wave goes out. */
export interface OutboxCounts {
  /** Short attempts in flight, the gathered ones included. */
  short(): number;
  /** Jobs that may run or wait across the cluster. */
  jobSlots(): number;
}

/**
 * Attempts on their way to the queue: one that goes alone is added at once;
 * short ones are gathered until the event loop turns (all a planner hands
 * over in one dispatch pump) and go out as packs sized by `packSize`, in one
 * `addBulk`, after the journal has where each went (`RunJournal.packed`).
 */
export class Outbox {
  readonly #queue: Queue;
  readonly #journal: RunJournal;
  readonly #counts: OutboxCounts;
  #gathered: Gathered[] = [];

  constructor(queue: Queue, journal: RunJournal, counts: OutboxCounts) {
    this.#queue = queue;
    this.#journal = journal;
    this.#counts = counts;
  }

  /** A short attempt waits for the rest of its wave. */
  gather(gathered: Gathered): void {
    this.#gathered.push(gathered);
    if (this.#gathered.length === 1) setImmediate(() => this.#flush());
  }

  #flush(): void {
    const wave = this.#gathered.filter((g) => !g.submission.settled);
    this.#gathered = [];
    if (wave.length === 0) return;
    const size = packSize(wave.length, this.#counts.short() - wave.length, this.#counts.jobSlots());
    // A pack holds one run's attempts: its index is written under that run's lease.
    const runs = new Map<string, Gathered[]>();
    for (const g of wave) {
      const runId = g.submission.request.runId;
      const run = runs.get(runId);
      if (run === undefined) runs.set(runId, [g]);
      else run.push(g);
    }
    for (const [runId, run] of runs) this.#send(runId, run, size);
  }

  #send(runId: string, run: readonly Gathered[], size: number): void {
    const jobs = packWave(run, size);
    const members: PackedAttempt[] = [];
    for (const { submission: s } of run) {
      if (s.pack === undefined) continue;
      members.push({ attemptId: s.jobId, packId: s.pack.pack.job.id, index: s.pack.index });
    }
    // Where each packed attempt is, before its pack exists: a later planner adopts it.
    const indexed = members.length > 0 ? this.#journal.packed(runId, members) : Promise.resolve();
    indexed
      .then(() => this.add(jobs))
      .catch((error: unknown) => {
        for (const { submission } of run)
          submission.finish({ kind: 'crashed', reply: failureReply(error, now()) });
      });
  }

  /** Adds jobs to the queue, each under its id (one Redis already has is left as it is), with one BullMQ attempt. */
  add(jobs: readonly QueueJob[]): Promise<unknown> {
    const opts = { attempts: 1, removeOnComplete: { age: KEEP_S }, removeOnFail: { age: KEEP_S } };
    return this.#queue.addBulk(
      jobs.map((job) => ({
        name: job.name,
        data: job.data,
        opts: { ...opts, jobId: job.id, priority: job.priority },
      })),
    );
  }
}
