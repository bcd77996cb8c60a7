import { findCycles } from './cycles.js';
import type { TaskSpec } from './schema.js';

/**
 * A validated DAG in index form: task `i` is `ids[i]`; its dependencies are
 * `depIdx[depStart[i] .. depStart[i+1])` and its dependents likewise in
 * `childIdx`/`childStart` (compressed sparse rows, so a million-task DAG is a
 * handful of typed arrays, not a million small ones). `order` is a
 * topological order: every task comes after all of its dependencies.
 */
export interface Graph<T extends Pick<TaskSpec, 'dependsOn'> = TaskSpec> {
  readonly ids: readonly string[];
  readonly tasks: readonly T[];
  readonly indexOf: ReadonlyMap<string, number>;
  readonly depStart: Int32Array;
  readonly depIdx: Int32Array;
  readonly childStart: Int32Array;
  readonly childIdx: Int32Array;
  readonly order: Int32Array;
}

/**
 * Builds the index form. Dependencies on unknown ids are left out (validation
 * reports them). Returns `cycles` (one per independent cycle, each a path
 * whose first and last ids are equal; see `findCycles`) instead of an order
 * when the graph has any.
 */
export function buildGraph<T extends Pick<TaskSpec, 'dependsOn'>>(
  entries: readonly (readonly [string, T])[],
  /** Id to index, if the caller made it already (it must match `entries`). */
  knownIndex?: Map<string, number>,
): { graph: Graph<T>; cycles?: undefined } | { graph?: undefined; cycles: string[][] } {
  const n = entries.length;
  const ids = entries.map(([id]) => id);
  const tasks = entries.map(([, task]) => task);
  const indexOf = knownIndex ?? indexIds(ids);

  const depStart = new Int32Array(n + 1);
  const childCount = new Int32Array(n + 1);
  const deps: number[] = [];
  for (let i = 0; i < n; i++) {
    depStart[i] = deps.length;
    for (const dep of (tasks[i] as T).dependsOn) {
      const j = indexOf.get(dep);
      if (j === undefined) continue;
      deps.push(j);
      childCount[j] = (childCount[j] as number) + 1;
    }
  }
  depStart[n] = deps.length;
  const depIdx = Int32Array.from(deps);

  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++)
    childStart[i + 1] = (childStart[i] as number) + (childCount[i] as number);
  const fill = childStart.slice(0, n);
  const childIdx = new Int32Array(depIdx.length);
  for (let i = 0; i < n; i++) {
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      const parent = depIdx[k] as number;
      childIdx[fill[parent] as number] = i;
      fill[parent] = (fill[parent] as number) + 1;
    }
  }

  // Kahn's algorithm: whatever never reaches in-degree 0 lies on or behind a cycle.
  const indegree = new Int32Array(n);
  for (let i = 0; i < n; i++) indegree[i] = (depStart[i + 1] as number) - (depStart[i] as number);
  const order = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) if (indegree[i] === 0) order[tail++] = i;
  while (head < tail) {
    const i = order[head++] as number;
    for (let k = childStart[i] as number; k < (childStart[i + 1] as number); k++) {
      const c = childIdx[k] as number;
      indegree[c] = (indegree[c] as number) - 1;
      if (indegree[c] === 0) order[tail++] = c;
    }
  }
  if (tail < n) return { cycles: findCycles(ids, depStart, depIdx, indegree) };
  return { graph: { ids, tasks, indexOf, depStart, depIdx, childStart, childIdx, order } };
}

/**
 * Id to index. One map per plan, shared by validation and the index form:
 * at 1M tasks a second hash table of the ids was a fifth of planning time
 * (measured with --cpu-prof), its lookups cache misses at that size.
 */
export function indexIds(ids: readonly string[]): Map<string, number> {
  const indexOf = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) indexOf.set(ids[i] as string, i);
  return indexOf;
}
