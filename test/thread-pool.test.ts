import { describe, expect, it } from 'vitest';
import type { PoolSubmission } from '../dist/src/pool/submission.js';
import type { ThreadPool } from '../dist/src/pool/thread-pool.js';
import { Gates } from './gates.js';
import { message, pool, run } from './pool-helpers.js';

describe('ThreadPool', () => {
  it('ignores an abort that comes after its attempt settled, even once the slot is reused', async () => {
    const threads = pool();
    try {
      // Settled attempts, by the start-board slot each held: enough of them
      // that every slot has been used and given back.
      const settled = new Map<number, PoolSubmission>();
      for (let k = 0; k < 50; k++) {
        const filler = run(threads, message(`filler-${k}`, 'echo'));
        expect((await filler.reply).ok).toBe(true);
        settled.set(filler.sub.slot, filler.sub);
      }
      const next = run(threads, message('next', 'sleep', '200'));
      const stale = settled.get(next.sub.slot);
      expect(stale).toBeDefined();
      stale?.abort('stop'); // late: that attempt settled long ago, and its slot is now `next`'s
      expect(await next.reply).toMatchObject({ ok: true, output: { slept: 200 } });
    } finally {
      await threads.close();
    }
  });

  it('queues a short attempt on a busy thread behind short ones only, and never a long one', async () => {
    const threads = pool(4, 2);
    try {
      await Promise.all([
        run(threads, message('warm-1', 'sleep', '50')).reply,
        run(threads, message('warm-2', 'sleep', '50')).reply,
      ]);
      const longs = [message('long-1', 'sleep', '200'), message('long-2', 'sleep', '200')];
      const behindLong = { ...message('behind-long', 'echo'), short: true };
      const anotherLong = message('another-long', 'echo');
      const runs = [...longs, behindLong, anotherLong].map((m) => run(threads, m));
      // Both threads hold a long attempt: the rest wait in the queue for an idle thread.
      const where = runs.map((r) => r.sub.threadId);
      expect(where.slice(0, 2)).toEqual([expect.any(Number), expect.any(Number)]);
      expect(where[2]).toBeUndefined();
      expect(where[3]).toBeUndefined();
      await Promise.all(runs.map((run) => run.reply));

      const shorts = ['s1', 's2', 's3', 's4'].map((id) => ({
        ...message(id, 'sleep', '100'),
        short: true,
      }));
      const posted = shorts.map((m) => run(threads, m));
      const replies = posted.map((r) => r.reply);
      // Two go to the idle threads, two queue behind them at once.
      expect(posted.every((r) => r.sub.threadId !== undefined)).toBe(true);
      expect(new Set(posted.map((r) => r.sub.threadId)).size).toBe(2);
      const done = await Promise.all(replies);
      expect(done.every((reply) => reply.ok)).toBe(true);
    } finally {
      await threads.close();
    }
  });

  it('runs the attempts queued on one thread one after another', async () => {
    const threads = pool(4);
    try {
      await run(threads, message('warm', 'echo')).reply;
      const first = { ...message('first', 'sleep', '100'), short: true };
      const second = { ...message('second', 'sleep', '100'), short: true };
      const [firstRun, secondRun] = [run(threads, first), run(threads, second)];
      const replies = [firstRun.reply, secondRun.reply];
      expect(secondRun.sub.threadId).toBe(firstRun.sub.threadId);
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
        run(threads, message('warm-1', 'sleep', '50')).reply,
        run(threads, message('warm-2', 'sleep', '50')).reply,
      ]);
      const running = run(threads, message('running', 'sleep', '200'));
      const other = run(threads, message('other', 'sleep', '200'));
      const runs = [running, other];
      const runningThread = running.sub.threadId;
      const otherThread = other.sub.threadId;
      const deckRun = run(threads, { ...message('on-deck', 'sleep', '10'), behind: runningThread });
      const takenRun = run(threads, { ...message('taken-back', 'echo'), behind: otherThread });
      // Posted to the very threads they follow, though both are busy.
      expect(deckRun.sub.threadId).toBe(runningThread);
      expect(takenRun.sub.threadId).toBe(otherThread);
      expect(takenRun.sub.withdraw()).toBe(true);
      expect(takenRun.sub.withdraw()).toBe(false);
      const [first] = await Promise.all(runs.map((r) => r.reply));
      const deck = await deckRun.reply;
      expect(deck).toMatchObject({ ok: true, threadId: runningThread });
      expect(deck.startedAt).toBeGreaterThanOrEqual(first?.finishedAt as number);
      // Once begun it cannot be taken back; the one taken back never ran.
      expect(deckRun.sub.withdraw()).toBe(false);
      expect(await takenRun.sub.outcome).toEqual({ kind: 'withdrawn' });
      expect(takenRun.sub.probe()).toEqual({ phase: 'gone' });
      // The thread it was taken back from has room on deck again.
      const again = [message('again-1', 'sleep', '100'), message('again-2', 'sleep', '100')];
      const againRuns = again.map((m) => run(threads, m));
      const nextRun = run(threads, { ...message('next', 'echo'), behind: otherThread });
      expect(nextRun.sub.threadId).toBe(otherThread);
      expect((await nextRun.reply).ok).toBe(true);
      await Promise.all(againRuns.map((run) => run.reply));
    } finally {
      await threads.close();
    }
  });

  it('keeps an attempt for the deck of a thread that cannot take it in the queue for the next idle thread', async () => {
    const threads = pool(4, 1);
    try {
      await run(threads, message('warm', 'sleep', '10')).reply;
      const runningRun = run(threads, message('running', 'sleep', '100'));
      const thread = runningRun.sub.threadId;
      const first = run(threads, { ...message('first', 'sleep', '10'), behind: thread });
      const second = run(threads, { ...message('second', 'echo'), behind: thread });
      const replies = [first.reply, second.reply];
      // One deck per thread: the second waits in the queue instead.
      expect(first.sub.threadId).toBe(thread);
      expect(second.sub.threadId).toBeUndefined();
      expect((await Promise.all(replies)).every((reply) => reply.ok)).toBe(true);
      await runningRun.reply;
    } finally {
      await threads.close();
    }
  });

  it('hands out again an attempt whose thread was killed before it began', async () => {
    const threads = pool(4);
    try {
      await run(threads, message('warm', 'echo')).reply;
      const stuckRun = run(threads, { ...message('stuck', 'spin'), short: true });
      const nextRun = run(threads, { ...message('next', 'echo'), short: true });
      const thread = stuckRun.sub.threadId;
      expect(nextRun.sub.threadId).toBe(thread);
      // Wait until the stuck attempt runs, then kill its thread.
      while (stuckRun.sub.probe().phase !== 'running') await new Promise((r) => setTimeout(r, 5));
      stuckRun.sub.abort('stop');
      const reply = await nextRun.reply;
      expect(reply).toMatchObject({ ok: true, output: { taskId: 'next' } });
      expect(reply.threadId).not.toBe(thread);
    } finally {
      await threads.close();
    }
  });

  /**
   * Posts `first` and then an attempt that exits to one warm thread. The
   * first writes to stdout, which piscina waits to drain before it posts a
   * reply; the thread drains it inside the attempt and begins the next one
   * only once that reply is out, so the exit cannot take it along.
   */
  async function behindAnExit(threads: ThreadPool, context: Record<string, unknown> = {}) {
    // The module is loaded, so an attempt posted behind another is queued on its thread.
    await run(threads, message('warm', 'log-or-exit')).reply;
    const first = { ...message('first', 'log-or-exit'), context, short: true };
    const exits = { ...message('exits', 'log-or-exit'), context: { exit: true }, short: true };
    const firstRun = run(threads, first);
    const exitRun = run(threads, exits);
    const thread = firstRun.sub.threadId;
    expect(exitRun.sub.threadId).toBe(thread);
    return { thread, reply: await firstRun.reply, exited: await exitRun.reply };
  }

  it('does not fail an attempt that wrote to stdout for the attempt behind it that ends the thread', async () => {
    const threads = pool(4);
    try {
      // Posted before the exit; the main thread may still hear of the exit
      // first (a loaded machine: the two travel on different ports), and an
      // unseen attempt then runs again elsewhere. Either way it does not
      // fail for the attempt behind it. (A seen one is kept: next tests.)
      const { reply, exited } = await behindAnExit(threads);
      expect(reply).toMatchObject({ ok: true, output: { taskId: 'first' } });
      expect(exited).toMatchObject({ ok: false, error: { code: 'ERR_WORKER_CRASHED' } });
    } finally {
      await threads.close();
    }
  });

  it('keeps the reply of an attempt seen from outside when the attempt behind it ends the thread', async () => {
    const threads = pool(4);
    try {
      // It sends a chunk: had its reply been lost, it could not run again.
      const { reply } = await behindAnExit(threads, { chunk: true });
      expect(reply).toMatchObject({ ok: true, output: { taskId: 'first' } });
    } finally {
      await threads.close();
    }
  });

  it('keeps a seen reply when the main thread learns of the exit behind it before reading the reply', async () => {
    const threads = pool(4);
    try {
      await run(threads, message('warm', 'log-or-exit')).reply;
      const first = { ...message('first', 'log-or-exit'), context: { chunk: true }, short: true };
      const exits = { ...message('exits', 'log-or-exit'), context: { exit: true }, short: true };
      const firstRun = run(threads, first);
      const exitRun = run(threads, exits);
      expect(exitRun.sub.threadId).toBe(firstRun.sub.threadId);
      // The main thread is busy while the first reply is posted: were the
      // exit let happen then, its 'exit' event and the reply would both be
      // pending when it looks, in an order nothing guarantees.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      expect(await firstRun.reply).toMatchObject({ ok: true, output: { taskId: 'first' } });
      expect(await exitRun.reply).toMatchObject({
        ok: false,
        error: { code: 'ERR_WORKER_CRASHED' },
      });
    } finally {
      await threads.close();
    }
  });

  it('begins no attempt behind one whose stdout never drains; they run elsewhere once its thread is ended', async () => {
    const threads = pool(4);
    try {
      const gates = new Gates();
      const context = { cells: gates.cells };
      await run(threads, { ...message('warm', 'gate'), context }).reply;
      const corked = run(threads, { ...message('corked', 'cork', 'p'), context, short: true });
      const behind = run(threads, {
        ...message('behind', 'gate', 'once 2; emit; arrive 0'),
        context,
        short: true,
      });
      const thread = corked.sub.threadId;
      expect(behind.sub.threadId).toBe(thread);
      // The corked agent has returned (cell 5); were the next attempt let
      // begin, it would be at cell 0 within this wait.
      await gates.reached(5);
      Atomics.wait(new Int32Array(gates.cells), 0, 0, 200);
      expect(gates.read(2)).toBe(0);
      await corked.sub.abort('breach');
      // Unbegun when the thread went, so it ran once, elsewhere, and its chunk was sent once.
      const reply = await behind.reply;
      expect(reply).toMatchObject({ ok: true, output: { id: 'behind' } });
      expect(reply.threadId).not.toBe(thread);
      expect(gates.read(2)).toBe(1);
    } finally {
      await threads.close();
    }
  });

  /**
   * Posts a short attempt and behind it, on the same thread, a gate attempt
   * that counts its runs in cell 2 (before it signals the test, so the count
   * is in when the thread is ended) and, the first time only, blocks. The
   * test's own thread blocks until that one has begun, so the first one's
   * reply, posted by then, is not yet read, and aborts the first as at its
   * deadline: the pool ends their thread for the first one's sake.
   */
  async function endedForAnother(threads: ThreadPool, steps: string) {
    const gates = new Gates();
    const context = { cells: gates.cells };
    await run(threads, { ...message('warm', 'gate'), context }).reply;
    const first = run(threads, { ...message('first', 'gate', 'arrive 4'), context, short: true });
    const behind = run(threads, {
      ...message('behind', 'gate', `${steps}; once 2; arrive 0; wait 1`),
      context,
      short: true,
    });
    const thread = first.sub.threadId;
    expect(behind.sub.threadId).toBe(thread);
    expect(Atomics.wait(new Int32Array(gates.cells), 0, 0, 10_000)).not.toBe('timed-out');
    const stopped = first.sub.abort('breach');
    await stopped;
    return { thread, reply: await behind.reply, runs: gates.read(2) };
  }

  it('runs again, at no cost, an attempt that had begun unseen on a thread ended for another', async () => {
    const threads = pool(4);
    try {
      const { thread, reply, runs } = await endedForAnother(threads, 'arrive 3');
      expect(reply).toMatchObject({ ok: true, output: { id: 'behind' } });
      // Its first run ended with the thread; the second, on the replacement, finished.
      expect(runs).toBe(2);
      expect(reply.threadId).not.toBe(thread);
    } finally {
      await threads.close();
    }
  });

  it('fails an attempt that had begun and sent a chunk when its thread is ended for another', async () => {
    const threads = pool(4);
    try {
      // Running it again would send its chunk twice.
      const { reply, runs } = await endedForAnother(threads, 'emit');
      expect(reply).toMatchObject({ ok: false, error: { code: 'ERR_WORKER_CRASHED' } });
      expect(runs).toBe(1);
    } finally {
      await threads.close();
    }
  });

  it('closes though a thread dies while it closes', async () => {
    const threads = pool(4);
    await run(threads, message('warm', 'log-or-exit')).reply;
    const exits = { ...message('exits', 'log-or-exit'), context: { exit: true }, short: true };
    const exitRun = run(threads, exits);
    // piscina's own close waits for a word from every thread, which one that exits never sends.
    await threads.close();
    expect((await exitRun.reply).ok).toBe(false);
  });
});
