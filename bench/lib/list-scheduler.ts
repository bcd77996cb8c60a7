import type { BenchDag } from './random-dag.js';
import type { Scheduler, WaitPool } from './schedulers.js';

/**
 * The true upward rank of every task: its own duration plus the longest
 * chain of durations below it (dependencies always point to earlier tasks,
 * so one backward pass is a topological order).
 */
export function trueRanks(dag: BenchDag): Float64Array {
  const n = dag.ids.length;
  const rank = new Float64Array(n);
  // best[i]: the longest chain below task i, filled in as its dependents are visited.
  const best = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    const mine = (dag.durations[i] as number) + (best[i] as number);
    rank[i] = mine;
    for (const d of dag.deps[i] as number[]) if (mine > (best[d] as number)) best[d] = mine;
  }
  return rank;
}

/**
 * The ideal list scheduler, the makespan baseline of issue 10: raw piscina
 * driven by a ready queue ordered by the true critical-path ranks (from the
 * known durations, which agentpool only gets as cost hints), at most
 * `threads` tasks in flight, the next task posted the moment one ends. No
 * validation, no events, no retries: what an event-driven critical-path
 * scheduler costs at its cheapest.
 */
export function idealListScheduler(pool: WaitPool, threads: number): Scheduler {
  return (dag) =>
    new Promise((resolve, reject) => {
      const n = dag.ids.length;
      const rank = trueRanks(dag);
      const waiting = dag.deps.map((d) => d.length);
      const children: number[][] = dag.ids.map(() => []);
      dag.deps.forEach((deps, i) => {
        for (const d of deps) children[d]?.push(i);
      });
      // A binary max-heap on rank.
      const heap: number[] = [];
      const above = (a: number, b: number) => (rank[a] as number) > (rank[b] as number);
      const push = (i: number) => {
        let k = heap.push(i) - 1;
        while (k > 0) {
          const p = (k - 1) >> 1;
          if (!above(heap[k] as number, heap[p] as number)) break;
          [heap[k], heap[p]] = [heap[p] as number, heap[k] as number];
          k = p;
        }
      };
      const pop = () => {
        const top = heap[0] as number;
        const last = heap.pop() as number;
        if (heap.length > 0) {
          heap[0] = last;
          for (let k = 0; ; ) {
            const l = 2 * k + 1;
            const r = l + 1;
            let m = k;
            if (l < heap.length && above(heap[l] as number, heap[m] as number)) m = l;
            if (r < heap.length && above(heap[r] as number, heap[m] as number)) m = r;
            if (m === k) break;
            [heap[k], heap[m]] = [heap[m] as number, heap[k] as number];
            k = m;
          }
        }
        return top;
      };
      for (let i = 0; i < n; i++) if (waiting[i] === 0) push(i);
      let running = 0;
      let finished = 0;
      const pump = () => {
        while (running < threads && heap.length > 0) {
          const i = pop();
          running++;
          pool.run(dag.durations[i] as number).then(() => {
            running--;
            finished++;
            for (const c of children[i] as number[]) {
              waiting[c] = (waiting[c] as number) - 1;
              if (waiting[c] === 0) push(c);
            }
            if (finished === n) resolve();
            else pump();
          }, reject);
        }
      };
      if (n === 0) resolve();
      else pump();
    });
}
