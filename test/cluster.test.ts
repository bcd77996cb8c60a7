import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { unpack } from '../dist/src/cluster/job.js';
import { jobId } from '../dist/src/cluster/keys.js';
import { createRuntime } from '../dist/src/index.js';
import { agentpool } from './cli-helpers.js';
import {
  dag,
  dagFile,
  fixtures,
  jobEnd,
  markerLines,
  startWorker,
  type WorkerProcess,
  waitForLines,
  within,
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

describe('a DAG on agentpool workers through Redis', () => {
  it('gives the same results as a local run, structured-clone types included, each task run once', async () => {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const local = createRuntime({ threads: 2, agents: { work } });
    const remote = createRuntime({ redis: redis.url, agents: { work } });
    try {
      const elsewhere = await mkdtemp(join(tmpdir(), 'agentpool-local-'));
      const here = await local.execute(dag, { context: { markers: elsewhere } });
      // b and c wait a little, so each of the two one-thread workers takes one.
      const there = await remote.execute(dag, { context: { markers, sleep: { b: 200, c: 200 } } });
      expect(there.done).toBe(4);
      // Cluster-wide thread ids: two workers' threads are two trace lanes.
      expect(there.tasks.b?.threadId).not.toBe(there.tasks.c?.threadId);
      for (const id of Object.keys(dag)) {
        expect(there.tasks[id]?.output).toEqual(here.tasks[id]?.output);
        const ran = await markerLines(join(markers, `${id}.runs`));
        expect(ran).toHaveLength(1);
        // Each result names the worker process that ran it; local ones name none.
        expect(there.tasks[id]?.worker).toBe(`${hostname()}/${ran[0]}`);
        expect(here.tasks[id]).not.toHaveProperty('worker');
      }
      const d = there.tasks.d?.output as {
        deps: Map<string, string>;
        size: bigint;
        at: Date;
        bytes: Uint8Array;
      };
      expect(d.deps).toBeInstanceOf(Map);
      expect(d.deps.get('b')).toBe('b');
      expect(d.size).toBe(2n ** 40n);
      expect(d.at).toBeInstanceOf(Date);
      expect(d.bytes).toBeInstanceOf(Uint8Array);
      // Both workers announced themselves; stats() counts their threads.
      expect(remote.stats().liveThreads).toBe(2);
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  });

  it("streams a remote task's chunks in order, before its result", async () => {
    const remote = createRuntime({ redis: redis.url, agents: { work } });
    const seen: string[] = [];
    try {
      for await (const item of remote.stream(
        { a: { agent: 'work', prompt: 'a' } },
        {
          events: true,
          context: { chunks: true },
        },
      ))
        seen.push(item.type === 'chunk' ? String(item.chunk) : item.type);
    } finally {
      await remote.close();
    }
    expect(seen).toEqual(['a:0', 'a:1', 'a:2', 'result']);
  });

  it('runs through `agentpool run --redis`, its trace a process per worker named by host', async () => {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const trace = join(markers, 'trace.json');
    const out = await agentpool([
      'run',
      dagFile,
      '--redis',
      redis.url,
      '--run-id',
      'cli-run',
      '--format',
      'json',
      '--trace',
      trace,
      '--context',
      JSON.stringify({ markers, sleep: { b: 200, c: 200 } }),
    ]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const run = JSON.parse(out.stdout) as { runId: string; done: number };
    expect(run).toMatchObject({ runId: 'cli-run', done: 4 });
    type Event = { name: string; ph: string; pid: number; tid: number; args: { name?: string } };
    const events = (JSON.parse(await readFile(trace, 'utf8')) as { traceEvents: Event[] })
      .traceEvents;
    const processes = new Map(
      events.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args.name]),
    );
    // b and c ran on the two workers: each is a process of the trace, named by host and pid.
    const names = workers.map((w) => `agentpool worker ${hostname()}/${w.pid}`).sort();
    expect([...processes.values()].filter((n) => n !== 'agentpool').sort()).toEqual(names);
    for (const id of ['a', 'b', 'c', 'd']) {
      const span = events.find((e) => e.ph === 'X' && e.name === id) as Event;
      const [pid] = await markerLines(join(markers, `${id}.runs`));
      expect(processes.get(span.pid)).toBe(`agentpool worker ${hostname()}/${pid}`);
    }
  });

  it('refuses a run whose agent no live worker has, or has with another hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const changed = join(dir, 'work.js');
    await copyFile(work, changed);
    await writeFile(changed, `${await readFile(changed, 'utf8')}\n// changed\n`);
    const other = createRuntime({
      redis: redis.url,
      agents: { work: changed, other: join(fixtures, 'agents/other.js') },
    });
    try {
      await expect(other.execute(dag)).rejects.toMatchObject({ code: 'ERR_CLUSTER_AGENT_HASH' });
      await expect(other.execute({ x: { agent: 'other', prompt: 'x' } })).rejects.toMatchObject({
        code: 'ERR_CLUSTER_AGENT_MISSING',
      });
    } finally {
      await other.close();
    }
    await writeFile(
      join(dir, 'dag.yaml'),
      'agents: { work: ./work.js }\ntasks: { a: { agent: work } }\n',
    );
    const cli = await agentpool(['run', join(dir, 'dag.yaml'), '--redis', redis.url]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toContain('agent "work" is');
  });

  it('rejects forged jobs: an unregistered agent, and a job naming a module', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const evil = join(dir, 'evil.js');
    const touched = join(dir, 'imported');
    await writeFile(
      evil,
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(touched)}, 'x'); export default () => 'evil';`,
    );
    const connection = { url: redis.url, maxRetriesPerRequest: null };
    const queue = new Queue('attempts', { connection, prefix: 'agentpool' });
    const base = {
      v: 1,
      runId: 'forged',
      taskId: 't',
      hash: 'h',
      attempt: 1,
      replyTo: 'agentpool:replies:00000000-0000-0000-0000-000000000000',
      timeoutMs: 1000,
      timeoutGraceMs: 0,
      limits: {},
      encoding: 'o200k_base',
      countTokens: false,
      body: Buffer.from([]).toString('base64'),
    };
    try {
      await queue.add('t', { ...base, agent: 'evil' }, { jobId: 'forged-1' });
      const end = await jobEnd(queue, 'forged-1');
      expect(end.state).toBe('completed');
      const outcome = unpack((end as { returnvalue: { r: string } }).returnvalue.r) as {
        kind: string;
        reply: { ok: boolean; error: { code: string } };
      };
      expect(outcome).toMatchObject({
        kind: 'replied',
        reply: { ok: false, error: { code: 'ERR_UNKNOWN_AGENT' } },
      });
      await queue.add(
        't',
        { ...base, agent: 'work', module: `file://${evil}` },
        { jobId: 'forged-2' },
      );
      const named = await jobEnd(queue, 'forged-2');
      expect(named).toMatchObject({ state: 'failed' });
      expect((named as { failedReason: string }).failedReason).toMatch(/not what a planner writes/);
      // A pack is checked whole, each attempt on its own: an unknown agent is that attempt's refusal.
      await queue.add('t', { v: 1, pack: [{ ...base, agent: 'evil' }] }, { jobId: 'forged-3' });
      const packed = await jobEnd(queue, 'forged-3');
      expect(packed.state).toBe('completed');
      const [first] = (packed as { returnvalue: { rs: string[] } }).returnvalue.rs;
      expect(unpack(first as string)).toMatchObject({
        kind: 'replied',
        reply: { ok: false, error: { code: 'ERR_UNKNOWN_AGENT' } },
      });
      const smuggled = { ...base, taskId: 'u', agent: 'work', module: `file://${evil}` };
      await queue.add(
        't',
        { v: 1, pack: [{ ...base, agent: 'work' }, smuggled] },
        { jobId: 'forged-4' },
      );
      const refused = await jobEnd(queue, 'forged-4');
      expect(refused).toMatchObject({ state: 'failed' });
      expect((refused as { failedReason: string }).failedReason).toMatch(
        /not what a planner writes: pack\.1/,
      );
      expect(await markerLines(touched)).toEqual([]);
    } finally {
      await queue.close();
    }
  });

  it('cancelling a run stops its attempt on the remote worker', async () => {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const connection = { url: redis.url, maxRetriesPerRequest: null };
    const queue = new Queue('attempts', { connection, prefix: 'agentpool' });
    const remote = createRuntime({ redis: redis.url, agents: { work } });
    const controller = new AbortController();
    try {
      const done = remote.execute(
        { h: { agent: 'work', prompt: 'h' } },
        { runId: 'cancel-run', signal: controller.signal, context: { markers, hangFirst: 'h' } },
      );
      // Each step bounded, failing with where the job and the workers were
      // (one 30 s timeout in 4 full runs, not reproduced in 20 runs since).
      const id = jobId('cancel-run', 'h', 1);
      const seen = async () =>
        `job ${await queue.getJobState(id)}, counts ${JSON.stringify(await queue.getJobCounts())}, workers' stderr: ${workers.map((w) => w.stderr()).join(' | ') || 'none'}`;
      await within(15_000, 'h begins', waitForLines(join(markers, 'h.runs'), 1), seen);
      controller.abort();
      const run = await within(10_000, 'the cancelled run ends', done, seen);
      expect(run.tasks.h?.status).toBe('cancelled');
      // The worker stopped it (its thread was terminated) and BullMQ recorded it so.
      const end = await within(15_000, "h's job ends", jobEnd(queue, id), seen);
      expect(end.state).toBe('completed');
      expect(unpack((end as { returnvalue: { r: string } }).returnvalue.r)).toEqual({
        kind: 'cancelled',
      });
      expect(await markerLines(join(markers, 'h.runs'))).toHaveLength(1);
    } finally {
      await remote.close();
      await queue.close();
    }
  }, 60_000);

  it('a cancel whose published message the worker missed still stops the attempt (the mark is read each beat)', async () => {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const connection = { url: redis.url, maxRetriesPerRequest: null };
    const queue = new Queue('attempts', { connection, prefix: 'agentpool' });
    const client = new Redis(redis.url);
    const remote = createRuntime({ redis: redis.url, agents: { work }, retries: 0 });
    const controller = new AbortController();
    try {
      const done = remote.execute(
        { h: { agent: 'work', prompt: 'h' } },
        { runId: 'mark-run', signal: controller.signal, context: { markers, hangFirst: 'h' } },
      );
      await waitForLines(join(markers, 'h.runs'), 1);
      const id = jobId('mark-run', 'h', 1);
      // The mark the planner writes beside its published message, alone: as
      // if the message had reached no subscriber.
      await client.set(`agentpool:cancelled:${id}`, '1');
      const end = await jobEnd(queue, id);
      expect(end.state).toBe('completed');
      expect(unpack((end as { returnvalue: { r: string } }).returnvalue.r)).toEqual({
        kind: 'cancelled',
      });
      controller.abort();
      const run = await done;
      expect(run.tasks.h?.status).not.toBe('done');
      expect(await markerLines(join(markers, 'h.runs'))).toHaveLength(1);
    } finally {
      await remote.close();
      await queue.close();
      client.disconnect();
    }
  });

  it("holds an agent's concurrency cap across workers, and runs batched fan-outs", async () => {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-cluster-'));
    const remote = createRuntime({
      redis: redis.url,
      agents: { work: { module: work, concurrency: 1 } },
    });
    try {
      const sleep = { b: 200, c: 200 };
      const run = await remote.execute(dag, { context: { markers, spans: true, sleep } });
      expect(run.done).toBe(4);
      // Two workers were free for b and c, but the cap let one run at a time.
      const events = (await markerLines(join(markers, 'spans')))
        .map((line) => line.split(' ').map(Number) as [number, number])
        .sort((x, y) => x[0] - y[0] || x[1] - y[1]);
      let running = 0;
      let peak = 0;
      for (const [, delta] of events) {
        running += delta;
        peak = Math.max(peak, running);
      }
      expect(peak).toBe(1);
      const results = await remote.fanOut('work', ['p0', 'p1', 'p2'], { batch: 2 });
      expect(results.map((r) => [r.status, (r.output as { text: string }).text])).toEqual([
        ['done', 'p0'],
        ['done', 'p1'],
        ['done', 'p2'],
      ]);
    } finally {
      await remote.close();
    }
  });
});
