import { idealListScheduler } from '../lib/list-scheduler.js';
import { lowerBound, randomDag } from '../lib/random-dag.js';
import {
  agentpool,
  agentpoolRuntime,
  fifoReadyQueue,
  levelBarrier,
  pGraph,
  type Scheduler,
  WaitPool,
} from '../lib/schedulers.js';
import { median, spread, table, time } from '../lib/stats.js';

export interface MakespanRow {
  threads: number;
  scheduler: string;
  /** makespan / lower bound, one per DAG (each DAG runs once per scheduler). */
  ratios: number[];
  median: number;
}

export const SCHEDULERS = [
  'agentpool (cost hints)',
  'agentpool (no hints)',
  'agentpool (hints), window 1',
  'ideal list scheduler (raw piscina, true ranks)',
  'ready queue, FIFO',
  'p-graph',
  'level barrier (reference)',
] as const;

/**
 * Makespan against the lower bound on seeded random DAGs with uneven task
 * times, for every scheduler on the same thread count, interleaved so that
 * machine noise hits them all alike. Tasks hold their thread with
 * Atomics.wait, so 16 threads are meaningful on 2 cores.
 */
export async function makespanScenario(options: {
  threads: number[];
  tasks: number;
  dags: number;
  /** Shortest and longest task, ms (see `bench/lib/modes.ts` for why). */
  minMs: number;
  maxMs: number;
}): Promise<{ rows: MakespanRow[]; markdown: string }> {
  const { tasks, minMs, maxMs } = options;
  const dagCount = options.dags;
  const dags = Array.from({ length: dagCount }, (_, k) =>
    randomDag({ tasks, seed: 100 + k, minMs, maxMs }),
  );
  const rows: MakespanRow[] = [];
  for (const threads of options.threads) {
    const pool = new WaitPool(threads);
    const runtime = agentpoolRuntime(threads);
    // One attempt per thread at a time: no decks, the planner hands over every task.
    const single = agentpoolRuntime(threads, 1);
    const schedulers: Record<(typeof SCHEDULERS)[number], Scheduler> = {
      'agentpool (cost hints)': agentpool(runtime, true),
      'agentpool (no hints)': agentpool(runtime, false),
      'agentpool (hints), window 1': agentpool(single, true),
      'ideal list scheduler (raw piscina, true ranks)': idealListScheduler(pool, threads),
      'ready queue, FIFO': fifoReadyQueue(pool, threads),
      'p-graph': pGraph(pool, threads),
      'level barrier (reference)': levelBarrier(pool),
    };
    // Warm both pools (threads started, modules loaded) before timing.
    const warm = randomDag({ tasks: 40, seed: 7, maxMs: 2 });
    for (const scheduler of Object.values(schedulers)) await scheduler(warm);
    const ratios = new Map<string, number[]>(SCHEDULERS.map((name) => [name, []]));
    for (const [k, dag] of dags.entries()) {
      const bound = lowerBound(dag, threads).boundMs;
      // Rotate the order per DAG so no scheduler always runs first.
      const order = SCHEDULERS.map(
        (_, j) => SCHEDULERS[(j + k) % SCHEDULERS.length] as (typeof SCHEDULERS)[number],
      );
      for (const name of order)
        ratios.get(name)?.push((await time(() => schedulers[name](dag))) / bound);
    }
    for (const name of SCHEDULERS) {
      const list = ratios.get(name) as number[];
      rows.push({ threads, scheduler: name, ratios: list, median: median(list) });
    }
    await Promise.all([pool.close(), runtime.close(), single.close()]);
  }
  const markdown = table(
    ['threads', ...SCHEDULERS],
    options.threads.map((threads) => [
      threads,
      ...SCHEDULERS.map((name) => {
        const row = rows.find((r) => r.threads === threads && r.scheduler === name) as MakespanRow;
        return `${row.median.toFixed(3)} (${spread(row.ratios)})`;
      }),
    ]),
  );
  return {
    rows,
    markdown: `### Makespan / lower bound (median and min–max across ${dagCount} DAGs of ${tasks} tasks of ${minMs}–${maxMs} ms, each run once per scheduler; lower is better, 1 is perfect)\n\n${markdown}`,
  };
}
