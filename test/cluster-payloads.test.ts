import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { createRuntime } from '../dist/src/index.js';
import { dag, dagFile, startWorker, type WorkerProcess, work } from './cluster-helpers.js';

// What crosses Redis: a job's input and its reply are each at most 16 MiB
// serialized, refused with a code naming the task; and Redis is reached as
// the URL says, an ACL user and password included.
let redis: RedisServer;
let workers: WorkerProcess[] = [];
const MiB = 2 ** 20;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

describe('cluster payloads and credentials', () => {
  it('fails a task whose input or output is over the job limit ERR_CLUSTER_PAYLOAD_LIMIT, naming it; the rest run', async () => {
    workers = [await startWorker(dagFile, redis.url)];
    const runtime = createRuntime({ redis: redis.url, agents: { work }, retries: 0 });
    try {
      const run = await runtime.execute(
        {
          small: { agent: 'work', prompt: 'small' },
          bigIn: { agent: 'work', prompt: 'x'.repeat(17 * MiB) },
          bigOut: { agent: 'work', prompt: 'out' },
        },
        { context: { bigOutput: { bigOut: 17 * MiB } } },
      );
      expect(run.tasks.small?.status).toBe('done');
      expect(run.tasks.bigIn).toMatchObject({
        status: 'failed',
        error: { code: 'ERR_CLUSTER_PAYLOAD_LIMIT' },
      });
      expect(run.tasks.bigIn?.error?.message).toContain('the input of task "bigIn"');
      expect(run.tasks.bigOut, JSON.stringify(run.tasks.bigOut?.error)).toMatchObject({
        status: 'failed',
        error: { code: 'ERR_CLUSTER_PAYLOAD_LIMIT' },
      });
      expect(run.tasks.bigOut?.error?.message).toContain('the output of task "bigOut"');
    } finally {
      await runtime.close();
      await Promise.all(workers.map((w) => w.stop()));
      workers = [];
    }
  });

  it('reaches Redis as an ACL user with a password, the default user shut out', async () => {
    const admin = new Redis(redis.url);
    const user = `redis://planner:s3cret@127.0.0.1:${redis.port}`;
    try {
      await admin.call('ACL', 'SETUSER', 'planner', 'on', '>s3cret', '~*', '&*', '+@all');
      // From now on only the named user gets in.
      await admin.call('ACL', 'SETUSER', 'default', 'off');
      workers = [await startWorker(dagFile, user), await startWorker(dagFile, user)];
      const runtime = createRuntime({ redis: user, agents: { work } });
      try {
        const run = await runtime.execute(dag);
        expect(run.done).toBe(4);
        for (const id of Object.keys(dag)) expect(run.tasks[id]?.worker).toBeDefined();
      } finally {
        await runtime.close();
      }
      // Without the user, nothing gets in.
      const stranger = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null });
      stranger.on('error', () => {});
      await expect(stranger.ping()).rejects.toThrow(/NOAUTH/);
      stranger.disconnect();
      // A wrong password is said at once, as Redis words it, the password itself never.
      const wrong = createRuntime({
        redis: `redis://planner:wrong-pw@127.0.0.1:${redis.port}`,
        agents: { work },
      });
      const error = await wrong.execute(dag).catch((e: unknown) => e as Error & { code: string });
      await wrong.close();
      expect(error).toMatchObject({ code: 'ERR_CLUSTER_UNREACHABLE' });
      expect((error as Error).message).toContain('refused this client: WRONGPASS');
      expect((error as Error).message).not.toContain('wrong-pw');
      // So is a worker's, which exits instead of retrying in silence.
      const refused = await startWorker(
        dagFile,
        `redis://planner:wrong-pw@127.0.0.1:${redis.port}`,
      ).then(
        () => 'started',
        (e: Error) => e.message,
      );
      expect(refused).toContain('refused this client: WRONGPASS');
      expect(refused).not.toContain('wrong-pw');
    } finally {
      admin.disconnect();
    }
  });
});
