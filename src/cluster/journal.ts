import type { Redis } from 'ioredis';
import { AgentpoolError } from '../shared/errors.js';
import type { ClusterSettings } from './settings.js';

// How long a planner's lease on a run lasts without renewal: renewed every
// heartbeat (1 s), so a killed planner's run can be taken over 5 s later.
export const LEASE_MS = 5_000;
// How long a run's journal stays in Redis after its last write.
const JOURNAL_S = 7 * 24 * 3_600;

// Renews the lease only while this planner still holds it (never steals one).
const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/**
 * A run's journal in Redis: one hash per run id, one field per (task,
 * attempt) holding that attempt's packed reply (the worker's V8-serialized
 * outcome: Map, BigInt, Date and typed arrays survive). The executor writes
 * a field, and awaits it, before the planner hears of the outcome, so a
 * task's `done` is never announced before it is journaled (write-ahead);
 * a later planner on the same run id finds each finished attempt here and
 * replays it instead of running it again. Runs without an explicit run id
 * get a random one and nothing can resume them, so they are journaled but
 * never leased.
 */
export class RunJournal {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #leases = new Set<string>();

  constructor(redis: Redis, settings: ClusterSettings, owner: string) {
    this.#redis = redis;
    this.#prefix = settings.prefix;
    this.#owner = owner;
  }

  #key(runId: string): string {
    return `${this.#prefix}:journal:${runId}`;
  }

  #leaseKey(runId: string): string {
    return `${this.#prefix}:lease:${runId}`;
  }

  /** Takes run `runId` for this planner, or throws ERR_CLUSTER_RUN_LEASED while another's lease is live. */
  async claim(runId: string): Promise<void> {
    if (this.#leases.has(runId)) return;
    const got = await this.#redis.set(this.#leaseKey(runId), this.#owner, 'PX', LEASE_MS, 'NX');
    if (got !== 'OK') {
      const ttl = await this.#redis.pttl(this.#leaseKey(runId));
      throw new AgentpoolError(
        'ERR_CLUSTER_RUN_LEASED',
        `run ${JSON.stringify(runId)} is owned by another planner (its lease expires in ${Math.max(0, ttl)} ms unless renewed); got a second planner on it`,
      );
    }
    this.#leases.add(runId);
  }

  /** Renews this planner's leases (each heartbeat). */
  async renew(): Promise<void> {
    for (const runId of this.#leases)
      await this.#redis.eval(RENEW, 1, this.#leaseKey(runId), this.#owner, LEASE_MS);
  }

  /** The run ended here: its lease is given up at once. */
  async release(runId: string): Promise<void> {
    if (!this.#leases.delete(runId)) return;
    await this.#redis.eval(RELEASE, 1, this.#leaseKey(runId), this.#owner);
  }

  /** Attempt `attempt` of task `taskId`'s journaled reply, if it finished before. */
  async lookup(runId: string, taskId: string, attempt: number): Promise<string | undefined> {
    const packed = await this.#redis.hget(this.#key(runId), field(taskId, attempt));
    return packed ?? undefined;
  }

  /** Journals an attempt's reply; resolves once Redis has it. */
  async record(runId: string, taskId: string, attempt: number, packed: string): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.#key(runId), field(taskId, attempt), packed)
      .expire(this.#key(runId), JOURNAL_S)
      .exec();
  }
}

function field(taskId: string, attempt: number): string {
  return JSON.stringify([taskId, attempt]);
}
