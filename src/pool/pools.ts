import type { TaskRequest } from '../shared/protocol.js';
import type { Executor, Submission, SubmitHints } from './executor.js';
import type { HostBridge } from './host-bridge.js';
import { type Balance, ThreadPool } from './thread-pool.js';

export interface PoolsOptions {
  threads: number;
  balance: Balance;
  idleTimeoutMs: number;
  inFlightPerThread: number;
  /**
   * Most attempts handed over at once (sizes each pool's start board);
   * default `threads * inFlightPerThread`, what the planner hands a local
   * pool. An `agentpool worker` hands over whole packs.
   */
  handedOver?: number;
  bridge: HostBridge;
}

/**
 * The runtime's threads. `resourceLimits` are fixed per thread, so each
 * distinct `memoryMb` gets its own piscina pool, made on first use, whose
 * threads beyond the first exit after a second idle, and which is closed
 * whole once it has been idle `idleTimeoutMs`; tasks without one share the
 * default pool. All pools together never run more than `threads` attempts.
 */
export class Pools implements Executor {
  readonly threads: number;
  readonly terminates = true;
  readonly #options: PoolsOptions;
  readonly #pools = new Map<number | undefined, ThreadPool>();
  // Memory profiles with nothing in flight, and the timer that closes each.
  readonly #idle = new Map<ThreadPool, NodeJS.Timeout>();
  readonly #closing = new Set<Promise<void>>();
  // Stuck threads of memory-profile pools already closed.
  #stuckInClosed = 0;

  constructor(options: PoolsOptions) {
    this.threads = options.threads;
    this.#options = options;
  }

  #pool(memoryMb: number | undefined): ThreadPool {
    let pool = this.#pools.get(memoryMb);
    if (pool === undefined) {
      const { threads, balance, idleTimeoutMs, inFlightPerThread, bridge } = this.#options;
      const handedOver = this.#options.handedOver ?? threads * inFlightPerThread;
      pool = new ThreadPool({
        threads,
        // The default pool stays warm; a memory profile keeps one thread and
        // lets the rest go when idle. Not none: piscina replaces a thread that
        // died (terminated, out of heap) only up to minThreads, so with none,
        // attempts queued behind a killed one would wait forever.
        minThreads: memoryMb === undefined ? threads : 1,
        balance,
        idleTimeoutMs: memoryMb === undefined ? idleTimeoutMs : Math.min(idleTimeoutMs, 1_000),
        inFlight: handedOver,
        perThread: inFlightPerThread,
        coalesce: true,
        resourceLimits: memoryMb === undefined ? undefined : { maxOldGenerationSizeMb: memoryMb },
        bridge,
      });
      this.#pools.set(memoryMb, pool);
    }
    return pool;
  }

  /**
   * A pool runs at most min(its attempts in flight, threads) at once, so
   * keeping the sum of those at or under `threads` bounds what runs across
   * all pools, while one pool alone may still queue a window ahead.
   */
  hasRoom(memoryMb: number | undefined): boolean {
    const target = this.#pools.get(memoryMb);
    let running = Math.min((target?.inFlight ?? 0) + 1, this.threads);
    for (const pool of this.#pools.values()) {
      if (pool !== target) running += Math.min(pool.inFlight, this.threads);
    }
    return running <= this.threads;
  }

  submit(request: TaskRequest, hints: SubmitHints): Submission {
    const { memoryMb } = request;
    const pool = this.#pool(memoryMb);
    const submission = pool.submit(request, hints);
    if (memoryMb !== undefined) {
      clearTimeout(this.#idle.get(pool));
      this.#idle.delete(pool);
      // The pool's own bookkeeping settles first: by now its count is current.
      void submission.outcome.then(() => this.#whenIdle(memoryMb, pool));
    }
    return submission;
  }

  /** Closes a memory profile's pool once it has had nothing in flight for `idleTimeoutMs`. */
  #whenIdle(memoryMb: number, pool: ThreadPool): void {
    if (pool.inFlight > 0 || this.#pools.get(memoryMb) !== pool) return;
    clearTimeout(this.#idle.get(pool));
    const timer = setTimeout(() => {
      this.#idle.delete(pool);
      if (pool.inFlight > 0 || this.#pools.get(memoryMb) !== pool) return;
      // The next task with this cap makes a new pool.
      this.#pools.delete(memoryMb);
      this.#stuckInClosed += pool.stuckThreads;
      const closed = pool.close().finally(() => this.#closing.delete(closed));
      this.#closing.add(closed);
    }, this.#options.idleTimeoutMs);
    timer.unref();
    this.#idle.set(pool, timer);
  }

  /** Worker threads alive now, across the default pool and the memory profiles. */
  liveThreads(): number {
    let live = 0;
    for (const pool of this.#pools.values()) live += pool.liveThreads;
    return live;
  }

  /** Threads given up on since the runtime started: they did not end when terminated. */
  stuckThreads(): number {
    let stuck = this.#stuckInClosed;
    for (const pool of this.#pools.values()) stuck += pool.stuckThreads;
    return stuck;
  }

  async close(): Promise<void> {
    for (const timer of this.#idle.values()) clearTimeout(timer);
    this.#idle.clear();
    const open = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all([...open.map((pool) => pool.close()), ...this.#closing]);
  }
}
