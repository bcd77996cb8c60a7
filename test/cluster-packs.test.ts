import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { jobId } from '../dist/src/cluster/keys.js';
import { createRuntime, type DagInput } from '../dist/src/index.js';
import {
  dagFile,
  markerLines,
  startWorker,
  type WorkerProcess,
  waitForLines,
  work,
} from './cluster-helpers.js';

let redis: RedisServer;
let workers: WorkerProcess[] = [];

beforeEach(async () => {
  redis = await RedisServer.start();
});

afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  await redis.stop();
});

/** A root task and `width` tasks after it: once the root has replied, its agent is short and they are ready together. */
function fan(width: number, runId = 'fan'): { dag: DagInput; ids: string[] } {
  const ids = Array.from({ length: width }, (_, n) => `t${n}`);
  const dag: DagInput = { root: { agent: 'work', prompt: runId } };
  for (const id of ids) dag[id] = { agent: 'work', prompt: id, depends_on: ['root'] };
  return { dag, ids: ['root', ...ids] };
}

/** Every job BullMQ completed, as [job id, the attempts it carried (their job ids)]. */
async function completedJobs(queue: Queue): Promise<[string, string[]][]> {
  const jobs = await queue.getJobs(['completed'], 0, -1);
  return jobs.map((job) => {
    const data = job.data as { pack?: { runId: string; taskId: string; attempt: number }[] };
    const attempts = data.pack?.map((a) => jobId(a.runId, a.taskId, a.attempt)) ?? [job.id];
    return [job.id as string, attempts as string[]];
  });
}

/** Task ids of run `runId` whose first attempt went out in a pack (the journal's record of where each went). */
async function packedTasks(runId: string, ids: string[]): Promise<string[]> {
  const client = new Redis(redis.url);
  try {
    const where = await client.hgetall(`agentpool:journal-packs:${runId}`);
    return ids.filter((id) => where[jobId(runId, id, 1)]?.startsWith('p-'));
  } finally {
    client.disconnect();
  }
}

/** Marker lines (one pid per execution) of each of `ids`. */
async function executions(markers: string, ids: string[]): Promise<Record<string, string[]>> {
  const lines = await Promise.all(ids.map((id) => markerLines(join(markers, `${id}.runs`))));
  return Object.fromEntries(ids.map((id, n) => [id, lines[n] as string[]]));
}

// A runtime whose `work` agent is known to be short: its mean is per
// runtime, and the first attempt on each thread pays the module's load.
// 200 samples: the mean must stay under 1 ms through a busy machine's
// hiccups (one 8 ms sample among 20 no-ops was seen under load).
async function warmRuntime(options: Record<string, unknown> = {}) {
  const runtime = createRuntime({ redis: redis.url, agents: { work }, ...options });
  const warm = await runtime.execute(fan(200, 'warm').dag);
  expect(warm.done).toBe(201);
  return runtime;
}

