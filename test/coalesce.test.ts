// Short attempts of one agent posted in one turn travel to one thread in one
// message (src/pool/coalescer.ts, workers/worker.ts `runGroup`), and each
// still ends as if it had come alone: its own reply, its own rerun when its
// thread dies under it, never a second run once seen from outside.
import { describe, expect, it } from 'vitest';
import type { ThreadPool } from '../dist/src/pool/thread-pool.js';
import { Gates } from './gates.js';
import { message, pool, run } from './pool-helpers.js';

/** A pool of one thread that groups up to 4 attempts per message. */
const grouping = () => pool(8, 1, true);

/** Warms the gate agent's module on the pool's thread, then posts one short gate attempt per prompt, in one turn. */
async function group(threads: ThreadPool, gates: Gates, prompts: string[]) {
  await run(threads, { ...message('warm', 'gate'), context: { cells: new SharedArrayBuffer(64) } })
    .reply;
  return prompts.map((prompt, k) =>
    run(threads, {
      ...message(`m${k}`, 'gate', prompt),
      context: { cells: gates.cells },
      short: true,
    }),
  );
}

describe('coalesced attempts', () => {
  it('run in order on one thread, each with its own reply, answered together', async () => {
    const threads = grouping();
    const gates = new Gates();
    try {
      const runs = await group(threads, gates, [
        'arrive 1',
        'arrive 2',
        'arrive 3',
        'arrive 4; wait 9',
      ]);
      const settled: string[] = [];
      for (const [k, r] of runs.entries()) void r.reply.then(() => settled.push(`m${k}`));
      await gates.reached(4);
      // One message, one answer: the first three have finished, but their
      // replies travel with the last one's, which waits on the test.
      await new Promise((resolve) => setImmediate(resolve));
      expect(settled).toEqual([]);
      gates.open(9);
      const replies = await Promise.all(runs.map((r) => r.reply));
      expect(replies.map((r) => r.ok && r.output)).toEqual([
        { id: 'm0' },
        { id: 'm1' },
        { id: 'm2' },
        { id: 'm3' },
      ]);
      expect(new Set(replies.map((r) => r.threadId)).size).toBe(1);
      for (let k = 1; k < replies.length; k++)
        expect((replies[k] as { startedAt: number }).startedAt).toBeGreaterThanOrEqual(
          (replies[k - 1] as { finishedAt: number }).finishedAt,
        );
    } finally {
      await threads.close();
    }
  });

  it('hand back unbegun the members after one seen from outside; each runs once', async () => {
    const threads = grouping();
    const gates = new Gates();
    try {
      const runs = await group(threads, gates, ['once 1; emit', 'once 2', 'once 3', 'once 4']);
      const replies = await Promise.all(runs.map((r) => r.reply));
      expect(replies.map((r) => r.ok)).toEqual([true, true, true, true]);
      expect([1, 2, 3, 4].map((n) => gates.read(n))).toEqual([1, 1, 1, 1]);
    } finally {
      await threads.close();
    }
  });

  it('when a member kills the thread: the finished ones run again unseen, the culprit fails alone, the rest run', async () => {
    const threads = grouping();
    const gates = new Gates();
    try {
      const runs = await group(threads, gates, ['once 1', 'once 2; exit', 'once 3']);
      const [before, culprit, after] = await Promise.all(runs.map((r) => r.reply));
      expect(before).toMatchObject({ ok: true, output: { id: 'm0' } });
      expect(culprit).toMatchObject({ ok: false, error: { code: 'ERR_WORKER_CRASHED' } });
      expect(after).toMatchObject({ ok: true, output: { id: 'm2' } });
      // m0's reply was lost with the group's, so it ran again; m2 never began there.
      expect([1, 2, 3].map((n) => gates.read(n))).toEqual([2, 1, 1]);
    } finally {
      await threads.close();
    }
  });

  it("when a member breaches its limit, the thread's end costs the others nothing", async () => {
    const threads = grouping();
    const gates = new Gates();
    try {
      const runs = await group(threads, gates, ['once 1', 'once 2; arrive 0; spin', 'once 3']);
      await gates.reached(0);
      const [first, spinning, last] = runs;
      expect(await spinning?.sub.abort('breach')).toBe('terminated');
      expect(await first?.reply).toMatchObject({ ok: true, output: { id: 'm0' } });
      expect(await last?.reply).toMatchObject({ ok: true, output: { id: 'm2' } });
      expect([1, 2, 3].map((n) => gates.read(n))).toEqual([2, 1, 1]);
    } finally {
      await threads.close();
    }
  });
});
