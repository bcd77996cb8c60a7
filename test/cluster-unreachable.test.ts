import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { freePort, RedisServer } from '../bench/lib/redis-server.js';
import { createRuntime } from '../dist/src/index.js';
import { agentpool } from './cli-helpers.js';
import { dag, dagFile, startWorker, work } from './cluster-helpers.js';

// A Redis that never answers (nothing listens on the port): the run is
// refused, coded, after the connect timeout (10 s), naming the URL without
// its password; nothing hangs (it did: the executor's close after the
// timeout waited for a connection forever), and the CLI exits 2.
it('refuses a run when Redis does not answer, ERR_CLUSTER_UNREACHABLE, the password redacted', async () => {
  const port = await freePort();
  const url = `redis://planner:s3cret@127.0.0.1:${port}`;
  const runtime = createRuntime({ redis: url, agents: { work } });
  const [api, cli] = await Promise.all([
    runtime.execute(dag).then(
      () => undefined,
      (error: unknown) => error as { code?: string; message: string },
    ),
    agentpool(['run', dagFile, '--redis', url], { timeout: 25_000 }),
  ]);
  expect(api?.code).toBe('ERR_CLUSTER_UNREACHABLE');
  expect(api?.message).toContain(`127.0.0.1:${port}`);
  expect(api?.message).toContain('did not answer within 10 s');
  expect(api?.message).not.toContain('s3cret');
  await runtime.close();
  expect(cli.signal).toBeNull();
  expect(cli.code).toBe(2);
  expect(cli.stderr).toContain(`127.0.0.1:${port} did not answer within 10 s`);
  expect(cli.stderr).not.toContain('s3cret');
}, 40_000);

// A stopping worker hands back what ran on it through Redis; with Redis
// gone, it waited for it forever (seen: workers left behind by a test run
// that had stopped its Redis ignored SIGTERM).
it('a worker told to stop while its Redis is gone stops after a lock’s length, exit 1, saying why', async () => {
  const redis = await RedisServer.start();
  const worker = await startWorker(dagFile, redis.url, { lockMs: 2_000 });
  await redis.stop();
  worker.child.kill('SIGTERM');
  const stopped = await Promise.race([worker.exited.then(() => true), sleep(20_000)]);
  if (!stopped) worker.child.kill('SIGKILL');
  expect(stopped, worker.stderr()).toBe(true);
  expect(worker.child.exitCode, worker.stderr()).toBe(1);
  expect(worker.stderr()).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable: stopped/);
}, 30_000);
