import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';

/**
 * The time left in a run, from the work left: each unfinished task's
 * expected run time (the mean of its agent's finished attempts so far, or
 * of all of them for an agent not seen yet; scaled by the `cost` hints where
 * the DAG has them), the work divided by the threads, and never less than
 * the longest chain of unfinished tasks (no number of threads runs a chain
 * faster). Undefined until some task has finished: before that nothing is
 * known of how long tasks take.
 */
export class Eta {
  readonly #graph: Graph<TaskSpec>;
  readonly #threads: number;
  readonly #finished: Uint8Array;
  readonly #byAgent = new Map<string, { ms: number; n: number }>();
  readonly #unhinted: number;
  #totalMs = 0;
  #count = 0;

  constructor(graph: Graph<TaskSpec>, threads: number) {
    this.#graph = graph;
    this.#threads = Math.max(1, threads);
    this.#finished = new Uint8Array(graph.ids.length);
    // As the planner ranks them: a task without a hint costs the mean hint.
    const hints = graph.tasks.flatMap((task) => (task.cost && task.cost > 0 ? [task.cost] : []));
    this.#unhinted = hints.length ? hints.reduce((a, b) => a + b, 0) / hints.length : 1;
  }

  /** A task ended; `ranMs` is its last attempt's run time, if it ran. */
  finished(id: string, ranMs: number | undefined): void {
    const i = this.#graph.indexOf.get(id);
    if (i === undefined) return;
    this.#finished[i] = 1;
    if (ranMs === undefined) return;
    const agent = (this.#graph.tasks[i] as TaskSpec).agent;
    const seen = this.#byAgent.get(agent) ?? { ms: 0, n: 0 };
    seen.ms += ranMs / this.#cost(i);
    seen.n++;
    this.#byAgent.set(agent, seen);
    this.#totalMs += ranMs / this.#cost(i);
    this.#count++;
  }

  #cost(i: number): number {
    const cost = (this.#graph.tasks[i] as TaskSpec).cost;
    return typeof cost === 'number' && cost > 0 ? cost : this.#unhinted;
  }

  #expected(i: number): number {
    const seen = this.#byAgent.get((this.#graph.tasks[i] as TaskSpec).agent);
    const mean = seen ? seen.ms / seen.n : this.#totalMs / this.#count;
    return mean * this.#cost(i);
  }

  /** ms left; `running` maps each running task to how long it has run. */
  remainingMs(running: ReadonlyMap<string, number>): number | undefined {
    if (this.#count === 0) return undefined;
    const { order, depStart, depIdx, ids } = this.#graph;
    const chain = new Float64Array(ids.length);
    let work = 0;
    let longest = 0;
    for (const i of order) {
      if (this.#finished[i]) continue;
      const left = Math.max(0, this.#expected(i) - (running.get(ids[i] as string) ?? 0));
      work += left;
      let before = 0;
      for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++)
        before = Math.max(before, chain[depIdx[k] as number] as number);
      chain[i] = before + left;
      longest = Math.max(longest, chain[i] as number);
    }
    return Math.max(work / this.#threads, longest);
  }
}
