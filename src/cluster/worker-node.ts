import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Probe } from '../pool/executor.js';
import { HostBridge } from '../pool/host-bridge.js';
import { Pools } from '../pool/pools.js';
import { now } from '../shared/clock.js';
import { AgentpoolError, toTaskError } from '../shared/errors.js';
import { type ActiveJob, ActiveJobs } from './active-jobs.js';
import { agentHashes } from './agent-hash.js';
import { WorkerBudgets } from './budget-store.js';
import { CancelWatch } from './cancel-watch.js';
import { connect, reached } from './connect.js';
import { announce, HEARTBEAT_MS, withdrawAnnouncement } from './heartbeat.js';
import { fromJob, type JobData, type JobResult, PACK_MAX, parseAttempts } from './job.js';
import { type JobChecks, refuseJob } from './job-checks.js';
import { jobId, keys, QUEUE } from './keys.js';
import { type RemoteOutcome, within } from './outcome-wire.js';
import { awayFor } from './redis-away.js';
import { ReplyWriter, STREAM_TTL_MS } from './reply-writer.js';
import { runLocally } from './run-local.js';
import { type PackRunner, type RunningPack, runPack } from './run-pack.js';
import { LOCK_MS, type WorkerNodeOptions, workerOptions } from './worker-options.js';
import { packOutcome, refusalReply } from './worker-replies.js';

// Thread ids per worker in a cluster-wide id (see `#seq`).
const THREAD_SPAN = 1_000;

/**
 * `agentpool worker`: takes attempts from the queue and runs them on a
 * local thread pool. It knows agents only by name, from its own file, and
 * runs one only when the job's hash is its module's; a job's data is
 * validated whole and names no module. It announces its agents (with
 * hashes), threads and host services every second.
 */
export class WorkerNode {
  readonly id = randomUUID();
  readonly #options: WorkerNodeOptions;
  readonly #hashes: Map<string, string>;
  readonly #pools: Pools;
  readonly #redis: Redis;
  readonly #cancels: CancelWatch;
  readonly #worker: Worker;
  readonly #active: ActiveJobs;
  readonly #timer: NodeJS.Timeout;
  readonly #replyPattern: RegExp;
  readonly #budgets: WorkerBudgets;
  readonly #checks: JobChecks;
  readonly #writer: ReplyWriter;
  /** Packs running here, by job id, with their attempts' ids. */
  readonly #packs = new Map<string, RunningPack>();
  readonly #runner: PackRunner;
  // This worker's number in the cluster (a counter in Redis): thread ids it
  // reports are THREAD_SPAN * seq + its local id, so two workers' thread 1
  // are two lanes in a trace, not one.
  #seq = 0;
  readonly #name = `${hostname()}/${process.pid}`;

