import type { Redis } from 'ioredis';
import type { TaskResult } from '../results.js';
import { AgentpoolError } from '../shared/errors.js';
import { EPOCH_S, RunLeases } from './run-lease.js';
import { decodeEntry, encodeEntry, type RunRecord, type TaskEnd, taskEnd } from './run-record.js';
import type { ClusterSettings } from './settings.js';

// How long a run's journal stays in Redis after its last write.
const JOURNAL_S = EPOCH_S;

// A fenced journal write: HSET of KEYS[2] field ARGV[2] = ARGV[3], then every
// key but the epoch kept ARGV[4] seconds, only while the run's epoch KEYS[1]
// is still ARGV[1], the one its planner claimed (see run-lease.ts): a planner
// that was frozen past its lease cannot overwrite what a later owner wrote.
// Returns 1 when written, 0 when fenced off.
const FENCED_HSET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
for i = 2, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return 1`;
// The run's record, written (KEYS[2] = ARGV[2], kept ARGV[3] s) only under
// its planner's epoch (KEYS[1] = ARGV[1]), as FENCED_HSET.
const FENCED_SET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`;
// FENCED_HSET's many-field form for one hash: ARGV[3..] are field, value pairs; kept ARGV[2] s.
const FENCED_HMSET = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[2], ARGV[2])
return 1`;
type FencedCommand = {
  agentpoolFencedHset(numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
  agentpoolFencedHmset(numberOfKeys: number, ...args: (string | number)[]): Promise<unknown>;
};

/**
 * A run's journal in Redis, four keys per run id: its record (`RunRecord`:
 * the DAG, options and agents, written when it starts, before any task is
 * dispatched); a hash of terminal entries, one field per task (`TaskEnd`,
 * written before the task's end is reported); a hash with one field per (task,
 * attempt) holding that attempt's packed reply (the worker's V8-serialized
 * outcome: Map, BigInt, Date and typed arrays survive); and a hash of the
 * packs attempts went out in (`packed`). The executor writes
 * a field, and awaits it, before the planner hears of the outcome, so a
 * task's `done` is never announced before it is journaled (write-ahead);
 * a later planner on the same run id finds each finished attempt here and
 * replays it instead of running it again. Runs without an explicit run id
 * get a random one, leased and journaled all the same.
 */
export class RunJournal {
  readonly #redis: Redis;
  readonly #prefix: string;
  /** This planner's leases on runs: the journal writes a run's entries only under its lease's epoch. */
  readonly leases: RunLeases;

  constructor(redis: Redis, settings: ClusterSettings, owner: string) {
    // EVALSHA after the first call: each reply's write sends the hash, not the script.
    redis.defineCommand('agentpoolFencedHset', { lua: FENCED_HSET });
    redis.defineCommand('agentpoolFencedHmset', { lua: FENCED_HMSET });
    this.#redis = redis;
    this.#prefix = settings.prefix;
    this.leases = new RunLeases(redis, settings, owner);
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

  #packsKey(runId: string): string {
    return `${this.#prefix}:journal-packs:${runId}`;
  }

  /**
   * A fenced write (see `FENCED_HSET`): nothing is written of a run this
   * planner holds no lease on (it ended here, or another took it over), and
   * a write refused for a later epoch gives the run up.
   */
  async #write(runId: string, keys: string[], field: string, packed: string): Promise<void> {
    const epoch = this.leases.epoch(runId);
    if (epoch === undefined) return;
    const written = await (this.#redis as unknown as FencedCommand).agentpoolFencedHset(
      keys.length + 1,
      this.leases.epochKey(runId),
      ...keys,
      epoch,
      field,
      packed,
      JOURNAL_S,
    );
    if (written === 0) this.leases.lost(runId);
  }

  /**
   * Where the attempts of packs of run `runId` about to be added are
   * (attempt job id, pack job id, place in the pack), written before the
   * packs are, under the run's epoch: a later planner of the run adopts such
   * an attempt from its pack instead of running it again (see `previous`).
   * Rejects, coded, when this planner no longer owns the run (the packs
   * must then not go out: the new owner cannot know of them).
   */
  async packed(runId: string, members: readonly PackedAttempt[]): Promise<void> {
    const epoch = this.leases.epoch(runId);
    const fields = members.flatMap((m) => [m.attemptId, `${m.packId} ${m.index}`]);
    const written =
      epoch !== undefined &&
      (await (this.#redis as unknown as FencedCommand).agentpoolFencedHmset(
        2,
        this.leases.epochKey(runId),
        this.#packsKey(runId),
        epoch,
        JOURNAL_S,
        ...fields,
      )) === 1;
    if (written) return;
    if (epoch !== undefined) this.leases.lost(runId);
    throw new AgentpoolError(
      'ERR_CLUSTER_RUN_LEASED',
      `run ${JSON.stringify(runId)} is no longer this planner's: its packs are not sent`,
    );
  }

  /**
   * What an earlier planner of the run left for this attempt: its journaled
   * reply (`packed`); the pack it went out in (`pack`: its job id and the
   * attempt's place), to be adopted; or, for a first attempt, the output of
   * a task that ended done there without running (a hit in that planner's
   * task cache, which this one may not have: its terminal entry holds the
   * output). Undefined when the attempt must run.
   */
  async previous(
    runId: string,
    taskId: string,
    attempt: number,
    attemptId: string,
  ): Promise<
    { packed: string } | { pack: { id: string; index: number } } | { output: unknown } | undefined
  > {
    const reply = this.#redis
      .pipeline()
      .hget(this.#key(runId), field(taskId, attempt))
      .hget(this.#packsKey(runId), attemptId);
    if (attempt === 1) reply.hget(this.#endsKey(runId), taskId);
    const [[, packed] = [], [, inPack] = [], [, end] = []] = (await reply.exec()) ?? [];
    if (typeof packed === 'string') return { packed };
    if (typeof inPack === 'string') {
      const [id = '', index = ''] = inPack.split(' ');
      return { pack: { id, index: Number(index) } };
    }
    if (typeof end !== 'string') return undefined;
    const entry = decodeEntry(end) as TaskEnd;
    if (entry.status !== 'done' || entry.outputIn !== undefined || !('output' in entry))
      return undefined;
    return { output: entry.output };
  }

  /** Journals an attempt's reply; resolves once Redis has it, or once fenced off (another planner owns the run). */
  async record(runId: string, taskId: string, attempt: number, packed: string): Promise<void> {
    await this.#write(runId, [this.#key(runId)], field(taskId, attempt), packed);
  }

  /** Journals the run's record (a run started again on its id writes it again); resolves once Redis has it. */
  async begin(record: RunRecord): Promise<void> {
    const { runId } = record;
    const packed = encodeEntry(record, `run ${JSON.stringify(runId)}'s record`);
    const epoch = this.leases.epoch(runId);
    if (epoch === undefined) return;
    const args = [this.leases.epochKey(runId), this.#runKey(runId), epoch, packed, JOURNAL_S];
    if ((await this.#redis.eval(FENCED_SET, 2, ...args)) === 0) this.leases.lost(runId);
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
    await this.#write(runId, [this.#endsKey(runId), this.#runKey(runId)], result.id, packed);
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

/** An attempt as it goes out in a pack (see `RunJournal.packed`). */
export interface PackedAttempt {
  attemptId: string;
  packId: string;
  index: number;
}

function field(taskId: string, attempt: number): string {
  return JSON.stringify([taskId, attempt]);
}
