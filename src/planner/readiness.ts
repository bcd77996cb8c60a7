import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { TaskResult, TaskStatus } from '../results.js';
import { type TaskError, taskError } from '../shared/errors.js';
import { TaskState, type TaskTable } from './task-table.js';
import { evaluateTrigger } from './trigger.js';
import { upstreamSkip } from './upstream.js';

/** What the end of a waiting task's dependencies decides: run it, or skip it and why. */
export type Readiness =
  | { run: true }
  | { run: false; error: TaskError; upstream?: string[] | undefined };

/** Task `i`'s dependencies have all ended: whether its trigger lets it run. */
export function decide(graph: Graph, table: TaskTable, i: number): Readiness {
  const { depStart, depIdx } = graph;
  const statuses: TaskStatus[] = [];
  for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++)
    statuses.push((table.results[depIdx[k] as number] as TaskResult).status);
  const verdict = evaluateTrigger((graph.tasks[i] as TaskSpec).trigger, statuses);
  if (verdict.run) return verdict;
  if (verdict.code === 'ERR_UPSTREAM_FAILED') return skipUpstream(graph, table, i);
  return { run: false, error: taskError(verdict.code, `skipped: ${verdict.reason}`) };
}

/** Skips a task because dependencies failed, naming the tasks whose failure caused it. */
function skipUpstream(graph: Graph, table: TaskTable, i: number): Readiness {
  const { upstream, error } = upstreamSkip(graph, table.results, table.upstream, i);
  return { run: false, error, upstream };
}

/**
 * Counts ended task `p` off its waiting dependents, and hands each one whose
 * fate is now known to `decided`: an `all_success` task at the first
 * dependency that did not succeed, any other once its last one ended.
 */
export function release(
  graph: Graph,
  table: TaskTable,
  p: number,
  decided: (c: number, readiness: Readiness) => void,
): void {
  const { childStart, childIdx } = graph;
  const succeeded = table.results[p]?.status === 'done';
  for (let k = childStart[p] as number; k < (childStart[p + 1] as number); k++) {
    const c = childIdx[k] as number;
    if (table.state(c) !== TaskState.Waiting) continue;
    table.pendingDeps[c] = (table.pendingDeps[c] as number) - 1;
    if (!succeeded && (graph.tasks[c] as TaskSpec).trigger === 'all_success')
      decided(c, skipUpstream(graph, table, c));
    else if (table.pendingDeps[c] === 0) decided(c, decide(graph, table, c));
  }
}
