import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ChargeRequest, RunTokens } from '../shared/protocol.js';
import { answerCharge, isMailbox, mirrorBudget, newRemoteBudget } from '../shared/remote-budget.js';
import { keys, TAINT_TTL_S } from './keys.js';
import type { ClusterSettings } from './settings.js';

/** Refused budgets a worker remembers (see `WorkerBudgets.refuse`). */
const SPENT_KEPT = 1_024;
/** How long a budget's hash outlives its last charge or read. */
const BUDGET_TTL_MS = 24 * 3_600_000;

/**
 * The check-and-add of one charge, atomic in Redis: a charge that would
 * pass the limit is refused whole (and the budget marked refused), so
 * however many workers charge at once, the total never passes the limit.
 * The limit is the first one a charge brought (every job of a run carries
 * the same). Returns { charged (1/0), spent (after, or before a refusal) }.
 * The charging job is marked tainted (KEYS[2]) in the same step: a charge
 * that landed is an outside effect, and the job must never run again
 * unseen, however soon after it its worker dies. A refusal is published
 * (channel ARGV[5], the budget's id ARGV[6], when given), so every worker
 * stops beginning the attempts of that run it holds.
 */
const CHARGE_LUA = `
redis.call('SET', KEYS[2], '1', 'EX', ARGV[4])
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit') or ARGV[1])
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')
local n = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'limit', limit)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if spent + n > limit then
  redis.call('HSET', KEYS[1], 'refused', 1)
  if ARGV[5] then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
  return {0, spent}
end
return {1, redis.call('HINCRBY', KEYS[1], 'spent', n)}
`;

/** A run's budget as a job carries it. */
export interface JobBudget {
  id: string;
  limit: number;
}

type ChargeCommand = (
  key: string,
  taintKey: string,
  limit: number,
  n: number,
  ttl: number,
  taintTtl: number,
  ...refusal: string[]
) => Promise<unknown>;

/** Charges `n` tokens to budget `key` and taints the job whose key is `taintKey`: [charged, spent] (see `CHARGE_LUA`). */
export async function chargeBudget(
  redis: Redis,
  key: string,
  taintKey: string,
  limit: number,
  n: number,
  refusal?: { channel: string; id: string },
): Promise<[boolean, number]> {
  const command = redis as unknown as { agentpoolCharge?: ChargeCommand };
  if (command.agentpoolCharge === undefined)
    redis.defineCommand('agentpoolCharge', { numberOfKeys: 2, lua: CHARGE_LUA });
  const [charged, spent] = (await (command.agentpoolCharge as ChargeCommand)(
    key,
    taintKey,
    limit,
    n,
    BUDGET_TTL_MS,
    TAINT_TTL_S,
    ...(refusal === undefined ? [] : [refusal.channel, refusal.id]),
  )) as [number, number];
  return [charged === 1, spent];
}

/** What Redis says of a budget now; a live run's reads keep its budget from expiring. */
export async function readBudget(
  redis: Redis,
  key: string,
): Promise<{ spent: number; refused: boolean }> {
  const replies = await redis
    .multi()
    .hmget(key, 'spent', 'refused')
    .pexpire(key, BUDGET_TTL_MS)
    .exec();
  const [error, fields] = replies?.[0] ?? [new Error('the read was discarded'), null];
  if (error) throw error;
  const [spent, refused] = fields as (string | null)[];
  return { spent: Number(spent ?? 0), refused: refused === '1' };
}

/**
 * The planner's side: each run's budget gets an id of its own (a resumed
 * run starts a fresh budget, as a local run does), and after each reply
 * the planner's cells take what Redis says, so its run stops on a spent
 * budget and reports its total exactly as a local run does.
 */
export class PlannerBudgets {
  readonly #redis: Redis;
  readonly #settings: ClusterSettings;
  readonly #ids = new WeakMap<SharedArrayBuffer, string>();

  constructor(redis: Redis, settings: ClusterSettings) {
    this.#redis = redis;
    this.#settings = settings;
  }

  /** The budget a job of this run carries, if it has one. */
  of(runTokens: RunTokens | undefined): JobBudget | undefined {
    if (runTokens === undefined) return undefined;
    let id = this.#ids.get(runTokens.buffer);
    if (id === undefined) {
      id = randomUUID();
      this.#ids.set(runTokens.buffer, id);
    }
    return { id, limit: runTokens.budget };
  }

