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

function pool(perThread = 1, threads = 1): ThreadPool {
  return new ThreadPool({
    threads,
    minThreads: threads,
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

  it('queues a short attempt on a busy thread behind short ones only, and never a long one', async () => {
    const threads = pool(4, 2);
    try {
      await Promise.all([
        threads.run(message('warm-1', 'sleep', '50')).reply,
        threads.run(message('warm-2', 'sleep', '50')).reply,
      ]);
      const longs = [message('long-1', 'sleep', '200'), message('long-2', 'sleep', '200')];
      const behindLong = { ...message('behind-long', 'echo'), short: true };
      const anotherLong = message('another-long', 'echo');
      const runs = [...longs, behindLong, anotherLong].map((m) => threads.run(m));
      // Both threads hold a long attempt: the rest wait in the queue for an idle thread.
      expect(longs.map((m) => m.threadId)).toEqual([expect.any(Number), expect.any(Number)]);
      expect(behindLong.threadId).toBeUndefined();
      expect(anotherLong.threadId).toBeUndefined();
      await Promise.all(runs.map((run) => run.reply));

      const shorts = ['s1', 's2', 's3', 's4'].map((id) => ({
        ...message(id, 'sleep', '100'),
        short: true,
      }));
      const replies = shorts.map((m) => threads.run(m).reply);
      // Two go to the idle threads, two queue behind them at once.
      expect(shorts.every((m) => m.threadId !== undefined)).toBe(true);
      expect(new Set(shorts.map((m) => m.threadId)).size).toBe(2);
      const done = await Promise.all(replies);
      expect(done.every((reply) => reply.ok)).toBe(true);
    } finally {
      await threads.close();
    }
  });

  it('runs the attempts queued on one thread one after another', async () => {
    const threads = pool(4);
    try {
      await threads.run(message('warm', 'echo')).reply;
      const first = { ...message('first', 'sleep', '100'), short: true };
      const second = { ...message('second', 'sleep', '100'), short: true };
      const replies = [threads.run(first).reply, threads.run(second).reply];
      expect(second.threadId).toBe(first.threadId);
      const [a, b] = await Promise.all(replies);
      expect(a?.ok && b?.ok).toBe(true);
      // One attempt at a time: the second began when the first ended.
      expect(b?.startedAt).toBeGreaterThanOrEqual(a?.finishedAt as number);
    } finally {
      await threads.close();
    }
  });

  it('puts an attempt on deck behind a long one on its thread, and can take it back until it begins', async () => {
    const threads = pool(4, 2);
    try {
      await Promise.all([
        threads.run(message('warm-1', 'sleep', '50')).reply,
        threads.run(message('warm-2', 'sleep', '50')).reply,
      ]);
      const running = message('running', 'sleep', '200');
      const other = message('other', 'sleep', '200');
      const runs = [threads.run(running), threads.run(other)];
      const onDeck = { ...message('on-deck', 'sleep', '10'), behind: running.threadId };
      const takenBack = { ...message('taken-back', 'echo'), behind: other.threadId };
      const deckRun = threads.run(onDeck);
      const takenRun = threads.run(takenBack);
      // Posted to the very threads they follow, though both are busy.
      expect(onDeck.threadId).toBe(running.threadId);
      expect(takenBack.threadId).toBe(other.threadId);
      expect(takenRun.withdraw()).toBe(true);
      expect(takenRun.withdraw()).toBe(false);
      const [first] = await Promise.all(runs.map((run) => run.reply));
      const deck = await deckRun.reply;
      expect(deck).toMatchObject({ ok: true, threadId: running.threadId });
      expect(deck.startedAt).toBeGreaterThanOrEqual(first?.finishedAt as number);
      // Once begun it cannot be taken back; the one taken back never ran.
      expect(deckRun.withdraw()).toBe(false);
      expect((await takenRun.reply).ok).toBe(false);
      expect(threads.probe(takenBack)).toBeUndefined();
      // The thread it was taken back from has room on deck again.
      const again = [message('again-1', 'sleep', '100'), message('again-2', 'sleep', '100')];
      const againRuns = again.map((m) => threads.run(m));
      const next = { ...message('next', 'echo'), behind: other.threadId };
      const nextRun = threads.run(next);
      expect(next.threadId).toBe(other.threadId);
      expect((await nextRun.reply).ok).toBe(true);
      await Promise.all(againRuns.map((run) => run.reply));
    } finally {
      await threads.close();
    }
  });

  it('keeps an attempt for the deck of a thread that cannot take it in the queue for the next idle thread', async () => {
    const threads = pool(4, 1);
    try {
      await threads.run(message('warm', 'sleep', '10')).reply;
      const running = message('running', 'sleep', '100');
      const runningRun = threads.run(running);
      const first = { ...message('first', 'sleep', '10'), behind: running.threadId };
      const second = { ...message('second', 'echo'), behind: running.threadId };
      const replies = [threads.run(first).reply, threads.run(second).reply];
      // One deck per thread: the second waits in the queue instead.
      expect(first.threadId).toBe(running.threadId);
      expect(second.threadId).toBeUndefined();
      expect((await Promise.all(replies)).every((reply) => reply.ok)).toBe(true);
      await runningRun.reply;
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

  /**
   * Posts `first` and then an attempt that exits to one warm thread. The
   * first finishes, but its reply waits for stdout to drain; the next one
   * starts meanwhile and ends the thread: the reply is never sent.
   */
  async function lostReply(threads: ThreadPool, context: Record<string, unknown> = {}) {
    // The module is loaded, so an attempt posted behind another starts at once.
    await threads.run(message('warm', 'log-or-exit')).reply;
    const first = { ...message('first', 'log-or-exit'), context, short: true };
    const exits = { ...message('exits', 'log-or-exit'), context: { exit: true }, short: true };
    const firstRun = threads.run(first);
    const exitRun = threads.run(exits);
    const thread = first.threadId;
    expect(exits.threadId).toBe(thread);
    return { thread, reply: await firstRun.reply, exited: await exitRun.reply };
  }

  it('hands out again an attempt whose reply was lost when its thread died after it finished', async () => {
    const threads = pool(4);
    try {
      const { thread, reply, exited } = await lostReply(threads);
      expect(reply).toMatchObject({ ok: true, output: { taskId: 'first' } });
      expect(reply.threadId).not.toBe(thread);
      expect(exited).toMatchObject({ ok: false, error: { code: 'ERR_WORKER_CRASHED' } });
    } finally {
      await threads.close();
    }
  });

  it('does not run again a finished attempt whose reply was lost, if it was seen from outside', async () => {
    const threads = pool(4);
    try {
      // It sends a chunk: running it again would send it twice.
      const { reply } = await lostReply(threads, { chunk: true });
      expect(reply).toMatchObject({ ok: false, error: { code: 'ERR_WORKER_CRASHED' } });
    } finally {
      await threads.close();
    }
  });

  it('closes though a thread dies while it closes', async () => {
    const threads = pool(4);
    await threads.run(message('warm', 'log-or-exit')).reply;
    const exits = { ...message('exits', 'log-or-exit'), context: { exit: true }, short: true };
    const exitRun = threads.run(exits);
    // piscina's own close waits for a word from every thread, which one that exits never sends.
    await threads.close();
    expect((await exitRun.reply).ok).toBe(false);
  });
});
