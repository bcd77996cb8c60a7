import { now } from '../clock.js';
import type { AttemptProbe } from '../pool/executor.js';

export interface WatchOptions {
  timeoutMs: number;
  /** How long past the timeout a thread may take to honour `ctx.signal` before it is terminated. */
  graceMs: number;
  /** The attempt's CPU limit, watched from outside its thread; undefined: not watched. */
  cpuMs: number | undefined;
  /** Reads the attempt from outside its thread; undefined while it waits for a thread. */
  probe(): AttemptProbe | undefined;
  /** The attempt broke a limit and must be stopped. Called at most once. */
  onBreach(code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT', probe: AttemptProbe | undefined): void;
}

/**
 * The main thread's backstop for one attempt. The worker enforces the
 * timeout itself (it aborts `ctx.signal`), but a thread stuck in synchronous
 * code cannot, so this terminates it `graceMs` later. Both limits count from
 * the attempt's real start on its thread, never from its time in a queue.
 */
export class Watchdog {
  readonly #options: WatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #cpuTimer: NodeJS.Timeout | undefined;
  #done = false;

  constructor(options: WatchOptions) {
    this.#options = options;
    this.#timer = setTimeout(() => this.#checkTime(), options.timeoutMs + options.graceMs);
    const cpuMs = options.cpuMs;
    if (cpuMs !== undefined) {
      // Polled: a thread busy in a loop cannot report its own usage.
      const every = Math.min(200, Math.max(10, cpuMs / 4));
      this.#cpuTimer = setInterval(() => this.#checkCpu(cpuMs), every);
    }
  }

  #checkTime(): void {
    const probe = this.#options.probe();
    const { timeoutMs, graceMs } = this.#options;
    const wait = (probe?.startedAt ?? now()) + timeoutMs + graceMs - now();
    if (wait > 1) this.#timer = setTimeout(() => this.#checkTime(), wait);
    else this.#breach('ERR_TASK_TIMEOUT', probe);
  }

  #checkCpu(limit: number): void {
    const probe = this.#options.probe();
    if (probe?.activeMs !== undefined && probe.activeMs > limit)
      this.#breach('ERR_CPU_LIMIT', probe);
  }

  #breach(code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT', probe: AttemptProbe | undefined): void {
    if (this.#done) return;
    this.stop();
    this.#options.onBreach(code, probe);
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
    clearInterval(this.#cpuTimer);
  }
}
