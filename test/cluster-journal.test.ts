import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { createRuntime } from '../dist/src/index.js';
import { root } from './cli-helpers.js';
import {
  dagFile,
  leaseGone,
  markerLines,
  spawnPlanner,
  startWorker,
  type WorkerProcess,
  waitForLines,
} from './cluster-helpers.js';

let redis: RedisServer;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  workers = await Promise.all([startWorker(dagFile, redis.url), startWorker(dagFile, redis.url)]);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

it('planner kill -9 with no cache: a second planner is refused while the lease lives, then takes over from the journal', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-journal-'));
  const args = [
    '--redis',
    redis.url,
    '--run-id',
    'journal-1',
    '--no-cache',
    '--format',
    'json',
    '--context',
    JSON.stringify({ markers, sleep: { d: 8_000 } }),
  ];
  const first = spawnPlanner(args);
  await waitForLines(join(markers, 'd.runs'), 1);
  // The run is owned: the same run id from another planner is refused.
  const refused = await spawnPlanner(args).exited;
  expect(refused.code).not.toBe(0);
  expect(refused.stderr).toContain('is owned by another planner');
  first.child.kill('SIGKILL');
  await first.exited;
  const client = new Redis(redis.url);
  const queue = new Queue('attempts', { connection: { url: redis.url }, prefix: 'agentpool' });
  try {
    // a, b and c are journaled (written before their `done`); with their
    // BullMQ jobs gone too, only the journal can keep them from running again.
    expect(await client.hlen('agentpool:journal:journal-1')).toBe(3);
    await queue.clean(0, 1_000, 'completed');
    // The killed planner's lease expires (5 s without renewal): a signal, polled.
    await leaseGone(client, 'journal-1');
    const second = await spawnPlanner(args).exited;
    expect(second.stderr).not.toContain('ERR_');
    expect(second.code).toBe(0);
    const run = JSON.parse(second.stdout) as { done: number; fromCache: number };
    expect(run).toMatchObject({ done: 4, fromCache: 0 });
    // d's attempt, still running when the first planner died, was adopted.
    for (const id of ['a', 'b', 'c', 'd'])
      expect(await markerLines(join(markers, `${id}.runs`))).toHaveLength(1);
    expect(await client.hlen('agentpool:journal:journal-1')).toBe(4);
    // The run ended: its lease is given up at once.
    expect(await client.exists('agentpool:lease:journal-1')).toBe(0);
  } finally {
    await queue.close();
    client.disconnect();
  }
}, 60_000);

it('refuses, with codes, a second runtime on a leased run id and a host service no live worker offers', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-lease-'));
  const agents = { work: join(root, 'test/fixtures/cluster/agents/work.js') };
  const dag = { x: { agent: 'work', prompt: 'x' } };
  const owner = createRuntime({ redis: redis.url, agents });
  const other = createRuntime({ redis: redis.url, agents });
  const needsHost = createRuntime({ redis: redis.url, agents, host: { lookup: () => 1 } });
  try {
    const running = owner.execute(dag, {
      runId: 'lease-api',
      context: { markers, sleep: { x: 2_000 } },
    });
    await waitForLines(join(markers, 'x.runs'), 1);
    await expect(other.execute(dag, { runId: 'lease-api' })).rejects.toMatchObject({
      code: 'ERR_CLUSTER_RUN_LEASED',
    });
    expect((await running).tasks.x?.status).toBe('done');
    // The owner's run ended and gave its lease up: the same id may run again (replayed).
    const again = await other.execute(dag, { runId: 'lease-api', context: { markers } });
    expect(again.tasks.x?.status).toBe('done');
    expect(await markerLines(join(markers, 'x.runs'))).toHaveLength(1);
    // These workers were started without `--host`.
    await expect(needsHost.execute(dag)).rejects.toMatchObject({
      code: 'ERR_CLUSTER_SERVICE_MISSING',
    });
  } finally {
    await Promise.all([owner.close(), other.close(), needsHost.close()]);
  }
}, 60_000);
