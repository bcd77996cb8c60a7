import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';
import { createRuntime } from '../../src/index.js';
import {
  AGENTS,
  agentpoolWorker,
  bullmqWorker,
  clusterAgents,
  many,
  type Proc,
} from '../lib/cluster-procs.js';
import type { Mode } from '../lib/modes.js';
import { RedisServer } from '../lib/redis-server.js';
import { alternatingRounds, ratioPerRound } from '../lib/rounds.js';
import { cell, median, type Summary, summarize, table } from '../lib/stats.js';
import type { Target } from '../lib/targets.js';
import { type DagRow, dagOnWorkers, recoveries } from './cluster-runs.js';

/** Sizes of the cluster section per mode (kept here, beside what reads them). */
export function clusterSizes(mode: Mode): ClusterSizes {
  if (mode === 'full')
    return {
      workers: 2,
      threads: 4,
      tasks: 10_000,
      rounds: 3,
      roundTrips: 200,
      dag: { tasks: 1_000, ms: 50, workers: [1, 2, 4], threads: 4 },
      recoveries: 3,
    };
  return {
    workers: 2,
    threads: 2,
    tasks: 1_000,
    rounds: 2,
    roundTrips: 50,
    dag: { tasks: 100, ms: 50, workers: [1, 2], threads: 2 },
    recoveries: 1,
  };
}

export interface ClusterSizes {
  /** Worker processes of each kind for the throughput and round-trip rows. */
  workers: number;
  /** Threads per agentpool worker, and jobs at once per raw BullMQ worker. */
  threads: number;
  /** No-op tasks per throughput round. */
  tasks: number;
  rounds: number;
  /** One-task round trips per round. */
  roundTrips: number;
  dag: { tasks: number; ms: number; workers: number[]; threads: number };
  /** Worker kills timed, one after another. */
  recoveries: number;
}

export interface ClusterResult {
  workers: number;
  threads: number;
  tasks: number;
  /** Tasks per second, one per round. */
  throughput: { agentpool: Summary; bullmq: Summary; ratio: Summary };
  /** Median ms of a one-task round trip, one per round. */
  roundTrip: { agentpool: Summary; bullmq: Summary; ratio: Summary };
  dag: DagRow[];
  /** Seconds from a worker's SIGKILL to its task's end on another worker. */
  recoverySeconds: Summary;
}

