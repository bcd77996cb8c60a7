import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { failureReply } from '../pool/decode.js';
import type { Executor, Submission, SubmitHints } from '../pool/executor.js';
import { now } from '../shared/clock.js';
import type { ChannelEvent, TaskRequest } from '../shared/protocol.js';
import { agentHashes } from './agent-hash.js';
import { PlannerBudgets } from './budget-store.js';
import { cancelJob } from './cancel-job.js';
import { connect, connectionOptions, reached } from './connect.js';
import { type Announcement, HEARTBEAT_MS, liveWorkers } from './heartbeat.js';
import { PACK_MAX, toJob, unpack } from './job.js';
import { RunJournal } from './journal.js';
import { jobId, keys, QUEUE } from './keys.js';
import { KEEP_S, Outbox } from './outbox.js';
import { decodeOutcome, type ReplyEntry, within } from './outcome-wire.js';
import { PACK_BODY_MAX, type QueueJob } from './packs.js';
import { checkServices, checkWorkers } from './preflight.js';
import { RemoteSubmission } from './remote-submission.js';
import { ReplyReader } from './reply-reader.js';
import { resumeAttempt } from './resume-attempt.js';
import type { ClusterSettings } from './settings.js';
import { type SweepHost, sweep } from './sweep.js';

// BullMQ's priorities run 1..2,097,152, lower first; 0 would mean none and
// run before all of them.
const MAX_PRIORITY = 2_097_151;
// The most attempts in flight across the cluster (the planner's dispatch
// cap; what workers announce gates it further, see `hasRoom`).
const MAX_IN_FLIGHT = 4_096;
// Per announced thread, one job running and one waiting for it (1,000 x 50 ms on 4 workers: 1.18x bound at one, 1.13x at two).
const PER_THREAD = 2;
// How long connecting may take before a run is refused (ioredis itself retries forever).
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The executor that runs attempts on `agentpool worker` processes through a
 * BullMQ queue. The planner hands it attempts in its own critical-path
 * order and only while `hasRoom` (two jobs per thread live workers
 * announce), so priorities are that order (a counter: 1, 2, 3…), and at
 * most about a cluster's worth of jobs wait. Short attempts (their agent's
 * mean under 1 ms) go out in packs, many to a job (see `Outbox`): one
 * BullMQ job per no-op attempt cost ~5x what the attempt did (0.22x raw
 * BullMQ's throughput). Each job gets one BullMQ attempt: retries,
 * backoff and trigger rules stay the planner's. Replies come back on a
 * stream of this planner's own; a sweep reads the jobs' state for any it
 * missed (a worker killed between completing a job and announcing it, a
 * job BullMQ failed for stalling too often).
 */
export class QueueExecutor implements Executor {
  readonly threads = MAX_IN_FLIGHT;
  readonly terminates = true;
  readonly settings: ClusterSettings;
  readonly #id = randomUUID();
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #reader: ReplyReader;
  readonly #pending = new Map<string, RemoteSubmission>();
  readonly #onEvent: (event: ChannelEvent) => void;
  readonly #timeoutGraceMs: number;
  readonly #hashes = new Map<string, string>();
  readonly #timer: NodeJS.Timeout;
  readonly #budgets: PlannerBudgets;
  /** The runs' journal and leases (the runtime claims a run id given, and releases it when the run ends). */
  readonly journal: RunJournal;
  #workers: Announcement[] = [];
  #seq = 0;
  /** Short attempts in flight (most go out in packs), gathered ones included. */
  #short = 0;
  readonly #outbox: Outbox;
  #sweeping = false;

  private constructor(
    settings: ClusterSettings,
    onEvent: (event: ChannelEvent) => void,
    timeoutGraceMs: number,
  ) {
    this.settings = settings;
    this.#onEvent = onEvent;
    this.#timeoutGraceMs = timeoutGraceMs;
    const connection = connectionOptions(settings);
    this.#queue = new Queue(QUEUE, { connection, prefix: settings.prefix });
    this.#queue.on('error', () => {});
    this.#redis = connect(settings);
    this.journal = new RunJournal(this.#redis, settings, this.#id);
    this.#budgets = new PlannerBudgets(this.#redis, settings);
    this.#outbox = new Outbox(this.#queue, this.journal, {
      short: () => this.#short,
      jobSlots: () => this.#jobSlots(),
    });
    this.#reader = new ReplyReader(connect(settings), keys(settings).replies(this.#id), (entry) =>
      this.#entry(entry),
    );
    this.#timer = setInterval(() => void this.#tick(), HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Connects and reads the live workers once. */
  static async connect(
    settings: ClusterSettings,
    onEvent: (event: ChannelEvent) => void,
    timeoutGraceMs: number,
  ): Promise<QueueExecutor> {
    const executor = new QueueExecutor(settings, onEvent, timeoutGraceMs);
    try {
      await reached(executor.#redis, settings.url, executor.#refresh(), CONNECT_TIMEOUT_MS);
    } catch (error) {
      executor.#abandon();
      throw error;
    }
    return executor;
  }

  /**
   * Refuses a run whose agents no live worker has, or has with other code
   * (see `checkWorkers`); `modules` are the planner's agent modules by name.
   * Resolves with their hashes.
   */
  async preflight(
    modules: ReadonlyMap<string, string>,
    services: readonly string[] = [],
  ): Promise<ReadonlyMap<string, string>> {
    const hashes = await agentHashes(modules);
    for (const [name, hash] of hashes) this.#hashes.set(name, hash);
    await this.#refresh();
    checkWorkers(this.#workers, hashes, this.settings.url);
    checkServices(this.#workers, services);
    return hashes;
  }

  async #refresh(): Promise<void> {
    this.#workers = await liveWorkers(this.#redis, this.settings);
  }

  async #tick(): Promise<void> {
    // Every tick, even while a slow sweep runs: a lease not renewed for 5 s is lost for good.
    void this.journal.leases.renew().catch(() => {});
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await this.#refresh();
      await this.#sweep();
    } catch {
      // Redis away for now: the next tick tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  /** Reads the state of jobs not heard from for a while (see `sweep`). */
  #sweep(): Promise<void> {
    return sweep(this.#sweepHost(), [...this.#pending.values()], now() - HEARTBEAT_MS);
  }

  #sweepHost(): SweepHost {
    return {
      queue: this.#queue,
      add: (job) => this.#outbox.add([job]),
      ingest: (submission, packed) => this.#ingest(submission, packed),
      mirror: (runTokens) => this.#budgets.mirror(runTokens),
    };
  }

  #entry(entry: ReplyEntry): void {
    // Events go on even after their attempt's reply (the planner drains
    // late ones, and drops those of attempts that ended).
    if (entry.k === 'e') {
      this.#onEvent(unpack(entry.b) as ChannelEvent);
      return;
    }
    const submission = this.#pending.get(entry.j);
    if (submission === undefined) return;
    if (entry.k === 's') submission.started();
    else if (entry.k === 'd') this.#ingest(submission, entry.b);
  }

  /** An attempt's reply: journaled first (awaited), the run's budget read from Redis, then handed to the planner. */
  #ingest(submission: RemoteSubmission, packed: string): void {
    const { runId, taskId, attempt, runTokens } = submission.request;
    Promise.all([
      this.journal.record(runId, taskId, attempt, packed),
      this.#budgets.mirror(runTokens),
    ]).then(
      () => submission.finish(decodeOutcome(packed, submission.request.taskId)),
      // Redis away: not delivered; the sweep reads the job's state again
      // next second and journals it then.
      () => undefined,
    );
  }

  /** Jobs that may run or wait across the cluster: `PER_THREAD` per announced thread, or one if none is (its end wakes the planner). */
  #jobSlots(): number {
    return Math.max(1, this.liveThreads() * PER_THREAD);
  }

  /**
   * Whether another attempt may go out: a job slot free for one that is not
   * short, or, for a short one (most go in packs), fewer short attempts in
   * flight than `PACK_MAX` per job slot.
   */
  hasRoom(_memoryMb: number | undefined, short = false): boolean {
    if (short) return this.#short < this.#jobSlots() * PACK_MAX;
    return this.#pending.size - this.#short < this.#jobSlots();
  }

  submit(request: TaskRequest, hints: SubmitHints): Submission {
    const id = jobId(request.runId, request.taskId, request.attempt);
    // The run's first planner has no journal to read (a Redis round trip per task saved).
    const first = this.journal.leases.first(request.runId);
    const submission = new RemoteSubmission(
      {
        // Only while this planner owns the run: a job another planner took over is its to stop.
        cancel: (job) => void (this.journal.leases.epoch(request.runId) && this.#cancel(job)),
        release: (s) => this.#release(s),
      },
      id,
      request,
    );
    this.#pending.set(id, submission);
    const priority = 1 + (this.#seq++ % MAX_PRIORITY);
    let job: QueueJob;
    try {
      const hash = this.#hashes.get(request.agent) ?? 'unknown';
      const replyTo = keys(this.settings).replies(this.#id);
      const budget = this.#budgets.of(request.runTokens);
      const data = toJob(request, hash, replyTo, this.#timeoutGraceMs, budget);
      job = { id, name: request.taskId.slice(0, 200), data, priority };
      submission.short = hints.short;
      // Only the run's first planner packs: a later one sends alone, under its own id, what an earlier one may have sent alone.
      submission.packable = hints.short && first && data.body.length <= PACK_BODY_MAX;
    } catch (error) {
      submission.finish({ kind: 'replied', reply: failureReply(error, now()) });
      return submission;
    }
    if (submission.short) this.#short++;
    if (!submission.packable) submission.job = job;
    const go = async () => {
      if (submission.packable) this.#outbox.gather({ submission, job });
      else await this.#outbox.add([job]);
    };
    const handed = first
      ? go()
      : resumeAttempt(this.journal, submission, job, {
          go,
          deliver: (packed) => submission.finish(decodeOutcome(packed, request.taskId)),
          ingest: (packed) => this.#ingest(submission, packed),
        });
    handed.catch((error: unknown) =>
      submission.finish({ kind: 'crashed', reply: failureReply(error, now()) }),
    );
    return submission;
  }

  #release(submission: RemoteSubmission): void {
    if (this.#pending.get(submission.jobId) !== submission) return;
    this.#pending.delete(submission.jobId);
    if (submission.short) this.#short--;
  }

  /** Stops a job (see `cancelJob`). */
  #cancel(job: string): Promise<void> {
    return cancelJob(this.#redis, this.#queue, this.settings, job, KEEP_S);
  }

  /** Threads that live workers announce. */
  liveThreads(): number {
    let threads = 0;
    for (const worker of this.#workers) threads += worker.threads;
    return threads;
  }

  stuckThreads(): number {
    return 0;
  }

  /** Drops every connection at once: Redis never answered, so there is nothing to hand back or clean. */
  #abandon(): void {
    clearInterval(this.#timer);
    void this.#reader.close();
    // Not disconnect(): it waits for a connection that never came (and keeps the process alive).
    void this.#queue.close().catch(() => {});
    this.#redis.disconnect();
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const left = [...this.#pending.values()];
    for (const submission of left) submission.finish({ kind: 'aborted' });
    // Bounded: with Redis away, ioredis would wait for it forever.
    const owned = left.filter((s) => this.journal.leases.epoch(s.request.runId) !== undefined);
    await within(Promise.all(owned.map((submission) => this.#cancel(submission.jobId))));
    await within(this.#reader.close());
    await within(this.#redis.del(keys(this.settings).replies(this.#id)));
    await within(this.#queue.close());
    this.#redis.disconnect();
  }
}
