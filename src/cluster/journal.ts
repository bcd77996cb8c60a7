import type { Redis } from 'ioredis';
import type { TaskResult } from '../results.js';
import { AgentpoolError } from '../shared/errors.js';
import { decodeEntry, encodeEntry, type RunRecord, type TaskEnd, taskEnd } from './run-record.js';
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
 * A run's journal in Redis, three keys per run id: its record (`RunRecord`:
 * the DAG, options and agents, written when it starts, before any task is
 * dispatched); a hash of terminal entries, one field per task (`TaskEnd`,
 * written before the task's end is reported); and a hash with one field per (task,
 * attempt) holding that attempt's packed reply (the worker's V8-serialized
 * outcome: Map, BigInt, Date and typed arrays survive). The executor writes
 * a field, and awaits it, before the planner hears of the outcome, so a
 * task's `done` is never announced before it is journaled (write-ahead);
 * a later planner on the same run id finds each finished attempt here and
 * replays it instead of running it again. Runs without an explicit run id
 * get a random one, leased and journaled all the same.
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

  #runKey(runId: string): string {
    return `${this.#prefix}:journal-run:${runId}`;
  }

  #endsKey(runId: string): string {
    return `${this.#prefix}:journal-ends:${runId}`;
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

  /** How long run `runId`'s lease has left, in ms; 0 when no planner holds it. */
  async leaseLeft(runId: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(this.#leaseKey(runId)));
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

  /** Journals the run's record (a run started again on its id writes it again); resolves once Redis has it. */
  async begin(record: RunRecord): Promise<void> {
    const packed = encodeEntry(record, `run ${JSON.stringify(record.runId)}'s record`);
    await this.#redis.set(this.#runKey(record.runId), packed, 'EX', JOURNAL_S);
  }

  /** Journals task `result.id`'s terminal entry (replacing one an earlier planner of the run wrote); resolves once Redis has it. */
  async end(runId: string, result: TaskResult): Promise<void> {
    const entry = taskEnd(result);
    let packed: string;
    try {
      packed = encodeEntry(entry, `task ${JSON.stringify(result.id)}'s result`);
    } catch (error) {
      // An output structured clone refuses (a cached one cannot be, a reply never is): the entry without it.
      const { output: _output, ...rest } = entry;
      packed = encodeEntry({ ...rest, outputLost: (error as Error).message }, 'a terminal entry');
    }
    await this.#redis
      .multi()
      .hset(this.#endsKey(runId), result.id, packed)
      .expire(this.#endsKey(runId), JOURNAL_S)
      .expire(this.#runKey(runId), JOURNAL_S)
      .exec();
  }

  /** The run's record, or undefined when this Redis has no such run (never run here, or expired). */
  async read(runId: string): Promise<RunRecord | undefined> {
    const packed = await this.#redis.get(this.#runKey(runId));
    return packed === null ? undefined : (decodeEntry(packed) as RunRecord);
  }

  /** The run's terminal entries so far, by task id. */
  async ends(runId: string): Promise<Map<string, TaskEnd>> {
    const all = await this.#redis.hgetall(this.#endsKey(runId));
    return new Map(Object.entries(all).map(([id, packed]) => [id, decodeEntry(packed) as TaskEnd]));
  }
}

function field(taskId: string, attempt: number): string {
  return JSON.stringify([taskId, attempt]);
}
