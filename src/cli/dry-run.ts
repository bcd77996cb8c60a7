import type { Graph } from '../dag/graph.js';
import { RankHeap } from '../planner/heap.js';
import { estimateCosts, upwardRanks } from '../planner/rank.js';
import { criticalPath } from './graph-command.js';

function number(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/**
 * The order the planner would hand tasks out in: `threads` threads, each
 * taking the highest-ranked ready task when it frees up, every task taking
 * its estimated cost (its `cost` hint, else one unit). Actual runs follow
 * it until real durations differ from the estimates.
 */
function dispatchOrder(graph: Graph, cost: Float64Array, rank: Float64Array, threads: number) {
  const n = graph.ids.length;
  const waiting = new Int32Array(n);
  const ready = new RankHeap(rank);
  for (let i = 0; i < n; i++) {
    waiting[i] = (graph.depStart[i + 1] as number) - (graph.depStart[i] as number);
    if (waiting[i] === 0) ready.push(i);
  }
  const order: number[] = [];
  // Tasks running, each with the time it ends; few (at most `threads`), so a plain array.
  const running: { task: number; end: number }[] = [];
  let clock = 0;
  while (order.length < n) {
    while (running.length < threads) {
      const task = ready.pop();
      if (task === undefined) break;
      order.push(task);
      running.push({ task, end: clock + (cost[task] as number) });
    }
    if (running.length === 0) break;
    running.sort((a, b) => a.end - b.end || a.task - b.task);
    const done = running.shift() as { task: number; end: number };
    clock = done.end;
    for (
      let k = graph.childStart[done.task] as number;
      k < (graph.childStart[done.task + 1] as number);
      k++
    ) {
      const child = graph.childIdx[k] as number;
      waiting[child] = (waiting[child] as number) - 1;
      if (waiting[child] === 0) ready.push(child);
    }
  }
  return order;
}

/**
 * `run --dry-run`: what a run would do, having run nothing: the dispatch
 * order by critical-path rank and the critical path.
 */
export function dryRunText(file: string, graph: Graph, threads: number, total: number): string {
  const cost = estimateCosts(graph, () => undefined);
  const rank = upwardRanks(graph, cost);
  const hinted = graph.tasks.some((task) => task.cost !== undefined);
  const n = graph.ids.length;
  const selected =
    n === total ? `${n} task${n === 1 ? '' : 's'}` : `${n} of ${total} tasks selected`;
  const lines = [
    `${file}: ok, ${selected}; nothing run (--dry-run)`,
    `Dispatch order (the highest critical-path rank first among ready tasks, on ${threads} thread${threads === 1 ? '' : 's'}):`,
  ];
  const order = dispatchOrder(graph, cost, rank, Math.max(1, threads));
  const width = Math.min(40, Math.max(...order.map((i) => (graph.ids[i] as string).length), 2));
  const agentWidth = Math.min(24, Math.max(...graph.tasks.map((task) => task.agent.length), 5));
  order.forEach((i, k) => {
    const id = graph.ids[i] as string;
    const agent = graph.tasks[i]?.agent ?? '';
    lines.push(
      `  ${String(k + 1).padStart(String(n).length)}  ${id.padEnd(width)}  ${agent.padEnd(agentWidth)}  rank ${number(rank[i] as number)}`,
    );
  });
  const path = [...criticalPath(graph)];
  const length = path.reduce((sum, i) => sum + (cost[i] as number), 0);
  lines.push(
    `Critical path (${path.length} task${path.length === 1 ? '' : 's'}, ${hinted ? `cost ${number(length)} by the cost hints` : 'by task count: no cost hints'}): ${path.map((i) => graph.ids[i]).join(' -> ')}`,
  );
  return `${lines.join('\n')}\n`;
}
