import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { RunJournal } from '../dist/src/cluster/journal.js';
import { decodeEntry } from '../dist/src/cluster/run-record.js';
import {
  dagFile,
  leaseGone,
  markerLines,
  spawnPlanner,
  startWorker,
  type WorkerProcess,
  waitForLines,
} from './cluster-helpers.js';

// One planner owns a run at a time. A planner frozen past its lease, whose run
// another planner took over, must stop and write nothing more of it.
let redis: RedisServer;
let client: Redis;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('RunJournal leases', () => {
  it('writes where packed attempts went only under its epoch: once another took the run, its packs are refused', async () => {
    const settings = { url: redis.url, prefix: 'fence-packs' };
    const old = new RunJournal(client, settings, 'planner-old');
    await old.leases.claim('r2', () => {});
    await old.packed('r2', [
      { attemptId: 'a-1', packId: 'p-1', index: 0 },
      { attemptId: 'a-2', packId: 'p-1', index: 1 },
    ]);
    expect(await client.hgetall('fence-packs:journal-packs:r2')).toEqual({
      'a-1': 'p-1 0',
      'a-2': 'p-1 1',
    });
    expect(await client.ttl('fence-packs:journal-packs:r2')).toBeGreaterThan(0);
    // A new planner reads it back as the pack to adopt.
    const other = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      await client.del('fence-packs:lease:r2');
      const owner = new RunJournal(other, settings, 'planner-new');
      await owner.leases.claim('r2');
      expect(await owner.previous('r2', 't', 1, 'a-2')).toEqual({ pack: { id: 'p-1', index: 1 } });
      // The old planner, woken, may not send packs the new owner cannot know of.
      await expect(
        old.packed('r2', [{ attemptId: 'a-3', packId: 'p-2', index: 0 }]),
      ).rejects.toMatchObject({ code: 'ERR_CLUSTER_RUN_LEASED' });
      expect(await client.hexists('fence-packs:journal-packs:r2', 'a-3')).toBe(0);
    } finally {
      other.disconnect();
    }
  });

  it('fences off the writes of a planner whose lapsed lease another took, and tells it once', async () => {
    const settings = { url: redis.url, prefix: 'fence' };
    const old = new RunJournal(client, settings, 'planner-old');
    const lost: string[] = [];
    await old.leases.claim('r1', (error) => lost.push(`${error.code}: ${error.message}`));
    await old.record('r1', 't', 1, 'old-1');
    expect(await client.hget('fence:journal:r1', '["t",1]')).toBe('old-1');
    // Its lease lapses (as it would while the planner is frozen), and another takes the run.
    await client.del('fence:lease:r1');
    const other = new Redis(redis.url, { maxRetriesPerRequest: null });
    try {
      const owner = new RunJournal(other, settings, 'planner-new');
      await owner.leases.claim('r1');
      await owner.record('r1', 't', 2, 'new-2');
      // The old planner wakes: its writes change nothing.
      await old.record('r1', 't', 2, 'old-2');
      await old.end('r1', {
        id: 't',
        agent: 'work',
        status: 'cancelled',
        attempts: 1,
        startedAt: null,
        finishedAt: 0,
        durationMs: 0,
        threadId: null,
        tokens: 0,
        error: { code: 'ERR_CANCELLED', message: 'x' },
      } as never);
      await old.leases.renew();
      expect(await client.hget('fence:journal:r1', '["t",2]')).toBe('new-2');
      expect(await client.hexists('fence:journal-ends:r1', 't')).toBe(0);
      expect(await client.get('fence:lease:r1')).toBe('planner-new');
      expect(lost).toHaveLength(1);
      // The new owner finishes and releases the run: the old planner still writes nothing.
      await owner.leases.release('r1');
      await old.record('r1', 't', 3, 'old-3');
      expect(await client.hexists('fence:journal:r1', '["t",3]')).toBe(0);
      expect(lost[0]).toMatch(
        /^ERR_CLUSTER_RUN_LEASED: run "r1" was taken over by another planner/,
      );
    } finally {
      other.disconnect();
    }
  });

  it('takes its own lease back when it lapsed with no other planner on the run (Redis frozen past it)', async () => {
    const journal = new RunJournal(client, { url: redis.url, prefix: 'fence' }, 'planner-a');
    const lost: unknown[] = [];
    await journal.leases.claim('r2', (error) => lost.push(error));
    await client.del('fence:lease:r2');
    await journal.leases.renew();
    expect(await client.get('fence:lease:r2')).toBe('planner-a');
    await journal.record('r2', 't', 1, 'a-1');
    expect(await client.hget('fence:journal:r2', '["t",1]')).toBe('a-1');
    expect(lost).toEqual([]);
  });
});

it('a planner frozen (SIGSTOP) past its lease while another takes the run over stops when it wakes, writing nothing', async () => {
  const workers: WorkerProcess[] = await Promise.all([
    startWorker(dagFile, redis.url),
    startWorker(dagFile, redis.url),
  ]);
  try {
    const markers = await mkdtemp(join(tmpdir(), 'agentpool-fence-'));
    const args = [
      '--redis',
      redis.url,
      '--run-id',
      'fence-run',
      '--no-cache',
      '--format',
      'json',
      '--context',
      JSON.stringify({ markers, sleep: { b: 3_000 } }),
    ];
    const first = spawnPlanner(args);
    // b is running (3 s) and d waits for it: freeze the planner now.
    await waitForLines(join(markers, 'b.runs'), 1);
    first.child.kill('SIGSTOP');
    await leaseGone(client, 'fence-run');
    // The second planner takes the run over: a (and c, if done) replayed, b adopted, d run.
    const second = await spawnPlanner(args).exited;
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ done: 4, stoppedBy: null });
    const ends = await client.hgetall('agentpool:journal-ends:fence-run');
    // The frozen planner wakes, finds the run taken over, and stops.
    first.child.kill('SIGCONT');
    const woke = await first.exited;
    expect(woke.code, `${woke.stdout}\n${woke.stderr}`).toBe(1);
    const stale = JSON.parse(woke.stdout) as {
      stoppedBy: string;
      tasks: Record<string, { status: string; error?: { code: string } }>;
    };
    expect(stale.stoppedBy).toBe('lease-lost');
    expect(stale.tasks.d).toMatchObject({
      status: 'cancelled',
      error: { code: 'ERR_CLUSTER_RUN_LEASED' },
    });
    expect(woke.stderr).toContain('was taken over by another planner');
    // The journal is the second planner's alone: one done entry per task, none rewritten.
    expect(await client.hgetall('agentpool:journal-ends:fence-run')).toEqual(ends);
    for (const [id, packed] of Object.entries(ends))
      expect((decodeEntry(packed) as { status: string }).status, id).toBe('done');
    expect(Object.keys(ends).sort()).toEqual(['a', 'b', 'c', 'd']);
    for (const id of ['a', 'b', 'c', 'd'])
      expect(await markerLines(join(markers, `${id}.runs`)), id).toHaveLength(1);
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}, 60_000);
