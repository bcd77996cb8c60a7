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

describe('ThreadPool', () => {
  it('ignores an abort that comes after its attempt settled, even once the slot is reused', async () => {
    const pool = new ThreadPool({
      threads: 1,
      minThreads: 1,
      balance: 'least-busy',
      idleTimeoutMs: 10_000,
      inFlight: 1,
      bridge: new HostBridge({}, () => {}),
    });
    try {
      // Settled attempts, by the start-board slot each held: enough of them
      // that every slot has been used and given back.
      const settled = new Map<number, AttemptHandle>();
      for (let k = 0; k < 50; k++) {
        const filler = message(`filler-${k}`, 'echo');
        const handle = pool.run(filler);
        expect((await handle.reply).ok).toBe(true);
        settled.set(filler.startSlot, handle);
      }
      const nextMessage = message('next', 'sleep', '200');
      const next = pool.run(nextMessage);
      const stale = settled.get(nextMessage.startSlot);
      expect(stale).toBeDefined();
      stale?.abort(); // late: that attempt settled long ago, and its slot is now `next`'s
      expect(await next.reply).toMatchObject({ ok: true, output: { slept: 200 } });
    } finally {
      await pool.close();
    }
  });
});
