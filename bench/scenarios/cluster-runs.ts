import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRuntime, type DagInput } from '../../src/index.js';
import { agentpoolWorker, clusterAgents, many, type Proc } from '../lib/cluster-procs.js';
import { lowerBound, randomDag } from '../lib/random-dag.js';
import { type Summary, summarize } from '../lib/stats.js';

export interface DagRow {
  workers: number;
  threads: number;
  tasks: number;
  taskMs: number;
  makespanMs: number;
  boundMs: number;
  ratio: number;
}

/**
 * A seeded DAG of `tasks` waits of `ms` each (dependencies up to 3, at most
 * 100 tasks back, so many are ready at once), run once on each number of
 * worker processes in `workers`, each with `threads` threads, on a key
 * prefix of its own so no other worker takes its jobs.
 */
export async function dagOnWorkers(
  url: string,
  agentsFile: string,
  sizes: { tasks: number; ms: number; workers: number[]; threads: number },
): Promise<DagRow[]> {
  const shape = randomDag({
    tasks: sizes.tasks,
    seed: 14,
    window: 100,
    minMs: sizes.ms,
    maxMs: sizes.ms,
  });
  const dag: DagInput = {};
  shape.ids.forEach((id, i) => {
    dag[id] = {
      agent: 'wait',
      prompt: String(sizes.ms),
      depends_on: (shape.deps[i] as number[]).map((d) => shape.ids[d] as string),
    };
  });
  const rows: DagRow[] = [];
  for (const count of sizes.workers) {
    const prefix = `dag${count}`;
    const procs = await many(count, () =>
      agentpoolWorker(agentsFile, url, { threads: sizes.threads, prefix }),
    );
    const runtime = createRuntime({ redis: { url, prefix }, agents: clusterAgents, retries: 0 });
    try {
      // Warm: every worker's threads load the agent before the timed run.
      await runtime.fanOut(
        'wait',
        Array.from({ length: count * sizes.threads * 2 }, () => '1'),
      );
      const start = performance.now();
      const run = await runtime.execute(dag);
      const makespanMs = performance.now() - start;
      if (run.done !== sizes.tasks)
        throw new Error(`cluster: ${sizes.tasks - run.done} tasks did not finish`);
      const { boundMs } = lowerBound(shape, count * sizes.threads);
      rows.push({
        workers: count,
        threads: sizes.threads,
        tasks: sizes.tasks,
        taskMs: sizes.ms,
        makespanMs,
        boundMs,
        ratio: makespanMs / boundMs,
      });
    } finally {
      await runtime.close();
      await Promise.all(procs.map((p) => p.stop()));
    }
  }
  return rows;
}

async function pidIn(file: string): Promise<number> {
  for (;;) {
    try {
      return Number(await readFile(file, 'utf8'));
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Seconds from a worker's SIGKILL to the end, on another worker, of the
 * task it was running: two workers at default lock and stall settings, a
 * one-task run whose first execution holds its thread (bench/agents/
 * hang-once.ts), the worker under it killed the moment it has begun. No
 * retries: the task runs again because BullMQ finds its job stalled, not
 * by the planner's retry policy. A fresh worker replaces the killed one
 * before the next kill.
 */
export async function recoveries(
  url: string,
  agentsFile: string,
  dir: string,
  count: number,
): Promise<Summary> {
  const start = () => agentpoolWorker(agentsFile, url, { threads: 1, prefix: 'recover' });
  let procs: Proc[] = await many(2, start);
  const runtime = createRuntime({
    redis: { url, prefix: 'recover' },
    agents: clusterAgents,
    retries: 0,
  });
  const seconds: number[] = [];
  try {
    for (let k = 0; k < count; k++) {
      const done = runtime.execute({ [`h${k}`]: { agent: 'hang-once', prompt: dir } });
      const pid = await pidIn(join(dir, `h${k}.pid`));
      const victim = procs.find((p) => p.pid === pid);
      if (victim === undefined) throw new Error(`cluster: pid ${pid} is none of the workers`);
      const killedAt = performance.timeOrigin + performance.now();
      await victim.kill();
      const run = await done;
      const task = run.tasks[`h${k}`];
      if (task?.status !== 'done' || task.output !== 'again')
        throw new Error(`cluster: the killed worker's task ended ${task?.status}`);
      seconds.push((task.finishedAt - killedAt) / 1000);
      procs = [...procs.filter((p) => p !== victim), await start()];
    }
  } finally {
    await runtime.close();
    await Promise.all(procs.map((p) => p.stop()));
  }
  return summarize(seconds);
}
