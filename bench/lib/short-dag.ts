import { type BenchDag, seeded } from './random-dag.js';

/**
 * Issue 10's short-task DAG: 90% of tasks take 2–12 ms, 10% take 40–100 ms
 * (uniform within each band), each task depends on up to 3 of the 20 tasks
 * before it. At these sizes a scheduler's own per-task cost (hand-off,
 * wake-up, bookkeeping) is a visible share of the makespan, which the
 * 4–200 ms DAGs of the makespan scenario hide.
 */
export function shortTaskDag(options: { tasks: number; seed: number }): BenchDag {
  const random = seeded(options.seed);
  const ids: string[] = [];
  const deps: number[][] = [];
  const durations: number[] = [];
  for (let i = 0; i < options.tasks; i++) {
    ids.push(`t${i}`);
    const mine = new Set<number>();
    const count = i === 0 ? 0 : Math.floor(random() * 4);
    for (let k = 0; k < count; k++) mine.add(Math.max(0, i - 1 - Math.floor(random() * 20)));
    deps.push([...mine]);
    durations.push(random() < 0.9 ? 2 + random() * 10 : 40 + random() * 60);
  }
  return { ids, deps, durations };
}
