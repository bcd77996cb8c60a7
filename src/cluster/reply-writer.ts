import type { Redis } from 'ioredis';
import type { Probe } from '../pool/executor.js';

// A worker writes what it gathered for a planner at most this often: a
// pack of no-op attempts ends one every ~0.1 ms per slot, and one stream
// entry per end was most of the Redis work per attempt.
const GATHER_MS = 1;
// A planner that died never deletes its stream: it goes an hour after its last write.
export const STREAM_TTL_MS = 3_600_000;
// How often attempts handed to threads but not yet begun are looked at
// (besides before each write): their start is said at most this late.
const LOOK_MS = 10;

/**
 * The starts and replies of a pack's attempts on their way to their
 * planners' streams: gathered per stream and written as one entry
 * (`k: 'm'`, then `s:<attempt id>` and `d:<attempt id>` fields, in order),
 * at once when nothing was written for `GATHER_MS`, else that long after
 * the last write. A start is said once the attempt's thread has begun it
 * (read from its probe), never when it was only queued for a thread: the
 * planner times it from then.
 */
export class ReplyWriter {
  readonly #redis: Redis;
  readonly #gathered = new Map<string, string[]>();
  #timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  #lastAt = 0;
  #writes = new Set<Promise<unknown>>();
  readonly #expected = new Map<string, { stream: string; probe: () => Probe }>();
  #look: NodeJS.Timeout | undefined;

  constructor(redis: Redis) {
    this.#redis = redis;
  }

  /** Attempt `id` is with a thread: its start is said once `probe` shows it begun. */
  expect(stream: string, id: string, probe: () => Probe): void {
    this.#expected.set(id, { stream, probe });
    this.#look ??= setTimeout(() => this.#lookAgain(), LOOK_MS).unref();
  }

  /** Attempt `id` ended with nothing to send (its job's lock was lost). */
  forget(id: string): void {
    this.#expected.delete(id);
  }

  /** Attempt `id` ended: `packed`, its `RemoteOutcome`. */
  replied(stream: string, id: string, packed: string): void {
    this.#expected.delete(id);
    this.#push(stream, `d:${id}`, packed);
  }

  #lookAgain(): void {
    this.#look = undefined;
    this.#lookAtStarts();
    if (this.#expected.size > 0) this.#look = setTimeout(() => this.#lookAgain(), LOOK_MS).unref();
  }

  #lookAtStarts(): void {
    for (const [id, { stream, probe }] of this.#expected) {
      if (probe().phase === 'waiting') continue;
      this.#expected.delete(id);
      this.#push(stream, `s:${id}`, '');
    }
  }

  #push(stream: string, field: string, value: string): void {
    let fields = this.#gathered.get(stream);
    if (fields === undefined) {
      fields = ['k', 'm'];
      this.#gathered.set(stream, fields);
    }
    fields.push(field, value);
    if (this.#timer !== undefined) return;
    const wait = this.#lastAt + GATHER_MS - performance.now();
    this.#timer =
      wait > 0 ? setTimeout(() => this.flush(), wait) : setImmediate(() => this.flush());
  }

  /** Writes everything gathered now; resolves once Redis has it (or refused it). */
  flush(): Promise<unknown> {
    // First: what this adds is written now (the timer it would arm is this flush's own).
    this.#lookAtStarts();
    clearTimeout(this.#timer as NodeJS.Timeout);
    clearImmediate(this.#timer as NodeJS.Immediate);
    this.#timer = undefined;
    this.#lastAt = performance.now();
    if (this.#gathered.size > 0) {
      const pipeline = this.#redis.pipeline();
      for (const [stream, fields] of this.#gathered)
        pipeline.xadd(stream, '*', ...fields).pexpire(stream, STREAM_TTL_MS);
      this.#gathered.clear();
      const write: Promise<unknown> = pipeline.exec().catch(() => undefined);
      this.#writes.add(write);
      void write.finally(() => this.#writes.delete(write));
    }
    return Promise.all(this.#writes);
  }
}
