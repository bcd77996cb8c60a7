// A thread blocked in a native call (issue 11 item 8): Node cannot
// interrupt it, so the library must say so, stop counting it, schedule on
// the other threads and close without waiting for it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from 'agentpool';
import { afterEach, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

it('gives up on a thread stuck in a native call: honest error, scheduling goes on, close() resolves', async () => {
  dir = mkdtempSync(join(tmpdir(), 'agentpool-fifo-'));
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const runtime = createRuntime({
    threads: 1,
    retries: 0,
    timeoutMs: 200,
    timeoutGraceMs: 100,
    agents: { block: fixture('block-native'), echo: fixture('echo') },
  });
  try {
    const run = await runtime.execute({
      stuck: { agent: 'block', prompt: fifo },
      // Its own time limit: on a fresh thread under load, loading the agent
      // alone took over the 200 ms the stuck task gets (failed a loaded run).
      after: {
        agent: 'echo',
        prompt: 'x',
        depends_on: ['stuck'],
        trigger: 'all_done',
        timeoutMs: 30_000,
      },
    });
    const stuck = expectStatus(run.tasks.stuck, 'failed');
    expect(stuck.error.code).toBe('ERR_TASK_TIMEOUT');
    expect(stuck.error.message).toContain('did not stop when terminated');
    expect(stuck.error.message).not.toContain('its thread was terminated');
    // With one thread, the next task still ran: on a new one.
    const after = expectStatus(run.tasks.after, 'done');
    expect(after.threadId).not.toBe(stuck.threadId);
    expect(runtime.stats().stuckThreads).toBe(1);
    await runtime.close();
  } finally {
    // Lets the blocked read return, so the thread (and this test process) can
    // end; from a child process, which cannot block this one.
    spawn('sh', ['-c', 'echo released > "$0"', fifo], { stdio: 'ignore', timeout: 5_000 }).unref();
  }
});
