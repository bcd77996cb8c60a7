import { describe, expect, it } from 'vitest';
// The built pool: it locates its worker entry (dist/workers/worker.js) from its own URL.
import { HostBridge } from '../dist/src/pool/host-bridge.js';
import { ThreadPool } from '../dist/src/pool/thread-pool.js';
import type { AttemptHandle } from '../src/pool/executor.js';
import type { TaskMessage } from '../src/protocol.js';
import { fixture } from './helpers.js';

function message(taskId: string, agent: string, prompt = ''): TaskMessage {
  return {
    runId: 'pool-test',
    taskId,
    agent,
    module: fixture(agent).href,
    prompt,
    context: {},
    deps: {},
    depStatus: {},
    attempt: 1,
    timeoutMs: 10_000,
    startSlot: -1,
    limits: {},
    encoding: 'o200k_base',
    countTokens: false,
  };
}

function pool(perThread = 1): ThreadPool {
  return new ThreadPool({
    threads: 1,
    minThreads: 1,
    balance: 'least-busy',
    idleTimeoutMs: 10_000,
    inFlight: 4,
    perThread,
    bridge: new HostBridge({}, () => {}),
  });
}

describe('ThreadPool', () => {
  it('ignores an abort that comes after its attempt settled, even once the slot is reused', async () => {
    const threads = pool();
    try {
      // Settled attempts, by the start-board slot each held: enough of them
      // that every slot has been used and given back.
      const settled = new Map<number, AttemptHandle>();
      for (let k = 0; k < 50; k++) {
        const filler = message(`filler-${k}`, 'echo');
        const handle = threads.run(filler);
        expect((await handle.reply).ok).toBe(true);
        settled.set(filler.startSlot, handle);
      }
      const nextMessage = message('next', 'sleep', '200');
      const next = threads.run(nextMessage);
      const stale = settled.get(nextMessage.startSlot);
      expect(stale).toBeDefined();
      stale?.abort(); // late: that attempt settled long ago, and its slot is now `next`'s
      expect(await next.reply).toMatchObject({ ok: true, output: { slept: 200 } });
    } finally {
      await threads.close();
    }
  });

  it('queues a short attempt on a busy thread, behind short ones only, and runs one at a time', async () => {
    const threads = pool(4);
    try {
      await threads.run(message('warm', 'sleep', '1')).reply;
      const long = message('long', 'sleep', '200');
      const behindLong = { ...message('behind-long', 'echo'), short: true };
      const longRun = threads.run(long);
      const behindLongRun = threads.run(behindLong);
      // Handed over at once, or left in the queue for an idle thread:
      expect(long.threadId).toEqual(expect.any(Number));
      expect(behindLong.threadId).toBeUndefined();
      await Promise.all([longRun.reply, behindLongRun.reply]);

      const first = { ...message('first', 'sleep', '100'), short: true };
      const second = { ...message('second', 'sleep', '100'), short: true };
      const replies = [threads.run(first).reply, threads.run(second).reply];
      expect(second.threadId).toBe(first.threadId);
      const [a, b] = await Promise.all(replies);
      expect(a?.ok && b?.ok).toBe(true);
      // One thread, one attempt at a time: the second began when the first ended.
      expect(b?.startedAt).toBeGreaterThanOrEqual(a?.finishedAt as number);
    } finally {
      await threads.close();
    }
  });

  it('hands out again an attempt whose thread was killed before it began', async () => {
    const threads = pool(4);
    try {
      await threads.run(message('warm', 'echo')).reply;
      const stuck = { ...message('stuck', 'spin'), short: true };
      const next = { ...message('next', 'echo'), short: true };
      const stuckRun = threads.run(stuck);
      const nextRun = threads.run(next);
      expect(next.threadId).toBe(stuck.threadId);
      // Wait until the stuck attempt runs, then kill its thread.
      while (threads.probe(stuck) === undefined) await new Promise((r) => setTimeout(r, 5));
      stuckRun.abort();
      const reply = await nextRun.reply;
      expect(reply).toMatchObject({ ok: true, output: { taskId: 'next' } });
      expect(reply.threadId).not.toBe(stuck.threadId);
    } finally {
      await threads.close();
    }
  });
});
