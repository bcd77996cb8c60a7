import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { ActiveJobs } from '../dist/src/cluster/active-jobs.js';

// The worker's record of the jobs it runs, against a real Redis: what its
// threads show outside taints the job there, before the effect.
let redis: RedisServer;
let client: Redis;
const settings = { url: '', prefix: 'aj' };
const origin = { runId: 'r', taskId: 't', attempt: 1 };

beforeAll(async () => {
  redis = await RedisServer.start();
  settings.url = redis.url;
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
});

afterAll(async () => {
  client?.disconnect();
  await redis?.stop();
});

describe('ActiveJobs', () => {
  it('taints a job in Redis before a host call of its attempt goes on', async () => {
    const jobs = new ActiveJobs(client, settings);
    const job = jobs.open('job-1', origin, 'aj:replies:x');
    expect(await client.exists('aj:tainted:job-1')).toBe(0);
    await jobs.beforeCall({ ...origin });
    expect(await client.exists('aj:tainted:job-1')).toBe(1);
    expect(await client.ttl('aj:tainted:job-1')).toBeGreaterThan(3_000);
    // Another attempt of the same task is another job: not tainted by this one.
    jobs.open('job-2', { ...origin, attempt: 2 }, 'aj:replies:x');
    expect(await client.exists('aj:tainted:job-2')).toBe(0);
    jobs.close(job, origin);
    expect(jobs.ids()).toEqual(['job-2']);
  });

  it('refuses a host call from an attempt that has ended here, naming the task', async () => {
    const jobs = new ActiveJobs(client, settings);
    const job = jobs.open('job-3', { ...origin, taskId: 'late' }, 'aj:replies:x');
    jobs.close(job, { ...origin, taskId: 'late' });
    await expect(jobs.beforeCall({ ...origin, taskId: 'late' })).rejects.toMatchObject({
      code: 'ERR_HOST_CALL_LATE',
      message: expect.stringContaining('task "late" attempt 1'),
    });
    expect(await client.exists('aj:tainted:job-3')).toBe(0);
  });

  it('forwards an event to the reply stream after its taint, and counts it for the drain', async () => {
    const jobs = new ActiveJobs(client, settings);
    const job = jobs.open('job-4', { ...origin, taskId: 'ev' }, 'aj:replies:ev');
    const drained = jobs.drain(job, 2);
    for (const payload of ['one', 'two'])
      jobs.event({ runId: 'r', taskId: 'ev', attempt: 1, kind: 'chunk', payload });
    await drained;
    await Promise.all(job.writes);
    expect(await client.exists('aj:tainted:job-4')).toBe(1);
    expect(await client.xlen('aj:replies:ev')).toBe(2);
    // An event of an attempt that is not running here is dropped.
    jobs.event({ runId: 'r', taskId: 'gone', attempt: 1, kind: 'chunk', payload: 'x' });
    expect(await client.xlen('aj:replies:ev')).toBe(2);
  });
});
