import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { liveWorkers } from '../dist/src/cluster/heartbeat.js';
import { createRuntime } from '../dist/src/index.js';
import {
  dag,
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

async function startWorkers(settings: { lockMs?: number; stalledMs?: number } = {}) {
  workers = await Promise.all([
    startWorker(dagFile, redis.url, settings),
    startWorker(dagFile, redis.url, settings),
  ]);
}

afterEach(async () => {
  redis.signal('SIGCONT');
  await Promise.all(workers.map((w) => w.stop()));
  workers = [];
  await redis.stop();
});

/** Runs the diamond; `fault` strikes once task `b` has begun (it then waits 1.5 s). */
async function runThrough(
  fault: () => Promise<void>,
  context: Record<string, unknown> = { sleep: { b: 1_500 } },
) {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-redis-fault-'));
  const runtime = createRuntime({ redis: redis.url, agents: { work } });
  try {
    const done = runtime.execute(dag, { context: { markers, ...context } });
    await waitForLines(join(markers, 'b.runs'), 1);
    await fault();
    const run = await done;
    const runs: Record<string, number> = {};
    for (const id of Object.keys(dag))
      runs[id] = (await markerLines(join(markers, `${id}.runs`))).length;
    return { run, runs };
  } finally {
    await runtime.close();
  }
}

describe('Redis faults during a run', () => {
  it('Redis frozen (SIGSTOP) for less than the lock: the run completes, each task executed once', async () => {
    await startWorkers();
    const { run, runs } = await runThrough(async () => {
      redis.signal('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      redis.signal('SIGCONT');
    });
    expect(run.done).toBe(4);
    expect(runs).toEqual({ a: 1, b: 1, c: 1, d: 1 });
  });

  it('Redis killed (SIGKILL) and restarted on its AOF: the run completes, at least once each', async () => {
    await startWorkers();
    const { run, runs } = await runThrough(() => redis.restart());
    expect(run.done).toBe(4);
    for (const count of Object.values(runs)) {
      expect(count).toBeGreaterThanOrEqual(1);
      // At-least-once: the last second of writes (everysec) may be lost, so one more run at most.
      expect(count).toBeLessThanOrEqual(2);
    }
  });

  it('Redis frozen for longer than the lock: the run completes, b executed at most twice', async () => {
    await startWorkers({ lockMs: 1_000, stalledMs: 500 });
    const { run, runs } = await runThrough(async () => {
      redis.signal('SIGSTOP');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      redis.signal('SIGCONT');
    });
    expect(run.done).toBe(4);
    expect(runs.a).toBe(1);
    expect(runs.b).toBeGreaterThanOrEqual(1);
    expect(runs.b).toBeLessThanOrEqual(2);
  });

  it('a worker that lost its lock (Redis frozen past it) stops its own attempt', async () => {
    await startWorkers({ lockMs: 1_000, stalledMs: 500 });
    // b never ends on its first run: only a stop frees that worker's one thread.
    const { run, runs } = await runThrough(
      async () => {
        redis.signal('SIGSTOP');
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        redis.signal('SIGCONT');
      },
      { hangFirst: 'b' },
    );
    expect(run.done).toBe(4);
    expect(runs.b).toBe(2);
    // Both workers announce their thread free again: the hung first run was stopped.
    const client = new Redis(redis.url);
    try {
      for (;;) {
        const announced = await liveWorkers(client, { url: redis.url, prefix: 'agentpool' });
        if (announced.length === 2 && announced.every((w) => w.free === w.threads)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      client.disconnect();
    }
  });
});
