import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import {
  fixtures,
  markerLines,
  spawnPlanner,
  startWorker,
  type WorkerProcess,
} from './cluster-helpers.js';

// A CA and a certificate for 127.0.0.1 it signed, for this test only (see its README).
const tlsDir = join(fixtures, 'tls');
const tls = {
  cert: join(tlsDir, 'server.crt'),
  key: join(tlsDir, 'server.key'),
  ca: join(tlsDir, 'ca.crt'),
};
// How a Node process is told to trust a private CA (read at its start).
const trust = { NODE_EXTRA_CA_CERTS: tls.ca };

let redis: RedisServer;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start({ tls });
  workers = await Promise.all([
    startWorker(join(fixtures, 'dag.yaml'), redis.url, { env: trust }),
    startWorker(join(fixtures, 'dag.yaml'), redis.url, { env: trust }),
  ]);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

it('runs the diamond on workers through a rediss:// URL (TLS to Redis, the certificate verified)', async () => {
  expect(redis.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+$/);
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-tls-'));
  const args = ['--redis', redis.url, '--no-cache', '--format', 'json'];
  args.push('--context', JSON.stringify({ markers }));
  const run = await spawnPlanner(args, join(fixtures, 'dag.yaml'), trust).exited;
  expect(run.code, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ done: 4 });
  const pids = new Set(workers.map((w) => String(w.pid)));
  for (const id of ['a', 'b', 'c', 'd']) {
    const lines = await markerLines(join(markers, `${id}.runs`));
    expect(lines, id).toHaveLength(1);
    expect(pids.has(lines[0] as string), id).toBe(true);
  }
}, 60_000);

it('refuses at once, coded (exit 2), a Redis whose certificate it cannot verify, running nothing', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-tls-'));
  const args = ['--redis', redis.url, '--no-cache', '--context', JSON.stringify({ markers })];
  const startedAt = performance.now();
  const run = await spawnPlanner(args, join(fixtures, 'dag.yaml')).exited;
  expect(run.code, run.stderr).toBe(2);
  // Said with the certificate's reason. One suite run in 12 exited 1 here: the server's TLS alert,
  // a second error on the refused socket, reached no listener (see GuardedConnector).
  expect(run.stderr, run.stderr).toMatch(/Redis at rediss:\/\/127\.0\.0\.1:\d+/);
  expect(run.stderr, run.stderr).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|could not be reached/);
  // Said at once, not after the 10 s a Redis that never answers is given.
  expect(performance.now() - startedAt).toBeLessThan(8_000);
  expect(await markerLines(join(markers, 'a.runs'))).toEqual([]);
  // A worker that cannot verify it exits 2 the same way.
  await expect(startWorker(join(fixtures, 'dag.yaml'), redis.url)).rejects.toThrow(
    /SELF_SIGNED_CERT_IN_CHAIN/,
  );
}, 60_000);
