import type { Graph } from '../dag/graph.js';
import type { RunResult } from '../results.js';
import type { AttemptRecord } from './recorder.js';

/** How a run used its threads, against the best it could have done. */
export interface RunAnalysis {
  /** From the first attempt's start to the last one's end. */
  makespanMs: number;
  /** From the run's start to its first attempt's start: threads booting, modules loading. */
  startupMs: number;
  threads: number;
  /** Thread time spent running attempts (retries included). */
  busyMs: number;
  /** busy / (threads × makespan). */
  utilization: number;
  /** The chain of tasks with the longest total run time, first to last. */
  criticalPath: string[];
  criticalPathMs: number;
  /** max(critical path, busy / threads): no schedule on these threads could finish sooner. */
  lowerBoundMs: number;
  /** makespan / lower bound (1 is perfect). */
  ratio: number;
}

/** Measures a finished run against its lower bound, using the run times it actually had. */
export function analyze(
  run: RunResult,
  graph: Graph,
  attempts: readonly AttemptRecord[],
  threads: number,
): RunAnalysis {
  const work = new Float64Array(graph.ids.length);
  let busyMs = 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const attempt of attempts) {
    const ms = attempt.finishedAt - attempt.startedAt;
    busyMs += ms;
    const i = graph.indexOf.get(attempt.id);
    if (i !== undefined) work[i] = (work[i] as number) + ms;
    first = Math.min(first, attempt.startedAt);
    last = Math.max(last, attempt.finishedAt);
  }
  const makespanMs = attempts.length === 0 ? 0 : Math.max(0, last - first);
  const startupMs = attempts.length === 0 ? 0 : Math.max(0, first - run.startedAt);

  // Longest path by work: through each task, the heaviest chain of dependencies ending in it.
  const { order, depStart, depIdx } = graph;
  const through = new Float64Array(order.length);
  const via = new Int32Array(order.length).fill(-1);
  let end = -1;
  for (const i of order) {
    let best = 0;
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      const dep = depIdx[k] as number;
      if ((through[dep] as number) > best) {
        best = through[dep] as number;
        via[i] = dep;
      }
    }
    through[i] = best + (work[i] as number);
    if (end === -1 || (through[i] as number) > (through[end] as number)) end = i;
  }
  const criticalPath: string[] = [];
  for (let i = end; i !== -1; i = via[i] as number) criticalPath.unshift(graph.ids[i] as string);
  const criticalPathMs = end === -1 ? 0 : (through[end] as number);
  const lowerBoundMs = Math.max(criticalPathMs, threads > 0 ? busyMs / threads : busyMs);
  return {
    makespanMs,
    startupMs,
    threads,
    busyMs,
    utilization: makespanMs > 0 ? busyMs / (Math.max(threads, 1) * makespanMs) : 0,
    criticalPath,
    criticalPathMs,
    lowerBoundMs,
    ratio: lowerBoundMs > 0 ? makespanMs / lowerBoundMs : 1,
  };
}
