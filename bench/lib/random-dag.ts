/** A DAG for scheduling benchmarks: task i depends on tasks in `deps[i]`, all earlier. */
export interface BenchDag {
  ids: string[];
  deps: number[][];
  /** Run time of each task, in ms. */
  durations: number[];
}

/** Small, fast, seeded PRNG (mulberry32), so every scheduler sees the same DAGs. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random DAG with uneven task times: durations follow a capped Pareto
 * distribution (most tasks short, a few long: the heavy tail that makes
 * level barriers wait), dependencies reach at most `window` tasks back.
 */
export function randomDag(options: {
  tasks: number;
  seed: number;
  window?: number;
  maxDeps?: number;
  minMs?: number;
  maxMs?: number;
}): BenchDag {
  const { tasks, seed, window = 24, maxDeps = 3, minMs = 1, maxMs = 60 } = options;
  const random = seeded(seed);
  const ids: string[] = [];
  const deps: number[][] = [];
  const durations: number[] = [];
  for (let i = 0; i < tasks; i++) {
    ids.push(`t${i}`);
    const mine = new Set<number>();
    const count = i === 0 ? 0 : Math.floor(random() * (maxDeps + 1));
    for (let k = 0; k < count; k++) mine.add(Math.max(0, i - 1 - Math.floor(random() * window)));
    deps.push([...mine]);
    // Pareto with shape 1.3, scaled to start at minMs, capped at maxMs.
    durations.push(Math.min(maxMs, minMs / (1 - random()) ** (1 / 1.3)));
  }
  return { ids, deps, durations };
}

/**
 * The best any schedule on `threads` threads could do:
 * max(critical path, total work / threads).
 */
export function lowerBound(
  dag: BenchDag,
  threads: number,
): { criticalPathMs: number; workMs: number; boundMs: number } {
  const finish = new Float64Array(dag.ids.length);
  let criticalPathMs = 0;
  let workMs = 0;
  for (let i = 0; i < dag.ids.length; i++) {
    let ready = 0;
    for (const d of dag.deps[i] as number[]) ready = Math.max(ready, finish[d] as number);
    const duration = dag.durations[i] as number;
    finish[i] = ready + duration;
    criticalPathMs = Math.max(criticalPathMs, finish[i] as number);
    workMs += duration;
  }
  return { criticalPathMs, workMs, boundMs: Math.max(criticalPathMs, workMs / threads) };
}

/** Kahn levels: what a level-by-level executor runs together. */
export function levels(dag: BenchDag): number[][] {
  const level = new Int32Array(dag.ids.length);
  const out: number[][] = [];
  for (let i = 0; i < dag.ids.length; i++) {
    let l = 0;
    for (const d of dag.deps[i] as number[]) l = Math.max(l, (level[d] as number) + 1);
    level[i] = l;
    const group = out[l] ?? [];
    out[l] = group;
    group.push(i);
  }
  return out;
}
