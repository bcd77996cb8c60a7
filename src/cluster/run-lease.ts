import type { Redis } from 'ioredis';
import { AgentpoolError } from '../shared/errors.js';
import type { ClusterSettings } from './settings.js';

// How long a planner's lease on a run lasts without renewal: renewed every
// heartbeat (1 s), so a killed planner's run can be taken over 5 s later.
export const LEASE_MS = 5_000;
// How long a run's epoch counter is kept (as long as its journal).
export const EPOCH_S = 7 * 24 * 3_600;

// Takes the lease if no planner holds it, and then counts the run's epoch
// up: every owner of a run has its own epoch, the fencing token its journal
// writes carry. Returns {epoch, 0}, or {0, ms left of the holder's lease}.
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  local epoch = redis.call('INCR', KEYS[2])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  return {epoch, 0}
end
return {0, redis.call('PTTL', KEYS[1])}`;
// Renews the lease while this planner holds it (and the epoch's TTL, so it
// lives as long as the journal a live run keeps writing), takes it back if it
// lapsed with no other planner having claimed the run since (Redis frozen
// past it), and returns 0 when one has: this planner has lost the run.
const RENEW = `
local holder = redis.call('GET', KEYS[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if holder == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if holder or redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** A run leased here: its epoch, and what to do if another planner takes it over. */
interface Held {
  epoch: string;
  lost: (error: AgentpoolError) => void;
}

/**
 * A planner's leases on runs: one planner owns a run at a time. Each claim
 * of a run counts its epoch up, and the journal writes only with the epoch
 * its planner claimed (`FENCED_HSET` in journal.ts): a planner frozen past
 * its lease, whose run another planner took over (and maybe finished and
 * released), writes nothing more of it when it wakes, and is told so.
 */
export class RunLeases {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #held = new Map<string, Held>();

  constructor(redis: Redis, settings: ClusterSettings, owner: string) {
    this.#redis = redis;
    this.#prefix = settings.prefix;
    this.#owner = owner;
  }

  #leaseKey(runId: string): string {
    return `${this.#prefix}:lease:${runId}`;
  }

  /** String: a run's epoch, counted up by each claim. */
  epochKey(runId: string): string {
    return `${this.#prefix}:lease-epoch:${runId}`;
  }

  /** Whether this planner is run `runId`'s first owner (epoch 1): no earlier one left a journal to read. */
  first(runId: string): boolean {
    return this.#held.get(runId)?.epoch === '1';
  }

  /** The epoch this planner holds run `runId` under; undefined if it holds no lease on it. */
  epoch(runId: string): string | undefined {
    return this.#held.get(runId)?.epoch;
  }

  /**
   * Takes run `runId` for this planner, or throws ERR_CLUSTER_RUN_LEASED
   * while another's lease is live. `lost` is called, once, if another
   * planner claims the run later (this one's lease lapsed: it was frozen, or
   * cut off from Redis, past `LEASE_MS`); its journal then writes nothing
   * more of the run.
   */
  async claim(runId: string, lost: (error: AgentpoolError) => void = () => {}): Promise<void> {
    if (this.#held.has(runId)) return;
    const [epoch, ttl] = (await this.#redis.eval(
      CLAIM,
      2,
      this.#leaseKey(runId),
      this.epochKey(runId),
      this.#owner,
      LEASE_MS,
      EPOCH_S,
    )) as [number, number];
    if (epoch === 0) {
      throw new AgentpoolError(
        'ERR_CLUSTER_RUN_LEASED',
        `run ${JSON.stringify(runId)} is owned by another planner (its lease expires in ${Math.max(0, ttl)} ms unless renewed); got a second planner on it`,
      );
    }
    this.#held.set(runId, { epoch: String(epoch), lost });
  }

  /** How long run `runId`'s lease has left, in ms; 0 when no planner holds it. */
  async left(runId: string): Promise<number> {
    return Math.max(0, await this.#redis.pttl(this.#leaseKey(runId)));
  }

  /** Renews this planner's leases (each heartbeat); a run another planner has claimed is given up. */
  async renew(): Promise<void> {
    for (const [runId, { epoch }] of [...this.#held]) {
      // Released (the run ended) while an earlier renewal was awaited: not taken back.
      if (this.#held.get(runId)?.epoch !== epoch) continue;
      const args = [
        this.#leaseKey(runId),
        this.epochKey(runId),
        this.#owner,
        LEASE_MS,
        EPOCH_S,
        epoch,
      ];
      if ((await this.#redis.eval(RENEW, 2, ...args)) === 0) this.lost(runId);
    }
  }

  /** Another planner owns run `runId` now: this one gives it up and is told, once. */
  lost(runId: string): void {
    const held = this.#held.get(runId);
    if (held === undefined) return;
    this.#held.delete(runId);
    held.lost(
      new AgentpoolError(
        'ERR_CLUSTER_RUN_LEASED',
        `run ${JSON.stringify(runId)} was taken over by another planner (this one's lease lapsed, frozen or cut off from Redis for over ${LEASE_MS} ms); this planner stops, the other finishes the run`,
      ),
    );
  }

  /** The run ended here: its lease is given up at once (its epoch stays: a later claim counts on). */
  async release(runId: string): Promise<void> {
    if (!this.#held.delete(runId)) return;
    await this.#redis.eval(RELEASE, 1, this.#leaseKey(runId), this.#owner);
  }
}
