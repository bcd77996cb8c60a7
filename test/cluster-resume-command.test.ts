import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { decodeEntry, type RunRecord, type TaskEnd } from '../dist/src/cluster/run-record.js';
import { agentpool, cli, root } from './cli-helpers.js';
import {
  dagFile,
  markerLines,
  startWorker,
  type WorkerProcess,
  waitForLines,
  work,
} from './cluster-helpers.js';

let redis: RedisServer;
let client: Redis;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  workers = await Promise.all([startWorker(dagFile, redis.url), startWorker(dagFile, redis.url)]);
});

afterAll(async () => {
  client?.disconnect();
  await Promise.all(workers.map((w) => w.stop()));
  await redis?.stop();
});

/** A run's record and terminal entries, as its journal holds them. */
async function journal(runId: string) {
  const packed = await client.get(`agentpool:journal-run:${runId}`);
  const ends = await client.hgetall(`agentpool:journal-ends:${runId}`);
  return {
    record: packed === null ? undefined : (decodeEntry(packed) as RunRecord),
    ends: Object.fromEntries(
      Object.entries(ends).map(([id, entry]) => [id, decodeEntry(entry) as TaskEnd]),
    ),
  };
}

function planner(args: string[]) {
  const child = spawn(process.execPath, [cli, 'run', dagFile, ...args], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

it('journals the run (DAG, options, agents) and exactly one terminal entry per task, skipped and cached ones included', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-ends-'));
  const cache = await mkdtemp(join(tmpdir(), 'agentpool-ends-cache-'));
  const common = ['--redis', redis.url, '--retries', '0', '--cache-dir', cache, '--format', 'json'];
  const context = { markers, fail: 'b' };
  const first = await agentpool(
    ['run', dagFile, ...common, '--run-id', 'ends-1', '--context', JSON.stringify(context)],
    { cache: true },
  );
  expect(first.code).toBe(1);
  const { record, ends } = await journal('ends-1');
  expect(record).toMatchObject({
    runId: 'ends-1',
    dag: {
      a: { agent: 'work', prompt: 'a' },
      d: { agent: 'work', prompt: 'd', depends_on: ['b', 'c'] },
    },
    options: { context, failFast: false },
    runtime: { retries: { max: 0 }, timeoutMs: 300_000, cache: { dir: cache } },
    agents: { work: { module: pathToFileURL(work).href } },
  });
  expect(Object.keys(record?.dag ?? {}).sort()).toEqual(['a', 'b', 'c', 'd']);
  expect(record?.hashes.work).toMatch(/\S{8}/);
  expect(Object.keys(ends).sort()).toEqual(['a', 'b', 'c', 'd']);
  expect(ends.a).toMatchObject({ status: 'done', attempts: 1, outputIn: 1 });
  expect(ends.a).not.toHaveProperty('output');
  expect(ends.b).toMatchObject({
    status: 'failed',
    attempts: 1,
    error: { code: 'ERR_TASK_FAILED' },
  });
  expect(ends.d).toMatchObject({
    status: 'skipped',
    attempts: 0,
    error: { code: 'ERR_UPSTREAM_FAILED' },
  });
  // Only c and what it needs, same context: both come from the cache, their outputs inline.
  const second = await agentpool(
    [
      'run',
      dagFile,
      ...common,
      '--run-id',
      'ends-2',
      '--only',
      'c',
      '--context',
      JSON.stringify(context),
    ],
    { cache: true },
  );
  expect(second.code).toBe(0);
  const again = await journal('ends-2');
  expect(Object.keys(again.record?.dag ?? {}).sort()).toEqual(['a', 'c']);
  expect(Object.keys(again.ends).sort()).toEqual(['a', 'c']);
  expect(again.ends.a).toMatchObject({ status: 'done', cached: true });
  expect(again.ends.a).not.toHaveProperty('outputIn');
  const output = again.ends.c?.output as { text: string; deps: Map<string, string> };
  expect(output.text).toBe('c');
  expect(output.deps).toEqual(new Map([['a', 'a']]));
  for (const id of ['a', 'c'])
    expect(await markerLines(join(markers, `${id}.runs`))).toHaveLength(1);
}, 60_000);

it('planner kill -9 mid-run: agentpool resume takes the run over from the journal alone, each task run once', async () => {
  const markers = await mkdtemp(join(tmpdir(), 'agentpool-resume-cmd-'));
  const out = join(markers, 'results.json');
  const context = { markers, sleep: { d: 6_000 } };
  const first = planner([
    '--redis',
    redis.url,
    '--run-id',
    'resume-cmd-1',
    '--no-cache',
    '--context',
    JSON.stringify(context),
  ]);
  await waitForLines(join(markers, 'd.runs'), 1);
  first.child.kill('SIGKILL');
  await first.exited;
  // a, b and c ended (journaled), d still runs on a worker; the planner's lease still lives.
  expect(Object.keys((await journal('resume-cmd-1')).ends).sort()).toEqual(['a', 'b', 'c']);
  // No DAG file and no context given: both come from the journal. The lease is waited for.
  const resumed = await agentpool(
    ['resume', 'resume-cmd-1', '--redis', redis.url, '--out', out, '--format', 'json'],
    { timeout: 50_000 },
  );
  expect(resumed.stderr).not.toContain('ERR_');
  expect(resumed.code).toBe(0);
  const results = JSON.parse(await readFile(out, 'utf8')) as {
    runId: string;
    done: number;
    tasks: Record<string, { status: string; output: { text: string } }>;
  };
  expect(results).toMatchObject({ runId: 'resume-cmd-1', done: 4 });
  expect(results.tasks.d?.output.text).toBe('d');
  for (const id of ['a', 'b', 'c', 'd'])
    expect(await markerLines(join(markers, `${id}.runs`))).toHaveLength(1);
  expect(Object.keys((await journal('resume-cmd-1')).ends).sort()).toEqual(['a', 'b', 'c', 'd']);
  expect(await client.exists('agentpool:lease:resume-cmd-1')).toBe(0);
}, 60_000);

it('refuses, coded and exit 2, a run id the journal does not hold and an agent whose code changed', async () => {
  const unknown = await agentpool(['resume', 'no-such-run', '--redis', redis.url]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain('ERR_RESUME_UNKNOWN_RUN');
  expect(unknown.stderr).toContain('"no-such-run"');
  // A run whose agent module is a copy (same bytes, so the workers take it), then edited.
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-changed-'));
  await copyFile(work, join(dir, 'work.js'));
  await writeFile(
    join(dir, 'dag.yaml'),
    'agents:\n  work: ./work.js\ntasks:\n  x: { agent: work, prompt: x }\n',
  );
  const ran = await agentpool([
    'run',
    join(dir, 'dag.yaml'),
    '--redis',
    redis.url,
    '--run-id',
    'changed-1',
  ]);
  expect(ran.code).toBe(0);
  await writeFile(join(dir, 'work.js'), `${await readFile(work, 'utf8')}\n// edited\n`);
  const changed = await agentpool(['resume', 'changed-1', '--redis', redis.url]);
  expect(changed.code).toBe(2);
  expect(changed.stderr).toContain('ERR_RESUME_AGENT_CHANGED');
  expect(changed.stderr).toContain('"changed-1"');
}, 60_000);
