// Every attempt has a deadline from the moment it is handed to a thread
// (issue 11 item 3): a thread that never begins it, or never posts its
// reply, cannot hang a run past timeoutMs + grace. Real threads: these are
// thread behaviours.
import { createRuntime } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

describe('attempt deadlines', () => {
  it('moves an attempt off a thread that spins in a timer a finished task left behind', async () => {
    const runtime = createRuntime({
      threads: 1,
      timeoutMs: 400,
      timeoutGraceMs: 100,
      agents: { spinner: fixture('leave-spinner'), echo: fixture('echo') },
    });
    try {
      const run = await runtime.execute({
        first: { agent: 'spinner', prompt: 'p' },
        next: { agent: 'echo', prompt: 'after', depends_on: ['first'] },
      });
      expectStatus(run.tasks.first, 'done');
      // Never begun on the spinning thread, it ran on its replacement, as its first attempt.
      const next = expectStatus(run.tasks.next, 'done');
      expect(next.attempts).toBe(1);
      expect(next.threadId).not.toBe(run.tasks.first?.threadId);
    } finally {
      await runtime.close();
    }
  });

  it('fails an attempt whose reply never comes (it corked stdout) at its timeout, and the run goes on', async () => {
    const runtime = createRuntime({
      threads: 1,
      retries: 0,
      timeoutMs: 300,
      timeoutGraceMs: 100,
      agents: { cork: fixture('cork'), echo: fixture('echo') },
    });
    try {
      const run = await runtime.execute({
        corked: { agent: 'cork', prompt: 'p' },
        later: { agent: 'echo', prompt: 'x', depends_on: ['corked'], trigger: 'all_done' },
      });
      const corked = expectStatus(run.tasks.corked, 'failed');
      expect(corked.error.code).toBe('ERR_TASK_TIMEOUT');
      expect(corked.error.message).toContain('its reply never came');
      expectStatus(run.tasks.later, 'done');
    } finally {
      await runtime.close();
    }
  });
});
