import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { root } from './cli-helpers.js';
import {
  dagFile,
  leaseGone,
  markerLines,
  spawnNode,
  spawnPlanner,
  startWorker,
  type WorkerProcess,
  waitForLines,
  work,
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

it('a planner killed (SIGKILL) mid-run: the same run again finishes it, nothing run twice', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-resume-'));
  const cache = await mkdtemp(join(tmpdir(), 'agentpool-resume-cache-'));
  const args = [
    '--redis',
    redis.url,
    '--run-id',
    'resume-1',
    '--cache-dir',
    cache,
    '--format',
    'json',
    '--context',
    JSON.stringify({ markers, sleep: { d: 8_000 } }),
  ];
  const first = spawnPlanner(args);
  await waitForLines(join(markers, 'd.runs'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  // The killed planner's lease on the run expires (5 s without renewal): polled.
  const client = new Redis(redis.url);
  await leaseGone(client, 'resume-1');
  client.disconnect();
  // a, b and c are in the planner's task cache (written before their `done`);
  // d's job, same run id, same attempt, same job id, is still running on a
  // worker: the new planner adopts it (its add is a no-op) and reads its result.
  const second = await spawnPlanner(args).exited;
  expect(second.stderr).toContain('3 of 4 tasks came from the cache');
  expect(second.code).toBe(0);
  const run = JSON.parse(second.stdout) as { done: number; fromCache: number };
  expect(run).toMatchObject({ done: 4, fromCache: 3 });
  for (const id of ['a', 'b', 'c', 'd'])
    expect(await markerLines(join(markers, `${id}.runs`))).toHaveLength(1);
}, 60_000);

it("a resumed run without the first planner's cache dir replays its cache hits from the journal, not runs them", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-resume-nocache-'));
  const markers = join(dir, 'markers');
  const cache = join(dir, 'cache');
  // a, b and c, cached by an earlier run; d, which waits on them, sleeps (its own context).
  const tasks = `  a: { agent: work, prompt: a }
  b: { agent: work, prompt: b, depends_on: [a] }
  c: { agent: work, prompt: c, depends_on: [a] }
`;
  const head = `agents:\n  work: ${JSON.stringify(work)}\ntasks:\n`;
  const warmFile = join(dir, 'warm.yaml');
  const fullFile = join(dir, 'full.yaml');
  await writeFile(warmFile, head + tasks);
  await writeFile(
    fullFile,
    `${head + tasks}  d: { agent: work, prompt: d, depends_on: [b, c], context: { sleep: { d: 8000 } } }\n`,
  );
  const context = ['--context', JSON.stringify({ markers })];
  const redisArgs = ['--redis', redis.url, '--format', 'json', ...context];
  await mkdir(markers);
  const warm = await spawnPlanner([...redisArgs, '--cache-dir', cache], warmFile).exited;
  expect(warm.code, warm.stderr).toBe(0);
  // The run: a, b and c are hits in its cache, d runs.
  const first = spawnPlanner(
    [...redisArgs, '--run-id', 'resume-2', '--cache-dir', cache],
    fullFile,
  );
  await waitForLines(join(markers, 'd.runs'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  const client = new Redis(redis.url);
  await leaseGone(client, 'resume-2');
  client.disconnect();
  // Taken over from another machine, as it were: no cache at all.
  const second = await spawnPlanner([...redisArgs, '--run-id', 'resume-2', '--no-cache'], fullFile)
    .exited;
  expect(second.code, second.stderr).toBe(0);
  const run = JSON.parse(second.stdout) as {
    done: number;
    tasks: Record<string, { output: { text: string } }>;
  };
  expect(run.done).toBe(4);
  for (const id of ['a', 'b', 'c', 'd']) {
    expect(run.tasks[id]?.output.text).toBe(id);
    // Each ran once in all: a, b and c in the warm run only, d on a worker (adopted).
    expect(await markerLines(join(markers, `${id}.runs`)), id).toHaveLength(1);
  }
  // The replays are journaled as attempts: a third planner would find them too.
  const journal = new Redis(redis.url);
  for (const id of ['a', 'b', 'c'])
    expect(await journal.hexists('agentpool:journal:resume-2', JSON.stringify([id, 1])), id).toBe(
      1,
    );
  journal.disconnect();
}, 60_000);

it('a planner killed while its packs run: the same run again adopts their attempts from the packs, none run twice', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-resume-packs-'));
  const markers = join(dir, 'markers');
  await mkdir(markers);
  // A chain of 200 brings the agent's mean under a millisecond, and keeps it
  // there through a busy machine's hiccups (a chain of 20 did not, 1 suite
  // run in 3: one 8 ms sample among 20 was seen under load); the 30 after
  // it are short by that mean, go out in packs, and each waits 300 ms:
  // ~4.5 s on the two threads.
  const chain = Array.from({ length: 200 }, (_, n) => `w${n}`);
  const fan = Array.from({ length: 30 }, (_, n) => `t${n}`);
  let tasks = '';
  chain.forEach((id, n) => {
    tasks += `  ${id}: { agent: work, prompt: ${id}${n > 0 ? `, depends_on: [w${n - 1}]` : ''} }\n`;
  });
  for (const id of fan) tasks += `  ${id}: { agent: work, prompt: ${id}, depends_on: [w199] }\n`;
  const file = join(dir, 'packs.yaml');
  await writeFile(file, `agents:\n  work: ${JSON.stringify(work)}\ntasks:\n${tasks}`);
  const sleep = Object.fromEntries(fan.map((id) => [id, 300]));
  const args = ['--redis', redis.url, '--run-id', 'resume-packs', '--no-cache', '--format', 'json'];
  args.push('--context', JSON.stringify({ markers, sleep }));
  const first = spawnPlanner(args, file);
  await waitForLines(join(markers, 't0.runs'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  const client = new Redis(redis.url);
  const where = await client.hgetall('agentpool:journal-packs:resume-packs');
  await leaseGone(client, 'resume-packs');
  client.disconnect();
  expect(Object.values(where).filter((p) => p.startsWith('p-')).length).toBeGreaterThan(20);
  const second = await spawnPlanner(args, file).exited;
  expect(second.code, second.stderr).toBe(0);
  const run = JSON.parse(second.stdout) as { done: number };
  expect(run.done).toBe(230);
  for (const id of [...chain, ...fan])
    expect(await markerLines(join(markers, `${id}.runs`)), id).toHaveLength(1);
}, 60_000);

it('a planner killed mid batched fanOut: the same call with the same runId replays the batches that ended and adopts the running ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-resume-fanout-'));
  const markers = join(dir, 'markers');
  await mkdir(markers);
  // 12 prompts in 4 batches of 3 on the two one-thread workers; the last
  // two batches' prompts wait 700 ms each, so they run when the planner dies.
  const sleep = Object.fromEntries([6, 7, 8, 9, 10, 11].map((k) => [`task_${k}`, 700]));
  const script = join(dir, 'fan.mjs');
  await writeFile(
    script,
    `import { createRuntime } from ${JSON.stringify(join(root, 'dist/src/index.js'))};
const runtime = createRuntime({ redis: ${JSON.stringify(redis.url)}, agents: { work: ${JSON.stringify(work)} }, retries: 0 });
const prompts = Array.from({ length: 12 }, (_, k) => 'p' + k);
const results = await runtime.fanOut('work', prompts, { batch: 3, runId: 'fan-resume', context: ${JSON.stringify({ markers, sleep })} });
process.stdout.write(JSON.stringify(results.map((r) => [r.id, r.status, r.output?.text])));
await runtime.close();
`,
  );
  const fanOut = () => spawnNode([script]);
  const first = fanOut();
  await waitForLines(join(markers, 'task_6.runs'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  const client = new Redis(redis.url);
  await leaseGone(client, 'fan-resume');
  client.disconnect();
  const second = await fanOut().exited;
  expect(second.code, second.stderr).toBe(0);
  const results = JSON.parse(second.stdout) as [string, string, string][];
  expect(results).toEqual(Array.from({ length: 12 }, (_, k) => [`task_${k}`, 'done', `p${k}`]));
  for (let k = 0; k < 12; k++)
    expect(await markerLines(join(markers, `task_${k}.runs`)), `task_${k}`).toHaveLength(1);
}, 60_000);
