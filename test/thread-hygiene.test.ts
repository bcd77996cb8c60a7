import { createRuntime, type DagInput } from 'agentpool';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

// What one task leaves on its thread must not reach the next task there.
describe('a thread after a misbehaving task', () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  beforeEach(() => {
    warnings.length = 0;
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });
  const strays = () =>
    warnings.filter((w) => (w as { code?: string }).code === 'AGENTPOOL_STRAY_ERROR');

  it.each([
    ['a timer that throws', 'throw'],
    ['an async timer callback that rejects', 'reject'],
  ])('blames %s after its task ended on that task, not on the one running', async (_, how) => {
    const runtime = createRuntime({
      threads: 1,
      retries: 0,
      agents: {
        late: fixture('late-after-mark'),
        mark: fixture('mark'),
        sleep: fixture('sleep'),
      },
    });
    try {
      // a's callback throws once b has begun on the only thread (a has ended by then).
      const run = await runtime.execute({
        a: { agent: 'late', prompt: how },
        b: { agent: 'mark', prompt: '50', depends_on: ['a'] },
        c: { agent: 'sleep', prompt: '1', depends_on: ['b'] },
      });
      expectStatus(run.tasks.a, 'done');
      const b = expectStatus(run.tasks.b, 'done');
      expect(b.attempts).toBe(1);
      expectStatus(run.tasks.c, 'done');
      // The thread went on.
      expect(run.tasks.c?.threadId).toBe(b.threadId);
      // Reported when it happens, which can be after the run's result: on a
      // loaded machine the re-arming timer may fire only once c is running.
      await vi.waitFor(() => expect(runtime.stats().strayErrors).toBe(1), { timeout: 10_000 });
      await vi.waitFor(() => expect(strays()).toHaveLength(1));
      expect(strays()[0]?.message).toContain('task "a" left a callback behind that threw');
    } finally {
      await runtime.close();
    }
  });

  it.each(['atomics', 'math', 'elu', 'immediate', 'pollute'])(
    'puts back builtins a task replaced (%s): later tasks, budgets and limits work',
    async (what) => {
      const runtime = createRuntime({
        threads: 1,
        retries: 0,
        runTokens: 1_000_000,
        limits: { tokens: 100_000, cpuMs: 60_000 },
        agents: { tamper: fixture('tamper') },
      });
      try {
        const dag: DagInput = {
          bad: { agent: 'tamper', context: { what } },
          probe1: { agent: 'tamper', depends_on: ['bad'] },
          probe2: { agent: 'tamper', depends_on: ['probe1'] },
        };
        const run = await runtime.execute(dag);
        expectStatus(run.tasks.bad, 'done');
        for (const probe of ['probe1', 'probe2']) {
          const task = expectStatus(run.tasks[probe], 'done');
          expect(task.output).toEqual({ round: 2, polluted: false, timers: 'object' });
          expect(task.threadId).toBe(run.tasks.bad?.threadId);
        }
        expect(strays()[0]?.message).toContain('task "bad" replaced builtins');
        // And the next run on that thread too.
        const again = await runtime.execute({ p: { agent: 'tamper' } });
        expectStatus(again.tasks.p, 'done');
      } finally {
        await runtime.close();
      }
    },
  );

  it('ends a thread whose builtins cannot be put back, and runs the rest on a new one', async () => {
    const runtime = createRuntime({
      threads: 1,
      retries: 0,
      agents: { tamper: fixture('tamper') },
    });
    try {
      const run = await runtime.execute({
        bad: { agent: 'tamper', context: { what: 'for-good' } },
        probe: { agent: 'tamper', depends_on: ['bad'], trigger: 'all_done' },
      });
      const bad = expectStatus(run.tasks.bad, 'failed');
      expect(bad.error.code).toBe('ERR_WORKER_CRASHED');
      const probe = expectStatus(run.tasks.probe, 'done');
      expect(probe.output).toEqual({ round: 2, polluted: false, timers: 'object' });
      expect(probe.threadId).not.toBe(bad.threadId);
      expect(strays()[0]?.message).toContain('cannot be restored');
    } finally {
      await runtime.close();
    }
  });
});
