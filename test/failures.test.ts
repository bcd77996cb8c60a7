import { createRuntime, type Runtime, type TaskEvent } from 'agentpool';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Gates } from './gates.js';
import { expectStatus, fixture, maxOverlap } from './helpers.js';

describe('failures stay with their task', () => {
  let runtime: Runtime;
  const events: TaskEvent[] = [];
  beforeAll(() => {
    runtime = createRuntime({
      threads: 2,
      retries: { max: 1, backoffMs: 20, jitter: false },
      timeoutGraceMs: 100,
      agents: {
        sleep: fixture('sleep'),
        flaky: fixture('flaky'),
        fail: fixture('fail'),
        spin: fixture('spin'),
        gate: fixture('gate'),
        patient: fixture('wait-signal'),
        exit: fixture('exit'),
        escape: fixture('escape'),
        uncloneable: fixture('uncloneable'),
        noDefault: fixture('no-default'),
        badHandler: fixture('bad-handler'),
        missing: fixture('does-not-exist'),
      },
    });
    runtime.on('task', (event) => {
      events.push(event);
    });
  });
  afterAll(() => runtime.close());

  it('retries with exponential backoff and records the attempts', async () => {
    const run = await runtime.execute(
      { flaky: { agent: 'flaky', retries: { max: 3, backoffMs: 40, factor: 2, jitter: false } } },
      { context: { succeedOn: 3 }, runId: 'retry-run' },
    );
    const flaky = expectStatus(run.tasks.flaky, 'done');
    expect(flaky.attempts).toBe(3);
    expect(flaky.output).toEqual({ attempt: 3 });
    const mine = events.filter((e) => e.runId === 'retry-run');
    expect(mine.map((e) => e.type)).toEqual([
      'queued',
      'started',
      'retry',
      'started',
      'retry',
      'started',
      'done',
    ]);
    const retries = mine.filter((e) => e.type === 'retry');
    expect(retries.map((e) => e.delayMs)).toEqual([40, 80]);
    expect(retries[0]?.error.message).toContain('attempt 1 fails');
    // Each retry started no sooner than its backoff allowed.
    const starts = mine.filter((e) => e.type === 'started').map((e) => e.at);
    expect((starts[1] as number) - (retries[0]?.at as number)).toBeGreaterThanOrEqual(39);
    expect((starts[2] as number) - (retries[1]?.at as number)).toBeGreaterThanOrEqual(79);
  });

  it('retries exactly the codes listed in retries.on', async () => {
    const run = await runtime.execute({
      notListed: { agent: 'fail', retries: { max: 2, on: ['ERR_TASK_TIMEOUT'] } },
      listed: { agent: 'fail', retries: { max: 2, backoffMs: 1, on: ['E_BOOM'] } },
      limitRetried: {
        agent: 'uncloneable',
        retries: { max: 1, backoffMs: 1, on: ['ERR_OUTPUT_NOT_CLONEABLE'] },
      },
    });
    expect(run.tasks.notListed?.attempts).toBe(1);
    expect(run.tasks.listed?.attempts).toBe(3);
    expect(run.tasks.limitRetried?.attempts).toBe(2);
  });

  it('fails a task once its retries run out', async () => {
    const run = await runtime.execute({ bad: { agent: 'fail', retries: 2 } });
    const bad = expectStatus(run.tasks.bad, 'failed');
    expect(bad.attempts).toBe(3);
    expect(bad.error.code).toBe('E_BOOM');
  });

  it('kills a task stuck in a synchronous loop at its timeout while others finish', async () => {
    // Ordered by signals, not margins (a 900 ms sleep across a ~300 ms kill
    // failed under load): `stuck` spins only once `across` runs on the other
    // thread, and `across` ends only once the test has seen `stuck` fail.
    const gates = new Gates();
    const cells = gates.cells;
    const off = runtime.on('task', (event) => {
      if (event.id === 'stuck' && event.type === 'failed') gates.open(1);
    });
    const run = await runtime.execute({
      stuck: {
        agent: 'gate',
        prompt: 'wait 0; spin',
        context: { cells },
        timeoutMs: 500,
        retries: 0,
        priority: 10,
      },
      across: { agent: 'gate', prompt: 'arrive 0; wait 1', context: { cells }, priority: 10 },
      a: { agent: 'sleep', prompt: '50' },
      b: { agent: 'sleep', prompt: '50', depends_on: ['a'] },
      c: { agent: 'sleep', prompt: '50', depends_on: ['b'] },
      afterStuck: { agent: 'sleep', prompt: '1', depends_on: ['stuck'] },
    });
    off();
    const stuck = expectStatus(run.tasks.stuck, 'failed');
    expect(stuck.error.code).toBe('ERR_TASK_TIMEOUT');
    expect(stuck.error.message).toContain('timed out after 500 ms');
    expect(stuck.error.message).toContain('thread was terminated');
    // The report still knows which thread it held.
    expect(stuck.threadId).toEqual(expect.any(Number));
    expect(run.tasks.afterStuck?.error?.code).toBe('ERR_UPSTREAM_FAILED');
    const across = expectStatus(run.tasks.across, 'done');
    expect(across.threadId).not.toBe(stuck.threadId);
    expect(across.startedAt).toBeLessThan(stuck.finishedAt);
    expect(across.finishedAt).toBeGreaterThan(stuck.finishedAt);
    expect(run.done).toBe(4);
    // The killed thread was replaced: two threads serve the next run at once
    // (each waits for the other to have begun).
    const next = await runtime.execute({
      x: { agent: 'gate', prompt: 'arrive 2; wait 3', context: { cells } },
      y: { agent: 'gate', prompt: 'arrive 3; wait 2', context: { cells } },
    });
    expect(next.done).toBe(2);
    expect(new Set([next.tasks.x?.threadId, next.tasks.y?.threadId]).size).toBe(2);
    expect(maxOverlap(Object.values(next.tasks))).toBe(2);
  });

  it('aborts ctx.signal at the timeout so a cooperative agent stops without losing its thread', async () => {
    const run = await runtime.execute({
      wait: { agent: 'patient', prompt: '10000', timeoutMs: 100, retries: 0 },
    });
    const wait = expectStatus(run.tasks.wait, 'failed');
    expect(wait.error.code).toBe('ERR_TASK_TIMEOUT');
    expect(wait.error.message).toBe('task "wait" timed out after 100 ms');
    expect(wait.threadId).toBeGreaterThan(0);
  });

  it('retries a timed-out attempt after a backoff', async () => {
    const run = await runtime.execute(
      { wait: { agent: 'patient', prompt: '10000', timeoutMs: 50, retries: 1 } },
      { runId: 'timeout-retry' },
    );
    expect(run.tasks.wait?.attempts).toBe(2);
    const retry = events.find((e) => e.runId === 'timeout-retry' && e.type === 'retry');
    expect(retry).toMatchObject({ delayMs: 20, error: { code: 'ERR_TASK_TIMEOUT' } });
  });

  it('reports a thread that exits mid-task as a crash, and retries it', async () => {
    const run = await runtime.execute({
      exit: { agent: 'exit' },
      ok: { agent: 'sleep', prompt: '20' },
    });
    const exit = expectStatus(run.tasks.exit, 'failed');
    expect(exit.error.code).toBe('ERR_WORKER_CRASHED');
    expect(exit.error.message).toContain('exited with code: 3');
    expect(exit.attempts).toBe(2);
    expectStatus(run.tasks.ok, 'done');
  });

  it('reports an error escaping the agent (from a timer) as a crash of its thread', async () => {
    const run = await runtime.execute({ escape: { agent: 'escape', retries: 0 } });
    const escaped = expectStatus(run.tasks.escape, 'failed');
    // The agent's own code is named, but the outcome is the crash it caused.
    expect(escaped.error.code).toBe('ERR_WORKER_CRASHED');
    expect(escaped.error.message).toBe('worker thread crashed: E_ESCAPED: escaped from a timer');
  });

  it('does not blame the next task for an error an earlier one left behind on its thread', async () => {
    const single = createRuntime({
      threads: 1,
      retries: 0,
      agents: { late: fixture('late-throw'), echo: fixture('echo') },
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const first = await single.execute({ a: { agent: 'late', prompt: '10' } });
      const a = expectStatus(first.tasks.a, 'done');
      // a's timer throws 10 ms after a ended; the idle thread only runs it
      // when the next task arrives, and that task must not pay for it.
      await new Promise((r) => setTimeout(r, 200));
      const second = await single.execute({ b: { agent: 'echo' } });
      const b = expectStatus(second.tasks.b, 'done');
      expect(b.attempts).toBe(1);
      // The timer carries its maker: the error is a's, and the thread goes on.
      expect(b.threadId).toBe(a.threadId);
      // Nothing failed for it, so it is reported on its own. The report
      // travels on the thread's own port, the reply on piscina's: it may
      // come in after b's reply (failed one run in 20).
      const stray = await vi.waitFor(
        () => {
          expect(single.stats().strayErrors).toBe(1);
          const found = warnings.find(
            (w) => (w as { code?: string }).code === 'AGENTPOOL_STRAY_ERROR',
          );
          expect(found).toBeDefined();
          return found;
        },
        { timeout: 10_000 },
      );
      expect(stray?.message).toContain('task "a" left a callback behind that threw');
      expect(stray?.message).toContain('late throw from a');
    } finally {
      process.off('warning', onWarning);
      await single.close();
    }
  });

  it('fails an uncloneable output without retrying it, and without losing the thread', async () => {
    const run = await runtime.execute({ u: { agent: 'uncloneable' } });
    const u = expectStatus(run.tasks.u, 'failed');
    expect(u.error.code).toBe('ERR_OUTPUT_NOT_CLONEABLE');
    expect(u.error.message).toContain('could not be cloned');
    expect(u.attempts).toBe(1);
  });

  it('fails the tasks of an agent whose module cannot load, and runs the rest', async () => {
    const run = await runtime.execute({
      a: { agent: 'missing' },
      b: { agent: 'noDefault' },
      c: { agent: 'sleep', prompt: '1' },
      d: { agent: 'badHandler' },
    });
    expect(run.tasks.d?.error?.code).toBe('ERR_AGENT_LOAD');
    expect(run.tasks.d?.error?.message).toContain(
      'defineAgent expects a handler function, got number',
    );
    const a = expectStatus(run.tasks.a, 'failed');
    expect(a.error.code).toBe('ERR_AGENT_LOAD');
    expect(a.error.message).toContain('does-not-exist.js');
    expect(a.attempts).toBe(1);
    const b = expectStatus(run.tasks.b, 'failed');
    expect(b.error.code).toBe('ERR_AGENT_LOAD');
    expect(b.error.message).toContain('default export');
    expectStatus(run.tasks.c, 'done');
  });

  it('retries once by default, after a jittered 250-500 ms, without holding the thread meanwhile', async () => {
    // Defaults only: retries { max: 1, backoffMs: 500, factor: 2, jitter: true }.
    const defaults = createRuntime({
      threads: 1,
      agents: { flaky: fixture('flaky'), fail: fixture('fail'), sleep: fixture('sleep') },
    });
    const retries: TaskEvent[] = [];
    defaults.on('task', (event) => {
      if (event.type === 'retry') retries.push(event);
    });
    try {
      const run = await defaults.execute({
        flaky: { agent: 'flaky' },
        fail: { agent: 'fail' },
        // Ranked below both, on the only thread: it runs while they wait out their backoff.
        other: { agent: 'sleep', prompt: '100', priority: -10 },
      });
      expect(expectStatus(run.tasks.flaky, 'done').attempts).toBe(2);
      expect(expectStatus(run.tasks.fail, 'failed').attempts).toBe(2);
      expect(retries).toHaveLength(2);
      for (const retry of retries) {
        const { delayMs } = retry as Extract<TaskEvent, { type: 'retry' }>;
        expect(delayMs).toBeGreaterThanOrEqual(250);
        expect(delayMs).toBeLessThanOrEqual(500);
      }
      const other = expectStatus(run.tasks.other, 'done');
      const flaky = run.tasks.flaky;
      expect(other.startedAt).toBeLessThan(flaky?.startedAt as number);
      expect(other.finishedAt).toBeLessThanOrEqual(flaky?.startedAt as number);
    } finally {
      await defaults.close();
    }
  });

  it('takes failFast from the runtime too, and reports skips and cancels as events', async () => {
    const strict = createRuntime({
      threads: 1,
      failFast: true,
      retries: 0,
      agents: { fail: fixture('fail'), sleep: fixture('sleep') },
    });
    const ends: string[] = [];
    strict.on('task', (event) => {
      if ('result' in event) ends.push(`${event.id}:${event.type}`);
    });
    try {
      const run = await strict.execute({
        bad: { agent: 'fail', priority: 10 },
        after: { agent: 'sleep', prompt: '1', depends_on: ['bad'], trigger: 'all_done' },
        queued: { agent: 'sleep', prompt: '1' },
      });
      expect(run.stoppedBy).toBe('fail-fast');
      expect(ends.sort()).toEqual(['after:cancelled', 'bad:failed', 'queued:cancelled']);
      // Without failFast, a failure only skips its dependents, and says so in an event.
      const lenient = await strict.execute(
        {
          bad: { agent: 'fail' },
          child: { agent: 'sleep', prompt: '1', depends_on: ['bad'] },
          other: { agent: 'sleep', prompt: '1' },
        },
        { failFast: false, runId: 'lenient' },
      );
      expect(lenient.stoppedBy).toBeNull();
      expect(ends).toContain('child:skipped');
      expectStatus(lenient.tasks.other, 'done');
    } finally {
      await strict.close();
    }
  });

  it('cancels everything queued at the first failure with failFast', async () => {
    // `bad` fails only once `running` has begun on the other thread, and
    // `running` ends only once the test has seen `bad` fail (was: sleeps of
    // 40 and 600 ms, which a loaded machine could reorder).
    const gates = new Gates();
    const cells = gates.cells;
    const off = runtime.on('task', (event) => {
      if (event.id === 'bad' && event.type === 'failed') gates.open(1);
    });
    const run = await runtime.execute(
      {
        running: { agent: 'gate', prompt: 'arrive 0; wait 1', context: { cells } },
        bad: { agent: 'gate', prompt: 'wait 0', context: { cells, fail: true }, retries: 0 },
        queued1: { agent: 'sleep', prompt: '1', depends_on: ['running'] },
        queued2: { agent: 'sleep', prompt: '1', depends_on: ['running'] },
      },
      { failFast: true },
    );
    off();
    expect(run.stoppedBy).toBe('fail-fast');
    expectStatus(run.tasks.bad, 'failed');
    // A task already running finishes; what was still queued is cancelled.
    expectStatus(run.tasks.running, 'done');
    for (const id of ['queued1', 'queued2']) {
      const task = expectStatus(run.tasks[id], 'cancelled');
      expect(task.error).toMatchObject({ code: 'ERR_CANCELLED' });
      expect(task.error.message).toContain('"bad" failed and failFast is set');
    }
    expect(run).toMatchObject({ done: 1, failed: 1, cancelled: 2 });
  });
});

describe('trigger rules', () => {
  let runtime: Runtime;
  beforeAll(() => {
    runtime = createRuntime({
      threads: 2,
      retries: 0,
      agents: { echo: fixture('echo'), fail: fixture('fail') },
    });
  });
  afterAll(() => runtime.close());

  it('runs all_done and one_failed tasks after a failure, with the statuses', async () => {
    const run = await runtime.execute({
      ok: { agent: 'echo', prompt: 'fine' },
      bad: { agent: 'fail' },
      report: { agent: 'echo', depends_on: ['ok', 'bad'], trigger: 'all_done' },
      onError: { agent: 'echo', depends_on: ['ok', 'bad'], trigger: 'one_failed' },
      anyOk: { agent: 'echo', depends_on: ['ok', 'bad'], trigger: 'one_success' },
      normal: { agent: 'echo', depends_on: ['ok', 'bad'] },
    });
    const report = expectStatus(run.tasks.report, 'done');
    expect(report.output).toMatchObject({
      deps: { ok: { prompt: 'fine' } },
      depStatus: { ok: 'done', bad: 'failed' },
    });
    expect((report.output as { deps: object }).deps).not.toHaveProperty('bad');
    expectStatus(run.tasks.onError, 'done');
    expectStatus(run.tasks.anyOk, 'done');
    expect(expectStatus(run.tasks.normal, 'skipped').error.code).toBe('ERR_UPSTREAM_FAILED');
  });

  it('skips one_failed when nothing failed, and one_success when nothing succeeded', async () => {
    const run = await runtime.execute({
      ok: { agent: 'echo' },
      bad: { agent: 'fail' },
      handler: { agent: 'echo', depends_on: ['ok'], trigger: 'one_failed' },
      hope: { agent: 'echo', depends_on: ['bad'], trigger: 'one_success' },
      afterHandler: { agent: 'echo', depends_on: ['handler'] },
    });
    const handler = expectStatus(run.tasks.handler, 'skipped');
    expect(handler.error.code).toBe('ERR_TRIGGER_NOT_MET');
    expect(handler.error.message).toContain('no dependency failed');
    expect(expectStatus(run.tasks.hope, 'skipped').error).toMatchObject({
      code: 'ERR_UPSTREAM_FAILED',
      upstream: ['bad'],
    });
    expect(expectStatus(run.tasks.afterHandler, 'skipped').error.code).toBe('ERR_UPSTREAM_FAILED');
  });
});

describe('timeouts count from the start, not the queue', () => {
  it('does not time out an attempt that waited in the pool queue', async () => {
    // One thread, three attempts: the last waits ~500 ms for it (in the planner,
    // or in the pool's queue), past its 450 ms timeout, which counts only from its start.
    const runtime = createRuntime({
      threads: 1,
      inFlightPerThread: 3,
      timeoutGraceMs: 50,
      retries: 0,
      agents: { sleep: fixture('sleep'), spin: fixture('spin') },
    });
    try {
      const run = await runtime.execute({
        a: { agent: 'sleep', prompt: '250', timeoutMs: 450 },
        b: { agent: 'sleep', prompt: '250', timeoutMs: 450 },
        c: { agent: 'sleep', prompt: '250', timeoutMs: 450 },
      });
      expect(run.done).toBe(3);
      expect(run.tasks.c?.startedAt).toBeGreaterThan((run.tasks.a?.finishedAt as number) - 1);
      // ...while a stuck attempt behind a queue is still stopped once it runs.
      const stuck = await runtime.execute({
        first: { agent: 'sleep', prompt: '200' },
        stuck: { agent: 'spin', timeoutMs: 100 },
      });
      expect(stuck.tasks.stuck?.error?.code).toBe('ERR_TASK_TIMEOUT');
      expect(stuck.tasks.first?.status).toBe('done');
      expect(stuck.tasks.stuck?.startedAt).toBeGreaterThanOrEqual(
        (stuck.tasks.first?.finishedAt as number) - 1,
      );
    } finally {
      await runtime.close();
    }
  });
});
