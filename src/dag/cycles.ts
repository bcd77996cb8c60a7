/**
 * One cycle from each independent knot of a graph Kahn's algorithm could not
 * order: each strongly connected component of the unordered tasks (Tarjan's
 * algorithm, iterative so a 100,000-task cycle does not overflow the stack)
 * that has a loop gives one cycle. Tasks that merely depend on a cycle form
 * no loop of their own and are not reported. Only runs for a DAG that is
 * already rejected, so it may cost a pass over the unordered part.
 *
 * Each cycle is a path whose first and last ids are equal, in run order:
 * `research -> draft -> research` means draft depends on research and
 * research on draft. Cycles come in the order of their first task in the DAG.
 *
 * @param unordered `indegree[i] !== 0` after Kahn's algorithm: `i` is on or behind a cycle.
 */
export function findCycles(
  ids: readonly string[],
  depStart: Int32Array,
  depIdx: Int32Array,
  indegree: Int32Array,
): string[][] {
  const n = ids.length;
  const component = new Int32Array(n).fill(-1);
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const next = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const roots: number[] = [];
  let counter = 0;
  let components = 0;

  for (let start = 0; start < n; start++) {
    if (indegree[start] === 0 || index[start] !== -1) continue;
    const calls = [start];
    index[start] = low[start] = counter++;
    next[start] = depStart[start] as number;
    stack.push(start);
    onStack[start] = 1;
    while (calls.length > 0) {
      const v = calls[calls.length - 1] as number;
      if ((next[v] as number) < (depStart[v + 1] as number)) {
        const w = depIdx[next[v] as number] as number;
        next[v] = (next[v] as number) + 1;
        if (indegree[w] === 0) continue; // ordered: on no cycle
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          next[w] = depStart[w] as number;
          stack.push(w);
          onStack[w] = 1;
          calls.push(w);
        } else if (onStack[w]) {
          low[v] = Math.min(low[v] as number, index[w] as number);
        }
        continue;
      }
      calls.pop();
      const parent = calls[calls.length - 1];
      if (parent !== undefined) low[parent] = Math.min(low[parent] as number, low[v] as number);
      if (low[v] !== index[v]) continue;
      // v roots a component: everything above it on the stack.
      let smallest = v;
      let size = 0;
      for (;;) {
        const w = stack.pop() as number;
        onStack[w] = 0;
        component[w] = components;
        smallest = Math.min(smallest, w);
        size++;
        if (w === v) break;
      }
      if (size > 1 || dependsOn(v, v, depStart, depIdx)) roots.push(smallest);
      components++;
    }
  }
  roots.sort((a, b) => a - b);
  return roots.map((root) => cycleFrom(root, ids, depStart, depIdx, component));
}

function dependsOn(task: number, dep: number, depStart: Int32Array, depIdx: Int32Array): boolean {
  for (let k = depStart[task] as number; k < (depStart[task + 1] as number); k++)
    if (depIdx[k] === dep) return true;
  return false;
}

/**
 * Walks dependency edges from `start` without leaving its component. Every
 * task of a component with a loop has a dependency inside it, so the walk
 * must revisit a task, and the stretch between the two visits is a cycle.
 */
function cycleFrom(
  start: number,
  ids: readonly string[],
  depStart: Int32Array,
  depIdx: Int32Array,
  component: Int32Array,
): string[] {
  const own = component[start];
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let node = start;
  while (!seenAt.has(node)) {
    seenAt.set(node, path.length);
    path.push(node);
    for (let k = depStart[node] as number; k < (depStart[node + 1] as number); k++) {
      const dep = depIdx[k] as number;
      if (component[dep] === own) {
        node = dep;
        break;
      }
    }
  }
  const loop = path.slice(seenAt.get(node));
  return [...loop, node].reverse().map((i) => ids[i] as string);
}
