import type { TinyBudget } from './tiny.js';

export type Mode = 'full' | 'quick' | 'smoke';

/** Every size the scenarios run at, for one mode. */
export interface Settings {
  makespan: { threads: number[]; tasks: number; dags: number; minMs: number; maxMs: number };
  /** Issue 10's short-task DAGs against the ideal list scheduler; one DAG per round. */
  shortMakespan: { threads: number[]; tasks: number; rounds: number };
  /** Main-thread CPU per dispatched no-op task. */
  mainCpu: { tasks: number; rounds: number };
  dispatch: { tasks: number; rounds: number };
  roundTrip: { rounds: number; budget: TinyBudget };
  channel: { tasks: number; rounds: number };
  speedup: {
    counts: number[];
    repeats: number;
    /** Thread counts for the example (besides the main thread). */
    exampleCounts: number[];
    exampleRepeats: number;
    kernel: { limit: number; tasks: number };
    /** Index shards of the example; all when undefined. */
    shards?: number;
  };
  scale: { sizes: number[]; runLimit: number; runTasks: number; planTimeMs: number };
}

const unique = (list: number[]) => [...new Set(list)].sort((a, b) => a - b);

/**
 * Sizes per mode. Full is what bench/README.md publishes (about 9 minutes
 * on 2 cores). Quick must stay under a minute on 2 cores with every
 * scenario present: fewer and smaller DAGs, fewer thread counts and rounds,
 * a slice of the example. Smoke only proves the harness runs (`npm test`).
 */
export function settings(mode: Mode, cores: number): Settings {
  const kernelTasks = Math.max(16, cores * 8);
  if (mode === 'full')
    return {
      // Tasks of 4 to 200 ms (mean about 13 ms): agent work, long enough that
      // what is measured is the schedule, not this machine's thread wake-up
      // time (a few hundred µs per task even for raw piscina on a small VM).
      makespan: { threads: [1, 2, 4, 8, 16], tasks: 300, dags: 3, minMs: 4, maxMs: 200 },
      shortMakespan: { threads: [2, 4, 8, 16], tasks: 300, rounds: 5 },
      mainCpu: { tasks: 50_000, rounds: 3 },
      dispatch: { tasks: 50_000, rounds: 5 },
      roundTrip: { rounds: 5, budget: { timeMs: 500, iterations: 200, warmupIterations: 50 } },
      channel: { tasks: 10_000, rounds: 5 },
      speedup: {
        counts: unique([1, 2, 4, 8, 16].filter((t) => t <= cores).concat(cores)),
        repeats: 3,
        exampleCounts: unique([1, 2, 4, 8, 16].filter((t) => t <= cores).concat(cores)),
        exampleRepeats: 3,
        kernel: { limit: 300_000, tasks: kernelTasks },
      },
      scale: {
        sizes: [1_000, 10_000, 100_000, 1_000_000],
        runLimit: 100_000,
        runTasks: 20_000,
        planTimeMs: 1_000,
      },
    };
  if (mode === 'quick')
    return {
      // Two thread counts: one where total work / threads is the bound, one
      // where the critical path is. The tail stops at 80 ms: in a 40-task DAG
      // a 200 ms task would be the whole critical path from 4 threads up.
      makespan: { threads: [2, 8], tasks: 40, dags: 2, minMs: 4, maxMs: 80 },
      shortMakespan: { threads: [2, 8], tasks: 100, rounds: 3 },
      mainCpu: { tasks: 5_000, rounds: 2 },
      dispatch: { tasks: 2_000, rounds: 3 },
      roundTrip: { rounds: 3, budget: { timeMs: 150, iterations: 100, warmupIterations: 20 } },
      channel: { tasks: 1_000, rounds: 3 },
      speedup: {
        counts: unique([1, cores]),
        repeats: 3,
        // The example is most of quick's time: at `cores` threads only (its
        // speedup vs the main thread; vs 1 thread is the kernel's, and the
        // full run's), and as many shards as cores (2 to 8), enough parallel
        // work to use them.
        exampleCounts: [cores],
        exampleRepeats: 2,
        kernel: { limit: 100_000, tasks: kernelTasks },
        shards: Math.min(8, Math.max(2, cores)),
      },
      scale: {
        sizes: [1_000, 10_000, 100_000],
        runLimit: 10_000,
        runTasks: 5_000,
        planTimeMs: 100,
      },
    };
  return {
    makespan: { threads: [1, 4], tasks: 60, dags: 1, minMs: 1, maxMs: 4 },
    shortMakespan: { threads: [2], tasks: 30, rounds: 2 },
    mainCpu: { tasks: 500, rounds: 1 },
    dispatch: { tasks: 1_000, rounds: 2 },
    roundTrip: { rounds: 2, budget: { timeMs: 50, iterations: 30, warmupIterations: 10 } },
    channel: { tasks: 300, rounds: 2 },
    speedup: {
      counts: [1, 2],
      repeats: 2,
      exampleCounts: [1, 2],
      exampleRepeats: 1,
      kernel: { limit: 20_000, tasks: 4 },
      shards: 1,
    },
    scale: { sizes: [1_000, 10_000], runLimit: 1_000, runTasks: 2_000, planTimeMs: 50 },
  };
}