/** Polls BullMQ's completed count until it reaches `count` (the raw baseline has no reply stream). */
async function completed(queue: Queue, count: number): Promise<void> {
  while ((await queue.getCompletedCount()) < count)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

/**
 * No-op tasks per second and one-task round trips, agentpool on BullMQ
 * against raw BullMQ with the same number of worker processes and jobs in
 * flight per process (agentpool's worker takes one job per thread; its
 * planner sends short attempts such as these in packs, many to a job), rounds
 * alternating. Both kinds of worker stay up throughout, on separate key
 * prefixes: an idle BullMQ worker blocks on Redis and costs nothing.
 */
async function againstBullmq(url: string, agentsFile: string, sizes: ClusterSizes) {
  const procs: Proc[] = [
    ...(await many(sizes.workers, () =>
      agentpoolWorker(agentsFile, url, { threads: sizes.threads, prefix: 'ap' }),
    )),
    ...(await many(sizes.workers, () =>
      bullmqWorker(url, { concurrency: sizes.threads, prefix: 'raw' }),
    )),
  ];
  const runtime = createRuntime({
    redis: { url, prefix: 'ap' },
    agents: clusterAgents,
    retries: 0,
  });
  const connection = { url, maxRetriesPerRequest: null };
  const queue = new Queue('noop', { connection, prefix: 'raw' });
  const events = new QueueEvents('noop', { connection, prefix: 'raw' });
  const blank = Array.from({ length: sizes.tasks }, () => '');
  const one = { t: { agent: 'noop', prompt: '' } };
  try {
    await events.waitUntilReady();
    const contenders = {
      agentpool: {
        many: async () => {
          const results = await runtime.fanOut('noop', blank);
          if (results.some((r) => r.status !== 'done')) throw new Error('cluster: a task failed');
        },
        single: async () => {
          const run = await runtime.execute(one);
          if (run.done !== 1) throw new Error('cluster: the task failed');
        },
      },
      bullmq: {
        many: async () => {
          const before = await queue.getCompletedCount();
          await queue.addBulk(blank.map(() => ({ name: 'noop', data: {} })));
          await completed(queue, before + blank.length);
        },
        single: async () => {
          const job = await queue.add('noop', {});
          await job.waitUntilFinished(events);
        },
      },
    };
    for (const c of Object.values(contenders)) {
      await c.many(); // warm: modules loaded on every thread, connections up
      for (let k = 0; k < 20; k++) await c.single();
    }
    const names = Object.keys(contenders).map((name) => ({ name }));
    const perSecond = await alternatingRounds(names, sizes.rounds, async ({ name }) => {
      const start = performance.now();
      await contenders[name as keyof typeof contenders].many();
      return (blank.length * 1000) / (performance.now() - start);
    });
    const trips = await alternatingRounds(names, sizes.rounds, async ({ name }) => {
      const ms: number[] = [];
      for (let k = 0; k < sizes.roundTrips; k++) {
        const start = performance.now();
        await contenders[name as keyof typeof contenders].single();
        ms.push(performance.now() - start);
      }
      return median(ms);
    });
    const pair = (samples: Map<string, number[]>) => ({
      agentpool: summarize(samples.get('agentpool') as number[]),
      bullmq: summarize(samples.get('bullmq') as number[]),
      ratio: ratioPerRound(samples, 'agentpool', 'bullmq'),
    });
    return { throughput: pair(perSecond), roundTrip: pair(trips) };
  } finally {
    await runtime.close();
    await Promise.all([events.close(), queue.close()]);
    await Promise.all(procs.map((p) => p.stop()));
  }
}

/**
 * The cluster section (issue 14): agentpool's planner dispatching to
 * `agentpool worker` processes through BullMQ on a Redis of its own
 * (loopback, AOF on, as the tests run it): throughput and round trip
 * against raw BullMQ, a DAG of fixed-length waits on 1, 2 and 4 worker
 * processes against its lower bound, and the time a task takes to end on
 * another worker after its worker is killed with SIGKILL (default lock and
 * stall settings).
 */
export async function clusterScenario(
  sizes: ClusterSizes,
): Promise<{ result: ClusterResult; markdown: string }> {
  const redis = await RedisServer.start();
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-bench-cluster-'));
  const agentsFile = join(dir, 'agents.yaml');
  await writeFile(
    agentsFile,
    AGENTS.map((name) => `${name}: ${fileURLToPath(clusterAgents[name] as URL)}\n`).join(''),
  );
  try {
    const head = await againstBullmq(redis.url, agentsFile, sizes);
    const dag = await dagOnWorkers(redis.url, agentsFile, sizes.dag);
    const recoverySeconds = await recoveries(redis.url, agentsFile, dir, sizes.recoveries);
    const result: ClusterResult = {
      workers: sizes.workers,
      threads: sizes.threads,
      tasks: sizes.tasks,
      ...head,
      dag,
      recoverySeconds,
    };
    return { result, markdown: clusterMarkdown(result) };
  } finally {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function clusterMarkdown(r: ClusterResult): string {
  const { throughput: t, roundTrip: rt } = r;
  const head = `### Cluster: agentpool on BullMQ (Redis on loopback, ${r.workers} worker processes of each kind, ${r.threads} threads or jobs at once each)

Rounds alternate; ratios are taken within each round, median (min–max).`;
  const versus = table(
    ['measure', 'agentpool on BullMQ', 'raw BullMQ', 'agentpool ÷ raw'],
    [
      [
        `no-op tasks/s (${r.tasks.toLocaleString('en-US')} at once)`,
        cell(t.agentpool, 0),
        cell(t.bullmq, 0),
        cell(t.ratio),
      ],
      [
        'one task at a time, ms per round trip (median of each round)',
        cell(rt.agentpool),
        cell(rt.bullmq),
        cell(rt.ratio),
      ],
    ],
    ['l', 'r', 'r', 'r'],
  );
  const dag = table(
    ['worker processes', 'threads', 'tasks', 'makespan, ms', 'lower bound, ms', 'makespan ÷ bound'],
    r.dag.map((d) => [
      d.workers,
      d.threads,
      d.tasks,
      d.makespanMs.toFixed(0),
      d.boundMs.toFixed(0),
      d.ratio.toFixed(3),
    ]),
  );
  const recovery = `A worker killed with SIGKILL mid-task (default lock and stall settings): its task ended on another worker **${cell(r.recoverySeconds, 1)} s** after the kill (${r.recoverySeconds.samples.length} kills).`;
  return `${head}\n\n${versus}\n\nA DAG of ${r.dag[0]?.tasks ?? 0} tasks of ${r.dag[0]?.taskMs ?? 0} ms (\`Atomics.wait\`) on a growing number of worker processes; the bound is max(critical path, total work / all threads):\n\n${dag}\n\n${recovery}`;
}

/** Issue 14's targets, from this run's own numbers. */
export function clusterTargets(r: ClusterResult): Target[] {
  const worstDag = r.dag.reduce((a, b) => (b.ratio > a.ratio ? b : a), r.dag[0] as DagRow);
  return [
    {
      target: 'cluster: no-op tasks/s ≥ 0.8× raw BullMQ with the same workers (per-round ratio)',
      measured: cell(r.throughput.ratio),
      value: r.throughput.ratio.median,
      met: r.throughput.ratio.median >= 0.8,
    },
    {
      target: `cluster: ${worstDag.tasks}-task DAG of ${worstDag.taskMs} ms waits ≤ 1.15× its lower bound on ${r.dag.map((d) => d.workers).join(', ')} worker processes`,
      measured: `${worstDag.ratio.toFixed(3)} (worst, on ${worstDag.workers}; ${r.dag.map((d) => d.ratio.toFixed(3)).join(' / ')})`,
      value: worstDag.ratio,
      met: worstDag.ratio <= 1.15,
    },
    {
      target:
        "cluster: a SIGKILLed worker's task ends on another worker within 15 s (default settings)",
      measured: `${cell(r.recoverySeconds, 1)} s`,
      value: r.recoverySeconds.max,
      met: r.recoverySeconds.max <= 15,
    },
  ];
}
