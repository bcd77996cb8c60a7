import type { Graph } from '../dag/graph.js';

/**
 * Estimated cost of each task: its `cost` hint; else, when the DAG gives hints
 * for some tasks, the mean hint (so all estimates share the DAG's unit); else
 * the mean duration observed for its agent; else the mean over all observed
 * agents; else 1, which makes the rank a hop count.
 */
export function estimateCosts(
  graph: Graph,
  observedMs: (agent: string) => number | undefined,
): Float64Array {
  const n = graph.ids.length;
  const cost = new Float64Array(n);
  let hinted = 0;
  let hintSum = 0;
  for (const task of graph.tasks) {
    if (task.cost !== undefined) {
      hinted++;
      hintSum += task.cost;
    }
  }
  if (hinted > 0) {
    const fallback = hintSum / hinted;
    for (let i = 0; i < n; i++) cost[i] = graph.tasks[i]?.cost ?? fallback;
    return cost;
  }
  const byAgent = new Map<string, number | undefined>();
  let observedSum = 0;
  let observedCount = 0;
  for (const task of graph.tasks) {
    if (byAgent.has(task.agent)) continue;
    const ms = observedMs(task.agent);
    byAgent.set(task.agent, ms);
    if (ms !== undefined) {
      observedSum += ms;
      observedCount++;
    }
  }
  const fallback = observedCount > 0 ? observedSum / observedCount : 1;
  for (let i = 0; i < n; i++)
    cost[i] = byAgent.get((graph.tasks[i] as { agent: string }).agent) ?? fallback;
  return cost;
}

/**
 * Critical-path rank of every task: its cost plus the largest rank among its
 * dependents (upward rank), so the task heading the longest remaining chain
 * runs first. `priority` is added on top and does not propagate. O(V + E).
 */
export function upwardRanks(graph: Graph, cost: Float64Array): Float64Array {
  const { order, childStart, childIdx, tasks } = graph;
  const rank = new Float64Array(order.length);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k] as number;
    let longest = 0;
    for (let c = childStart[i] as number; c < (childStart[i + 1] as number); c++) {
      const child = rank[childIdx[c] as number] as number;
      if (child > longest) longest = child;
    }
    rank[i] = (cost[i] as number) + longest;
  }
  // Priorities are added after the pass so they shift one task, not its ancestors.
  for (let i = 0; i < rank.length; i++) rank[i] = (rank[i] as number) + (tasks[i]?.priority ?? 0);
  return rank;
}
