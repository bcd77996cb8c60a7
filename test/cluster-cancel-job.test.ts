import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { cancelJob } from '../dist/src/cluster/cancel-job.js';

// A planner's cancel of a job, against a real Redis and BullMQ queue.
let redis: RedisServer;
let client: Redis;
let queue: Queue;
const settings = { url: '', prefix: 'cj' };

beforeAll(async () => {
  redis = await RedisServer.start();
  settings.url = redis.url;
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  queue = new Queue('attempts', { connection: client, prefix: 'cj' });
});

afterAll(async () => {
  await queue?.close();
  client?.disconnect();
  await redis?.stop();
});

it('removes a job still waiting, marks it cancelled and tells the workers', async () => {
  const heard: string[] = [];
  const subscriber = new Redis(redis.url);
  try {
    await subscriber.subscribe('cj:cancel');
    subscriber.on('message', (_channel, job) => heard.push(job));
    await queue.add('attempt', {}, { jobId: 'waits' });
    await cancelJob(client, queue, settings, 'waits', 60);
    expect(await queue.getJobState('waits')).toBe('unknown');
    expect(await client.get('cj:cancelled:waits')).toBe('1');
    await expect.poll(() => heard).toEqual(['waits']);
  } finally {
    subscriber.disconnect();
  }
});

it('keeps the end of a job a worker has already finished (a cancel racing its completion)', async () => {
  const worker = new Worker('attempts', async () => ({ kind: 'cancelled' }), {
    connection: { url: redis.url, maxRetriesPerRequest: null },
    prefix: 'cj',
  });
  try {
    await queue.add('attempt', {}, { jobId: 'finished' });
    await expect.poll(() => queue.getJobState('finished')).toBe('completed');
    await cancelJob(client, queue, settings, 'finished', 60);
    expect(await queue.getJobState('finished')).toBe('completed');
  } finally {
    await worker.close();
  }
});