describe('short attempts in packs', () => {
  it('runs a wide fan-out in packs, each task once, with the results of a local run', async () => {
    workers = await Promise.all([
      startWorker(dagFile, redis.url, { threads: 2 }),
      startWorker(dagFile, redis.url, { threads: 2 }),
    ]);
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-packs-'));
    const queue = new Queue('attempts', {
      connection: { url: redis.url, maxRetriesPerRequest: null },
      prefix: 'agentpool',
    });
    const remote = await warmRuntime();
    const local = createRuntime({ agents: { work } });
    try {
      const { dag, ids } = fan(200);
      const before = new Set((await completedJobs(queue)).map(([id]) => id));
      const run = await remote.execute(dag, { context: { markers }, runId: 'packed' });
      expect(run.done).toBe(201);
      // Each attempt went out in exactly one job, and most in packs of several.
      const jobs = (await completedJobs(queue)).filter(([id]) => !before.has(id));
      const carried = jobs.flatMap(([, attempts]) => attempts);
      const expected = ids.map((id) => jobId('packed', id, 1));
      expect(carried.sort()).toEqual([...expected].sort());
      expect((await packedTasks('packed', ids)).length).toBeGreaterThan(150);
      const packs = jobs.filter(([id]) => id.startsWith('p-'));
      const packed = packs.reduce((n, [, attempts]) => n + attempts.length, 0);
      expect(packs.length).toBeGreaterThan(1);
      expect(packed).toBeGreaterThan(150);
      for (const [, attempts] of packs) expect(attempts.length).toBeGreaterThan(1);
      // Run once each, on both workers.
      const lines = await executions(markers, ids);
      for (const id of ids) expect(lines[id], id).toHaveLength(1);
      expect(new Set(Object.values(lines).flat()).size).toBe(2);
      const alone = await local.execute(dag, { context: { markers: undefined } });
      for (const id of ids) {
        const task = run.tasks[id];
        expect(task?.status, id).toBe('done');
        expect(task?.output).toEqual(alone.tasks[id]?.output);
        expect(task?.worker).toMatch(/\/\d+$/);
        expect(task?.startedAt).toBeLessThanOrEqual(task?.finishedAt ?? 0);
      }
    } finally {
      await Promise.all([remote.close(), local.close(), queue.close()]);
    }
  });

  it('a worker killed mid-pack: its pack runs again elsewhere, every task ends once', async () => {
    const settings = { threads: 2, lockMs: 1_000, stalledMs: 500 };
    workers = await Promise.all([
      startWorker(dagFile, redis.url, settings),
      startWorker(dagFile, redis.url, settings),
    ]);
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-packs-'));
    const remote = await warmRuntime({ retries: 0 });
    try {
      const { dag, ids } = fan(60);
      // t7 hangs on its first execution, holding its pack on that worker.
      const done = remote.execute(dag, { context: { markers, hangFirst: 't7' }, runId: 'killed' });
      const [pid] = await waitForLines(join(markers, 't7.runs'), 1);
      const victim = workers.find((w) => String(w.pid) === pid);
      expect(victim).toBeDefined();
      victim?.child.kill('SIGKILL');
      await victim?.exited;
      const run = await done;
      expect(await packedTasks('killed', ['t7'])).toEqual(['t7']);
      expect(run.done).toBe(61);
      // No retry: BullMQ's stall recovery ran the same attempt again.
      expect(run.tasks.t7?.attempts).toBe(1);
      const lines = await executions(markers, ids);
      expect(lines.t7).toHaveLength(2);
      expect(lines.t7?.[1]).not.toBe(pid);
      // At least once each; only members of the killed pack ran twice.
      for (const id of ids) expect(lines[id]?.length, id).toBeGreaterThanOrEqual(1);
      for (const id of ids) expect(lines[id]?.length, id).toBeLessThanOrEqual(2);
    } finally {
      await remote.close();
    }
  });

  it('cancelling a run stops packed attempts still queued behind others, none of which begins', async () => {
    workers = [await startWorker(dagFile, redis.url, { threads: 1 })];
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-packs-'));
    const remote = await warmRuntime();
    const controller = new AbortController();
    try {
      // Short by their agent's mean, but each of these waits 300 ms: one
      // thread would take 12 s for all 40.
      const { dag, ids } = fan(40);
      const sleep = Object.fromEntries(ids.slice(1).map((id) => [id, 300]));
      const done = remote.execute(dag, {
        context: { markers, sleep },
        signal: controller.signal,
        runId: 'cancelled',
      });
      await waitForLines(join(markers, 't0.runs'), 1);
      const abortedAt = performance.now();
      controller.abort();
      const run = await done;
      const tookMs = performance.now() - abortedAt;
      expect((await packedTasks('cancelled', ids)).length).toBeGreaterThan(30);
      expect(run.stoppedBy).toBe('signal');
      const lines = await executions(markers, ids);
      const begun = ids.filter((id) => (lines[id]?.length ?? 0) > 0);
      // The root, and the few that had begun on the one thread by then.
      expect(begun.length).toBeLessThan(6);
      expect(tookMs).toBeLessThan(5_000);
      for (const id of ids.slice(1))
        if (!begun.includes(id)) expect(run.tasks[id]?.status, id).toBe('cancelled');
    } finally {
      await remote.close();
    }
  });
});
