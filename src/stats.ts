import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** Percentiles of a duration, in ms. */
export interface DurationSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Per-agent counts and timing. */
export interface AgentStats {
  /** Attempts that returned an output. */
  succeeded: number;
  /** Attempts that failed (each retry counts). */
  failed: number;
  /** Mean run time of an attempt in ms: the estimate the planner uses for this agent's tasks. */
  meanMs: number;
}

/** What `runtime.stats()` returns. */
export interface RuntimeStats {
  threads: number;
  /** Worker threads alive now: the default pool's plus those of memory profiles in use (0 inline or before the first run). */
  liveThreads: number;
  /**
   * Threads given up on: stopped (a timeout, a cancel) while blocked in a
   * native call Node cannot interrupt (a read that never returns,
   * `execSync`). Each was replaced and no longer counts toward `threads`,
   * but runs on until that call returns, and some such calls keep the
   * process from exiting until then.
   */
  stuckThreads: number;
  /** Runs in progress. */
  activeRuns: number;
  /**
   * Fraction of thread capacity spent running attempts since the threads
   * were started: attempts' own time on their threads (from the workers'
   * timestamps) over `threads` x elapsed time. Null inline or before the
   * first run.
   */
  utilization: number | null;
  agents: Record<string, AgentStats>;
  /** Time from a task becoming ready to its attempt starting on a thread. */
  queueWaitMs: DurationSummary;
  /** Run time of attempts on their thread. */
  runMs: DurationSummary;
  /** Event listeners that threw (and were ignored). */
  listenerErrors: number;
  /**
   * Errors agent code threw while no task was running on its thread (a
   * timer or callback a finished task left behind). Each ended its thread,
   * which was replaced; no task failed for it, and `process.emitWarning`
   * reported it (code `AGENTPOOL_STRAY_ERROR`).
   */
  strayErrors: number;
}

// Histograms hold integers, so durations are recorded in microseconds.
function record(histogram: RecordableHistogram, ms: number): void {
  if (Number.isFinite(ms)) histogram.record(Math.max(1, Math.round(ms * 1000)));
}

function summarize(histogram: RecordableHistogram): DurationSummary {
  if (histogram.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    count: histogram.count,
    mean: ms(histogram.mean),
    p50: ms(histogram.percentile(50)),
    p90: ms(histogram.percentile(90)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
  };
}

/** Timing a runtime has observed, across all its runs. */
export class StatsRecorder {
  readonly #agents = new Map<string, AgentStats>();
  readonly #wait = createHistogram();
  readonly #run = createHistogram();
  // Thread time spent in attempts, ms, and when the threads were started.
  #busyMs = 0;
  #since: number | undefined;

  attempt(agent: string, durationMs: number, waitMs: number, ok: boolean): void {
    let stats = this.#agents.get(agent);
    if (stats === undefined) {
      stats = { succeeded: 0, failed: 0, meanMs: 0 };
      this.#agents.set(agent, stats);
    }
    if (ok) stats.succeeded++;
    else stats.failed++;
    const n = stats.succeeded + stats.failed;
    stats.meanMs += (durationMs - stats.meanMs) / n;
    record(this.#run, durationMs);
    record(this.#wait, waitMs);
    this.busy(durationMs);
  }

  /** Thread time an attempt spent (one that replied is counted by `attempt`). */
  busy(durationMs: number): void {
    if (Number.isFinite(durationMs) && durationMs > 0) this.#busyMs += durationMs;
  }

  /** The threads were started at `at` (epoch ms): utilization counts from then. */
  started(at: number): void {
    this.#since ??= at;
  }

  /** Share of `threads` x elapsed time spent in attempts; null before `started`. */
  utilization(threads: number, at: number): number | null {
    if (this.#since === undefined || threads <= 0) return null;
    const capacity = threads * (at - this.#since);
    return capacity <= 0 ? 0 : Math.min(1, this.#busyMs / capacity);
  }

  /** Mean observed run time of the agent's attempts, or undefined before its first. */
  meanMs(agent: string): number | undefined {
    return this.#agents.get(agent)?.meanMs;
  }

  snapshot(): Pick<RuntimeStats, 'agents' | 'queueWaitMs' | 'runMs'> {
    return {
      agents: Object.fromEntries([...this.#agents].map(([name, stats]) => [name, { ...stats }])),
      queueWaitMs: summarize(this.#wait),
      runMs: summarize(this.#run),
    };
  }
}
