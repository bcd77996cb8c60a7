import { PGraph } from 'p-graph';
import { Piscina } from 'piscina';
import type { DagInput } from '../../src/dag/schema.js';
import { createRuntime, type Runtime } from '../../src/index.js';
import { type BenchDag, levels } from './random-dag.js';

/** A raw piscina pool of `wait` workers: what the baselines schedule onto. */
export class WaitPool {
  readonly #pool: Piscina<number, number>;
  constructor(threads: number) {
    this.#pool = new Piscina({
      filename: new URL('../workers/wait.js', import.meta.url).href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000,
    });
  }
  run(ms: number): Promise<number> {
    return this.#pool.run(ms);
  }
  close(): Promise<void> {
    return this.#pool.close();
  }
}

/** Runs a whole DAG; resolves when every task has run. */
export type Scheduler = (dag: BenchDag) => Promise<void>;

/** The reference executor's algorithm: Kahn levels, each waiting for its slowest task. */
export function levelBarrier(pool: WaitPool): Scheduler {
  return async (dag) => {
    for (const level of levels(dag))
      await Promise.all(level.map((i) => pool.run(dag.durations[i] as number)));
  };
}

/** An event-driven ready queue in FIFO order, at most `threads` tasks in flight. */
export function fifoReadyQueue(pool: WaitPool, threads: number): Scheduler {
  return (dag) =>
    new Promise((resolve, reject) => {
      const n = dag.ids.length;
      const waiting = dag.deps.map((d) => d.length);
      const children: number[][] = dag.ids.map(() => []);
      dag.deps.forEach((deps, i) => {
        for (const d of deps) children[d]?.push(i);
      });
      const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
      let head = 0;
      let running = 0;
      let finished = 0;
      const pump = () => {
        while (running < threads && head < ready.length) {
          const i = ready[head++] as number;
          running++;
          pool.run(dag.durations[i] as number).then(() => {
            running--;
            finished++;
            for (const c of children[i] as number[]) {
              waiting[c] = (waiting[c] as number) - 1;
              if (waiting[c] === 0) ready.push(c);
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

/** p-graph's concurrency-limited ready queue (no priorities given), on the same pool. */
export function pGraph(pool: WaitPool, threads: number): Scheduler {
  return async (dag) => {
    const nodes = Object.fromEntries(dag.ids.map((id) => [id, {}]));
    const edges = dag.deps.flatMap((deps, i) =>
      deps.map((d) => [dag.ids[d], dag.ids[i]] as [string, string]),
    );
    await new PGraph(nodes, edges).run({
      concurrency: threads,
      run: (id: string) =>
        pool.run(dag.durations[Number(id.slice(1))] as number).then(() => undefined),
    });
  };
}

/** The same DAG as agentpool input; `hints` passes each task's duration as its `cost`. */
export function toAgentpoolDag(dag: BenchDag, hints: boolean): DagInput {
  const input: DagInput = {};
  dag.ids.forEach((id, i) => {
    const ms = dag.durations[i] as number;
    input[id] = {
      agent: 'wait',
      prompt: String(ms),
      depends_on: (dag.deps[i] as number[]).map((d) => dag.ids[d] as string),
      ...(hints && { cost: ms }),
    };
  });
  return input;
}

export function agentpoolRuntime(threads: number, inFlightPerThread?: number): Runtime {
  return createRuntime({
    threads,
    retries: 0,
    ...(inFlightPerThread !== undefined && { inFlightPerThread }),
    agents: { wait: new URL('../agents/wait.js', import.meta.url) },
  });
}

/** agentpool's critical-path ready queue. */
export function agentpool(runtime: Runtime, hints: boolean): Scheduler {
  return async (dag) => {
    const run = await runtime.execute(toAgentpoolDag(dag, hints));
    if (run.done !== run.total)
      throw new Error(`agentpool: ${run.total - run.done} tasks did not finish`);
  };
}
