import type { Redis } from 'ioredis';
import { connect } from './connect.js';
import { keys } from './keys.js';
import type { ClusterSettings } from './settings.js';

/**
 * How a worker hears that the planner cancelled a job it runs: the
 * planner marks the job cancelled and publishes its id. A published message
 * reaches a subscriber at most once (never one reconnecting at that moment),
 * while the mark stays, so `sweep` (each heartbeat) reads the marks of the
 * jobs running here as well.
 */
export class CancelWatch {
  readonly #sub: Redis;
  readonly #redis: Redis;
  readonly #settings: ClusterSettings;
  readonly #stop: (jobId: string) => void;

  /** `refused`: a run budget a charge was refused on, heard on the same connection (see `budgetRefused`). */
  constructor(
    redis: Redis,
    settings: ClusterSettings,
    stop: (jobId: string) => void,
    refused: (budgetId: string) => void,
  ) {
    this.#redis = redis;
    this.#settings = settings;
    this.#stop = stop;
    this.#sub = connect(settings);
    const k = keys(settings);
    void this.#sub.subscribe(k.cancel, k.budgetRefused).catch(() => {});
    this.#sub.on('message', (channel: string, id: string) =>
      channel === k.budgetRefused ? refused(id) : stop(id),
    );
  }

  /** Stops each of `running` whose job is marked cancelled. */
  async sweep(running: readonly string[]): Promise<void> {
    if (running.length === 0) return;
    const k = keys(this.#settings);
    const marks = await this.#redis.mget(running.map((id) => k.cancelled(id)));
    running.forEach((id, n) => {
      if (marks[n] !== null) this.#stop(id);
    });
  }

  close(): void {
    this.#sub.disconnect();
  }
}
