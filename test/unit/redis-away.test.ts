// When a stopping worker gives up on Redis (see WorkerNode.close): read from
// the client's state alone, on a virtual clock.
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { awayFor } from '../../src/cluster/redis-away.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function watch(client: { status: string }, ms: number) {
  const away = awayFor(client as unknown as Redis, ms);
  let gone = false;
  void away.gone.then(() => {
    gone = true;
  });
  return { away, gone: () => gone };
}

it('is gone once the client has had no connection for the whole span', async () => {
  const client = { status: 'reconnecting' };
  const { away, gone } = watch(client, 2_000);
  await vi.advanceTimersByTimeAsync(2_000);
  expect(gone()).toBe(false);
  await vi.advanceTimersByTimeAsync(500);
  expect(gone()).toBe(true);
  away.stop();
});

it('a connection back within the span starts the count again; a ready client is never gone', async () => {
  const client = { status: 'connecting' };
  const { away, gone } = watch(client, 2_000);
  await vi.advanceTimersByTimeAsync(1_500);
  client.status = 'ready';
  await vi.advanceTimersByTimeAsync(10_000);
  expect(gone()).toBe(false);
  client.status = 'reconnecting';
  await vi.advanceTimersByTimeAsync(1_500);
  expect(gone()).toBe(false);
  await vi.advanceTimersByTimeAsync(1_000);
  expect(gone()).toBe(true);
  away.stop();
});

it('stop ends the watch', async () => {
  const client = { status: 'reconnecting' };
  const { away, gone } = watch(client, 1_000);
  away.stop();
  await vi.advanceTimersByTimeAsync(5_000);
  expect(gone()).toBe(false);
  expect(vi.getTimerCount()).toBe(0);
});
