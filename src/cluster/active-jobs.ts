import type { Redis } from 'ioredis';
import { AgentpoolError } from '../shared/errors.js';
import type { CallOrigin, ChannelEvent } from '../shared/protocol.js';
import { pack } from './job.js';
import { keys, TAINT_TTL_S } from './keys.js';
import type { ClusterSettings } from './settings.js';

/** One job a worker runs now. */
export interface ActiveJob {
  readonly id: string;
  readonly replyTo: string;
  readonly controller: AbortController;
  /** Redis writes made for it (the started notice, its events, its taint): all land before its reply. */
  readonly writes: Promise<unknown>[];
  /** The SET of its tainted key, once it has shown outside effects. */
  taint?: Promise<unknown> | undefined;
  /** Events forwarded so far, and who waits for a count. */
  events: number;
  drained?: { target: number; resolve: () => void } | undefined;
}

// How long a finished attempt waits for events its thread says it sent (as the planner does locally).
const EVENT_DRAIN_MS = 2_000;

const attemptKey = (o: CallOrigin) => `${o.runId}\0${o.taskId}\0${o.attempt}`;

/**
 * The jobs an `agentpool worker` runs now, found by job id or by the attempt
 * a thread names, and what their threads show outside: events go on to the
 * planner's reply stream, and the first event, host call or run-budget
 * charge marks the job tainted in Redis, so that if this process dies the
 * job fails ERR_WORKER_CRASHED instead of running again unseen.
 */
export class ActiveJobs {
  readonly #redis: Redis;
  readonly #settings: ClusterSettings;
  readonly #byJob = new Map<string, ActiveJob>();
  readonly #byAttempt = new Map<string, string>();

  constructor(redis: Redis, settings: ClusterSettings) {
    this.#redis = redis;
    this.#settings = settings;
  }

  get size(): number {
    return this.#byJob.size;
  }

  ids(): string[] {
    return [...this.#byJob.keys()];
  }

  /** Stops the job's attempt (cancelled, or its lock lost), if it runs here. */
  abort(jobId: string): void {
    this.#byJob.get(jobId)?.controller.abort();
  }

  open(jobId: string, origin: CallOrigin, replyTo: string): ActiveJob {
    const job: ActiveJob = {
      id: jobId,
      replyTo,
      controller: new AbortController(),
      writes: [],
      events: 0,
    };
    this.#byJob.set(jobId, job);
    this.#byAttempt.set(attemptKey(origin), jobId);
    return job;
  }

  /** Idempotent, and only ever this entry: a copy of the job opened since (its pack given here again) stays. */
  close(job: ActiveJob, origin: CallOrigin): void {
    if (this.#byJob.get(job.id) !== job) return;
    this.#byJob.delete(job.id);
    this.#byAttempt.delete(attemptKey(origin));
  }

  #of(origin: CallOrigin): ActiveJob | undefined {
    const id = this.#byAttempt.get(attemptKey(origin));
    return id === undefined ? undefined : this.#byJob.get(id);
  }

  // On this process's one connection, so Redis has the mark before any event
  // sent after it; one that failed is tried again by the next effect.
  #taint(job: ActiveJob): Promise<unknown> {
    job.taint ??= this.#redis
      .set(keys(this.#settings).tainted(job.id), '1', 'EX', TAINT_TTL_S)
      .catch((error: unknown) => {
        job.taint = undefined;
        throw error;
      });
    return job.taint;
  }

  /** A progress report or chunk from a thread: on to the planner, in order, after its taint. */
  event(event: ChannelEvent): void {
    const job = this.#of(event);
    if (job === undefined) return;
    if (job.taint === undefined) job.writes.push(this.#taint(job).catch(() => {}));
    let body: string;
    try {
      body = pack(event, `an event of task "${event.taskId}"`);
    } catch {
      return;
    }
    job.writes.push(
      this.#redis.xadd(job.replyTo, '*', 'k', 'e', 'j', job.id, 'b', body).catch(() => {}),
    );
    job.events++;
    if (job.drained !== undefined && job.events >= job.drained.target) job.drained.resolve();
  }

  /**
   * Before a host service runs for a thread: the job is tainted in Redis
   * first, so a death of this process during or after the call can never
   * make it run again unseen. A call from an attempt that has ended here
   * (agent code left running) is refused: its job may be running elsewhere.
   */
  async beforeCall(origin: CallOrigin): Promise<void> {
    const job = this.#of(origin);
    if (job === undefined)
      throw new AgentpoolError(
        'ERR_HOST_CALL_LATE',
        `task "${origin.taskId}" attempt ${origin.attempt}: host call after the attempt ended on this worker`,
      );
    await this.#taint(job);
  }

  /** Waits (a bounded time) until the thread's events have all come in: they travel on another port than its reply. */
  async drain(job: ActiveJob, target: number): Promise<void> {
    if (job.events >= target) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      job.drained = { target, resolve };
      timer = setTimeout(resolve, EVENT_DRAIN_MS);
    });
    clearTimeout(timer);
  }
}