  /** Reads the run's budget from Redis into the planner's cells. */
  async mirror(runTokens: RunTokens | undefined): Promise<void> {
    const budget = this.of(runTokens);
    if (runTokens === undefined || budget === undefined) return;
    const { spent, refused } = await readBudget(
      this.#redis,
      keys(this.#settings).budget(budget.id),
    );
    mirrorBudget(new BigInt64Array(runTokens.buffer), spent, refused);
  }
}

/**
 * The worker's side: the attempts running here with a budget, each with
 * its mailbox, and the Redis call behind each charge their threads post.
 */
export class WorkerBudgets {
  readonly #redis: Redis;
  readonly #settings: ClusterSettings;
  readonly #open = new Map<
    string,
    { id: string; key: string; limit: number; buffer: SharedArrayBuffer }
  >();
  // Budgets a charge was refused on (here, or heard of): attempts of them
  // queued here are not begun.
  readonly #spent = new Set<string>();

  constructor(redis: Redis, settings: ClusterSettings) {
    this.#redis = redis;
    this.#settings = settings;
  }

  /** Whether budget `id` was already refused: its attempts are not begun (as a local thread refuses them). */
  async refused(id: string): Promise<boolean> {
    if (this.#spent.has(id)) return true;
    return (await readBudget(this.#redis, keys(this.#settings).budget(id))).refused;
  }

  #spend(id: string, spent: number): void {
    this.#spent.add(id);
    for (const open of this.#open.values())
      if (open.id === id) mirrorBudget(new BigInt64Array(open.buffer), spent, true);
    // A long-lived worker serves many runs: the oldest refusals go (Redis still has them).
    for (const old of this.#spent) {
      if (this.#spent.size <= SPENT_KEPT) break;
      this.#spent.delete(old);
    }
  }

  /**
   * Budget `id` was refused (a charge from any worker, heard on the
   * refusals channel or read by `sweep`): no attempt of it queued here begins.
   */
  refuse(id: string, spent = 0): void {
    this.#spend(id, spent);
  }

  /** Reads the refused flag of each budget attempts here charge to (each heartbeat: a published refusal can be missed). */
  async sweep(): Promise<void> {
    const ids = new Set([...this.#open.values()].map((o) => o.id));
    for (const id of ids) {
      if (this.#spent.has(id)) continue;
      const { spent, refused } = await readBudget(this.#redis, keys(this.#settings).budget(id));
      if (refused) this.#spend(id, spent);
    }
  }

  /**
   * The mailbox job `jobId`'s request charges through, until `close`. Marked
   * refused, as every open one of its budget is once a charge from here is
   * refused, so a thread does not begin an attempt queued behind that charge.
   */
  open(jobId: string, budget: JobBudget): RunTokens {
    const buffer = newRemoteBudget();
    if (this.#spent.has(budget.id)) mirrorBudget(new BigInt64Array(buffer), 0, true);
    const key = keys(this.#settings).budget(budget.id);
    this.#open.set(jobId, { id: budget.id, key, limit: budget.limit, buffer });
    return { buffer, budget: budget.limit, remote: jobId };
  }

  close(jobId: string): void {
    this.#open.delete(jobId);
  }

  /**
   * A thread's charge: asked of Redis, answered in its mailbox. One whose
   * attempt has ended here (agent code left running) is refused; one Redis
   * does not answer goes unanswered (the thread gives up: see `chargeRemote`).
   */
  charge(request: ChargeRequest): void {
    const open = this.#open.get(request.id);
    const { amount, seq, buffer } = request;
    if (open === undefined || !Number.isSafeInteger(amount) || amount < 0) {
      if (isMailbox(buffer) && Number.isSafeInteger(seq)) answerCharge(buffer, seq, false, 0);
      return;
    }
    const taint = keys(this.#settings).tainted(request.id);
    const refusal = { channel: keys(this.#settings).budgetRefused, id: open.id };
    chargeBudget(this.#redis, open.key, taint, open.limit, amount, refusal).then(
      ([charged, spent]) => {
        // The other mailboxes first: the thread this answer wakes may begin its next attempt at once.
        if (!charged) this.#spend(open.id, spent);
        answerCharge(open.buffer, seq, charged, spent);
      },
      () => undefined,
    );
  }
}