  private constructor(options: WorkerNodeOptions, hashes: Map<string, string>) {
    this.#options = options;
    this.#hashes = hashes;
    const { settings, threads } = options;
    this.#replyPattern = new RegExp(
      `^${settings.prefix.replace(/[.]/g, '\\.')}:replies:[0-9a-f-]{36}$`,
    );
    this.#redis = connect(settings);
    this.#active = new ActiveJobs(this.#redis, settings);
    this.#writer = new ReplyWriter(this.#redis);
    this.#runner = {
      active: this.#active,
      writer: this.#writer,
      run: (data, active, watch) => this.#run(data, active, watch),
    };
    const bridge = new HostBridge(options.host, {
      event: (event) => this.#active.event(event),
      stray: (error) => process.emitWarning(error.message, { code: 'AGENTPOOL_STRAY_ERROR' }),
      charge: (request) => this.#budgets.charge(request),
      beforeCall: (origin) => this.#active.beforeCall(origin),
    });
    this.#pools = new Pools({
      threads,
      balance: 'least-busy',
      idleTimeoutMs: 30_000,
      // Room for a pack's attempts to be grouped on a thread (a job of one is never grouped).
      inFlightPerThread: 16,
      // Each of its `threads` jobs at once may be a whole pack; twice that,
      // so a wave cancelled while queued leaves room for the next.
      handedOver: threads * PACK_MAX * 2,
      bridge,
    });
    this.#budgets = new WorkerBudgets(this.#redis, settings);
    const { agents } = options;
    this.#checks = { settings, redis: this.#redis, agents, hashes, budgets: this.#budgets };
    this.#cancels = new CancelWatch(
      this.#redis,
      settings,
      (job) => this.#active.abort(job),
      (budget) => this.#budgets.refuse(budget),
    );
    this.#worker = new Worker(QUEUE, (job) => this.#process(job), {
      ...workerOptions(settings, options),
      name: this.#name,
    });
    // A worker that lost a job's lock (Redis frozen past it) stops the
    // attempt: the stall check has given it, or will give it, to another.
    this.#worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) {
        this.#active.abort(id);
        const pack = this.#packs.get(id);
        if (pack === undefined) continue;
        pack.lost = true;
        for (const attempt of pack.ids) this.#active.abort(attempt);
      }
    });
    // A pack's replies went out as its attempts ended; a job of one attempt's goes once BullMQ has recorded it.
    this.#worker.on('completed', (job: Job, result: JobResult) => {
      const replyTo = this.#replyTo(job.data);
      if (replyTo !== undefined && job.id !== undefined && 'r' in result)
        void this.#redis
          .multi()
          .xadd(replyTo, '*', 'k', 'd', 'j', job.id, 'b', result.r)
          .pexpire(replyTo, STREAM_TTL_MS)
          .exec()
          .catch(() => {});
    });
    this.#worker.on('error', () => {});
    this.#timer = setInterval(() => {
      void this.#beat().catch(() => {});
      void this.#cancels.sweep(this.#active.ids()).catch(() => {});
      void this.#budgets.sweep().catch(() => {});
    }, HEARTBEAT_MS);
    this.#timer.unref();
  }

  /** Hashes its agents' modules, connects, and announces itself once it is ready to take jobs. */
  static async start(options: WorkerNodeOptions): Promise<WorkerNode> {
    const node = new WorkerNode(options, await agentHashes(options.agents));
    // Credentials Redis refuses are said at once (and the worker exits), not retried forever.
    const { url } = options.settings;
    try {
      node.#seq = await reached(
        node.#redis,
        url,
        node.#redis.incr(keys(options.settings).workerSeq),
      );
    } catch (error) {
      clearInterval(node.#timer);
      await node.#worker.close(true).catch(() => {});
      await node.#pools.close();
      node.#cancels.close();
      node.#redis.disconnect();
      throw error;
    }
    await node.#worker.waitUntilReady();
    await node.#beat();
    return node;
  }

  /** What this worker announces: agent name -> content hash. */
  get agents(): ReadonlyMap<string, string> {
    return this.#hashes;
  }

  #beat(): Promise<void> {
    const { threads, host, settings } = this.#options;
    return announce(this.#redis, settings, {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      threads,
      free: Math.max(0, threads - this.#active.size),
      agents: Object.fromEntries(this.#hashes),
      services: Object.keys(host),
      at: Date.now(),
    });
  }

  /** The job's replies stream, if its data names one of this prefix's (a forged one never gets writes). */
  #replyTo(data: unknown): string | undefined {
    const replyTo = (data as { replyTo?: unknown } | null)?.replyTo;
    return typeof replyTo === 'string' && this.#replyPattern.test(replyTo) ? replyTo : undefined;
  }

  async #process(job: Job): Promise<JobResult> {
    // Invalid data fails the job (BullMQ records why); nothing of it is run or trusted.
    const { attempts, packed } = parseAttempts(job.data);
    const streams = attempts.map((data) => this.#replyTo(data));
    if (streams.some((stream) => stream === undefined))
      throw new AgentpoolError(
        'ERR_CLUSTER_JOB_INVALID',
        `job data: replyTo: not a planner's stream of prefix "${this.#options.settings.prefix}"`,
      );
    const id = job.id as string;
    const ids = packed ? attempts.map((a) => jobId(a.runId, a.taskId, a.attempt)) : [id];
    const refused = await refuseJob(this.#checks, ids, attempts);
    const data = attempts[0] as JobData;
    if (!packed) {
      let outcome = refused[0];
      if (outcome === undefined) {
        const active = this.#active.open(id, data, streams[0] as string);
        active.writes.push(
          this.#redis.xadd(active.replyTo, '*', 'k', 's', 'j', id).catch(() => {}),
        );
        outcome = await this.#run(data, active);
      }
      return { v: 1, r: packOutcome(outcome, data.taskId) };
    }
    const pack: RunningPack = { ids, lost: false };
    this.#packs.set(id, pack);
    try {
      return {
        v: 1,
        rs: await runPack(this.#runner, pack, attempts, streams as string[], refused),
      };
    } finally {
      this.#packs.delete(id);
    }
  }

  /** One attempt, opened in `active`, on this worker's threads (`watch`: one of a pack, see `runPack`); its writes land before it returns. */
  async #run(
    data: JobData,
    active: ActiveJob,
    watch?: (probe: () => Probe) => void,
  ): Promise<RemoteOutcome> {
    const id = active.id;
    try {
      const href = this.#options.agents.get(data.agent) as string;
      let request: ReturnType<typeof fromJob>;
      try {
        request = fromJob(data, () => href);
      } catch (error) {
        return { kind: 'replied', reply: { ...refusalReply(now()), error: toTaskError(error) } };
      }
      // Its threads' charges to the run's budget go to Redis, through this process.
      if (data.runTokens !== undefined) request.runTokens = this.#budgets.open(id, data.runTokens);
      const outcome = await runLocally(
        this.#pools,
        request,
        data.timeoutGraceMs,
        active.controller.signal,
        { short: watch !== undefined, watch },
      );
      if (outcome.kind === 'replied') await this.#active.drain(active, outcome.reply.events);
      if ('reply' in outcome) {
        if (outcome.reply.threadId !== null) outcome.reply.threadId += THREAD_SPAN * this.#seq;
        outcome.reply.worker = this.#name;
      }
      return outcome;
    } finally {
      // Events before the reply: the planner waits for them all.
      await Promise.all(active.writes);
      this.#active.close(active, data);
      this.#budgets.close(id);
    }
  }

  /**
   * Stops taking jobs, lets running ones end, hands back their results and
   * withdraws its announcement: true once done. False if Redis was stopped
   * meanwhile (no connection for a lock's length: the jobs held here are
   * then another worker's): it stops without handing back, and its BullMQ
   * worker goes on reconnecting, so the caller exits the process.
   */
  async close(): Promise<boolean> {
    clearInterval(this.#timer);
    const away = awayFor(this.#redis, this.#options.lockMs ?? LOCK_MS);
    const handedBack = async () => {
      await withdrawAnnouncement(this.#redis, this.#options.settings, this.id).catch(() => {});
      // Running attempts end as they would (close waits for them); a second
      // signal to the CLI exits at once, and their jobs run again elsewhere.
      await this.#worker.close();
      await this.#writer.flush();
      return true;
    };
    let done = false;
    try {
      done = await Promise.race([handedBack(), away.gone.then(() => false)]);
    } finally {
      away.stop();
      // Without Redis, what its threads still run has nowhere to go.
      await (done ? this.#pools.close() : within(this.#pools.close()));
      this.#cancels.close();
      this.#redis.disconnect();
    }
    return done;
  }
}
