import { MAX_TIMER_MS } from '../bounds.js';
import type { Probe } from '../pool/executor.js';
import { now } from '../shared/clock.js';

export interface WatchOptions {
  timeoutMs: number;
  /** How long past the timeout a thread may take to honour `ctx.signal` before it is terminated. */
  graceMs: number;
  /** The attempt's CPU limit, watched from outside its thread; undefined: not watched. */
  cpuMs: number | undefined;
  /** Reads the attempt from outside its thread. */
  probe(): Probe;
  /** The attempt has not begun `timeoutMs + graceMs` after it was handed over (and again each period after). */
  onOverdue(): void;
  /** The attempt broke a limit and must be stopped. Called at most once. */
  onBreach(code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT', probe: Probe): void;
}

/**
 * The main thread's backstop for one attempt, armed the moment it is handed
 * to the executor. The worker enforces the timeout itself (it aborts
 * `ctx.signal`), but a thread stuck in synchronous code cannot, so this
 * stops it `graceMs` later. Both limits count from the attempt's real start
 * on its thread, never from its time in a queue; an attempt that has
 * finished but whose reply never comes counts from its start too. One that
 * has not begun a whole period after it was handed over is reported
 * overdue, so the executor can replace a thread that will never begin it.
 */
export class Watchdog {
  readonly #options: WatchOptions;
  #timer: NodeJS.Timeout | undefined;
  #cpuTimer: NodeJS.Timeout | undefined;
  #done = false;
  #handedAt: number;

  constructor(options: WatchOptions) {
    this.#options = options;
    this.#handedAt = now();
    this.#arm(this.#period());
    const cpuMs = options.cpuMs;
    if (cpuMs !== undefined) {
      // Polled: a thread busy in a loop cannot report its own usage.
      const every = Math.min(200, Math.max(10, cpuMs / 4));
      this.#cpuTimer = setInterval(() => this.#checkCpu(cpuMs), every);
    }
  }

  #period(): number {
    return this.#options.timeoutMs + this.#options.graceMs;
  }

  // A batch's limit (timeout x prompts) plus grace can pass Node's longest
  // timer, which would fire at once: such a wait is checked again, in
  // steps. No time limit at all arms nothing.
  #arm(ms: number): void {
    if (Number.isFinite(ms))
      this.#timer = setTimeout(() => this.#checkTime(), Math.min(ms, MAX_TIMER_MS));
  }

  #checkTime(): void {
    if (this.#done) return;
    const probe = this.#options.probe();
    if (probe.phase === 'running' || probe.phase === 'finished') {
      const wait = probe.startedAt + this.#period() - now();
      if (wait > 1) this.#arm(wait);
      else this.#breach('ERR_TASK_TIMEOUT', probe);
      return;
    }
    const due = this.#handedAt + this.#period() - now();
    if (due > 1) {
      this.#arm(due);
      return;
    }
    if (probe.phase === 'waiting') this.#options.onOverdue();
    this.#handedAt = now();
    if (!this.#done) this.#arm(this.#period());
  }

  #checkCpu(limit: number): void {
    const probe = this.#options.probe();
    if (probe.phase === 'running' && probe.activeMs !== undefined && probe.activeMs > limit)
      this.#breach('ERR_CPU_LIMIT', probe);
  }

  #breach(code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT', probe: Probe): void {
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
