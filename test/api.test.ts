import {
  AgentpoolError,
  createRuntime,
  DagValidationError,
  OptionsError,
  type Runtime,
  type TaskEvent,
  type TaskResult,
} from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

const agents = {
  sleep: fixture('sleep'),
  spin: fixture('spin'),
  upper: fixture('plain-function'),
  echo: fixture('echo'),
};

describe('library API', () => {
  let runtime: Runtime;
  beforeAll(() => {
    runtime = createRuntime({ threads: 2, agents });
  });
  afterAll(() => runtime.close());

  it('fans one agent out over many prompts, results in prompt order', async () => {
    const prompts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const results = await runtime.fanOut('upper', prompts);
    expect(results.map((r) => expectStatus(r, 'done').output)).toEqual(
      prompts.map((p) => p.toUpperCase()),
    );
    expect(results.map((r) => r.id)).toEqual(prompts.map((_, i) => `task_${i}`));
  });

  it('batches a fan-out: one message per batch, one result per prompt', async () => {
    const local = createRuntime({ threads: 2, agents: { picky: fixture('picky') } });
    const chunks: string[] = [];
    local.on('chunk', (event) => {
      chunks.push(`${event.id}:${String(event.chunk)}`);
    });
    const prompts = ['a', 'bb', 'bad', 'ccc', 'fn', 'chatty', 'dddd'];
    const results = await local.fanOut('picky', prompts, { batch: 3, retries: 0 });
    expect(results.map((r) => r.id)).toEqual(prompts.map((_, i) => `task_${i}`));
    expect(results.map((r) => r.status)).toEqual([
      'done',
      'done',
      'failed',
      'done',
      'failed',
      'done',
      'done',
    ]);
    expect(results.map((r) => (r.status === 'done' ? r.output : r.error.code))).toEqual([
      1,
      2,
      'E_PICKY',
      3,
      'ERR_OUTPUT_NOT_CLONEABLE',
      6,
      4,
    ]);
    expect(chunks).toEqual(['task_5:hello from task_5']);
    await expect(local.fanOut('picky', ['a'], { batch: 0 })).rejects.toThrow(
      'batch: expected an integer >= 1, got 0',
    );
    await local.close();
  });

  it('retries only the prompts of a batch that failed, and keeps what succeeded', async () => {
    const local = createRuntime({ threads: 1, agents: { fickle: fixture('fickle') } });
    const calls: string[] = [];
    local.on('chunk', (event) => {
      calls.push(String(event.chunk));
    });
    const results = await local.fanOut('fickle', ['1', '2', '1', '3'], {
      batch: 4,
      retries: { max: 1, backoffMs: 1 },
    });
    expect(results.map((r) => [r.id, r.status, r.attempts])).toEqual([
      ['task_0', 'done', 1],
      ['task_1', 'done', 2],
      ['task_2', 'done', 1],
      ['task_3', 'failed', 2],
    ]);
    expect(results[3]?.error?.message).toBe('not before attempt 3');
    // The second attempt carried only the two prompts that had failed.
    expect(calls.sort()).toEqual([
      'task_0@1',
      'task_1@1',
      'task_1@2',
      'task_2@1',
      'task_3@1',
      'task_3@2',
    ]);
    await local.close();
  });

  it('stops a batched fan-out under failFast when one prompt fails', async () => {
    const local = createRuntime({ threads: 1, agents: { picky: fixture('picky') } });
    const prompts = ['bad', ...Array.from({ length: 40 }, (_, k) => 'x'.repeat(k + 1))];
    const results = await local.fanOut('picky', prompts, { batch: 2, retries: 0, failFast: true });
    expect(results[0]).toMatchObject({ status: 'failed', error: { code: 'E_PICKY' } });
    expect(results[1]).toMatchObject({ status: 'done', output: 1 });
    const cancelled = results.filter((r) => r.status === 'cancelled');
    expect(cancelled.length).toBeGreaterThan(0);
    expect(cancelled[0]?.error?.message).toContain('failFast');
    await local.close();
  });

  it('gives a batch the CPU limit of all its prompts together', async () => {
    const local = createRuntime({
      threads: 1,
      agents: { burn: { module: fixture('burn'), limits: { cpuMs: 400 } } },
    });
    // 600 ms in all: past one prompt's limit, well within four prompts'.
    const results = await local.fanOut('burn', ['150', '150', '150', '150'], {
      batch: 4,
      retries: 0,
    });
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done', 'done']);
    await local.close();
  });

  it('rejects a fan-out to an unknown agent, or with a bad prompt or option, before running anything', async () => {
    await expect(runtime.fanOut('nope', ['a'])).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_AGENT',
    });
    for (const batch of [1, 2]) {
      const bad = runtime.fanOut('upper', ['a', 7 as unknown as string, 'c'], { batch });
      await expect(bad).rejects.toMatchObject({
        code: 'ERR_DAG_INVALID',
        message: expect.stringContaining('tasks.task_1.prompt: expected a string, got 7'),
      });
    }
    await expect(runtime.fanOut('upper', ['a'], { timeoutMs: -1 })).rejects.toMatchObject({
      code: 'ERR_DAG_INVALID',
      message: expect.stringContaining('tasks.task_0.timeoutMs'),
    });
    expect(await runtime.fanOut('upper', [])).toEqual([]);
  });

  it('streams each result as it ends: the first arrives before a slow sibling finishes', async () => {
    const seen: { result: TaskResult; at: number }[] = [];
    for await (const result of runtime.stream({
      slow: { agent: 'sleep', prompt: '500' },
      fast: { agent: 'sleep', prompt: '10' },
      afterFast: { agent: 'sleep', prompt: '10', depends_on: ['fast'] },
    })) {
      seen.push({ result, at: Date.now() });
    }
    expect(seen.map((s) => s.result.id)).toEqual(['fast', 'afterFast', 'slow']);
    const slowEnd = seen[2]?.result.finishedAt as number;
    expect(seen[0]?.at).toBeLessThan(slowEnd);
  });

  it('cancels the rest of a stream when the consumer stops reading', async () => {
    const events: TaskEvent[] = [];
    const off = runtime.on('task', (event) => {
      if (event.runId === 'abandoned') events.push(event);
    });
    for await (const result of runtime.stream(
      {
        fast: { agent: 'sleep', prompt: '1' },
        stuck: { agent: 'spin', retries: 0 },
        later: { agent: 'sleep', prompt: '1', depends_on: ['stuck'] },
      },
      { runId: 'abandoned' },
    )) {
      expect(result.id).toBe('fast');
      break;
    }
    off();
    const ends = events.filter((e) => 'result' in e).map((e) => [e.id, e.type]);
    expect(ends).toEqual([
      ['fast', 'done'],
      ['stuck', 'cancelled'],
      ['later', 'cancelled'],
    ]);
  });

  it('cancels mid-run on abort, keeping finished outputs', async () => {
    // Both threads up (an earlier test had one terminated, and its
    // replacement takes a while to start), so `stuck` is really running when
    // the signal comes, not waiting for a thread.
    for (let tries = 0; tries < 100; tries++) {
      const warm = await runtime.execute({
        a: { agent: 'sleep', prompt: '30' },
        b: { agent: 'sleep', prompt: '30' },
      });
      if (warm.tasks.a?.threadId !== warm.tasks.b?.threadId) break;
    }
    const controller = new AbortController();
    const off = runtime.on('task', (event) => {
      if (event.type === 'done' && event.id === 'first')
        controller.abort(new Error('user pressed stop'));
    });
    const run = await runtime.execute(
      {
        first: { agent: 'sleep', prompt: '20' },
        stuck: { agent: 'spin', retries: 0 },
        second: { agent: 'sleep', prompt: '20', depends_on: ['first'] },
      },
      { signal: controller.signal },
    );
    off();
    expect(run.stoppedBy).toBe('signal');
    expect(expectStatus(run.tasks.first, 'done').output).toEqual({ id: 'first', slept: 20 });
    for (const id of ['stuck', 'second']) {
      const task = expectStatus(run.tasks[id], 'cancelled');
      expect(task.error.code).toBe('ERR_CANCELLED');
      expect(task.error.message).toContain('user pressed stop');
    }
    expect(run.tasks.stuck?.startedAt).not.toBeNull();
    expect(run.tasks.stuck?.threadId).toEqual(expect.any(Number));
    expect(run).toMatchObject({ done: 1, cancelled: 2 });
    // The aborted thread was replaced.
    expect((await runtime.execute({ a: { agent: 'sleep', prompt: '1' } })).done).toBe(1);
  });

  it('resolves with every task cancelled when the signal is already aborted', async () => {
    const run = await runtime.execute({ a: { agent: 'sleep' } }, { signal: AbortSignal.abort() });
    expect(run).toMatchObject({ cancelled: 1, stoppedBy: 'signal' });
    expect(run.tasks.a?.attempts).toBe(0);
  });

  it('emits queued, started and a final event per task, in that order', async () => {
    const events: TaskEvent[] = [];
    const off = runtime.on('task', (event) => {
      if (event.runId === 'events') events.push(event);
    });
    await runtime.execute(
      { a: { agent: 'echo' }, b: { agent: 'echo', depends_on: ['a'] } },
      { runId: 'events' },
    );
    off();
    expect(events.map((e) => `${e.id}:${e.type}`)).toEqual([
      'a:queued',
      'a:started',
      'a:done',
      'b:queued',
      'b:started',
      'b:done',
    ]);
    const done = events.at(-1);
    expect(done?.type === 'done' && done.result.id).toBe('b');
  });

  it('keeps running when listeners throw or reject', async () => {
    const before = runtime.stats().listenerErrors;
    const offThrow = runtime.on('task', () => {
      throw new Error('listener bug');
    });
    const offReject = runtime.on('task', async () => {
      throw new Error('async listener bug');
    });
    const run = await runtime.execute({
      a: { agent: 'echo' },
      b: { agent: 'echo', depends_on: ['a'] },
    });
    offThrow();
    offReject();
    await new Promise((resolve) => setImmediate(resolve));
    expect(run.done).toBe(2);
    expect(runtime.stats().listenerErrors - before).toBe(12);
  });

  it('rejects a bad DAG before any task starts', async () => {
    const events: TaskEvent[] = [];
    const off = runtime.on('task', (event) => {
      events.push(event);
    });
    await expect(
      runtime.execute({ a: { agent: 'echo' }, b: { agent: 'ghost', depends_on: ['a'] } }),
    ).rejects.toBeInstanceOf(DagValidationError);
    await expect(
      runtime.execute({ a: { agent: 'echo', depends_on: ['a'] } }),
    ).rejects.toMatchObject({
      code: 'ERR_DAG_CYCLE',
    });
    off();
    expect(events).toEqual([]);
  });

  it('reports statistics', async () => {
    await runtime.execute({ a: { agent: 'sleep', prompt: '5' } });
    const stats = runtime.stats();
    expect(stats.threads).toBe(2);
    expect(stats.activeRuns).toBe(0);
    expect(stats.agents.sleep?.succeeded).toBeGreaterThan(0);
    expect(stats.runMs.count).toBeGreaterThan(0);
    expect(stats.runMs.p99).toBeGreaterThanOrEqual(stats.runMs.p50);
    expect(stats.runMs.max).toBeGreaterThanOrEqual(5);
    expect(stats.queueWaitMs.count).toBe(stats.runMs.count);
    expect(stats.utilization).toBeGreaterThan(0);
    expect(stats.utilization).toBeLessThanOrEqual(1);
    expect(stats.liveThreads).toBe(2);
  });
});

describe('runtime options', () => {
  it('names the field and the value it got', () => {
    expect(() => createRuntime({ threads: -1 })).toThrow(OptionsError);
    expect(() => createRuntime({ threads: -1 })).toThrow('threads: expected a number >= 0, got -1');
    // 0 means no time limit (test/option-bounds.test.ts); a negative one is wrong.
    expect(() => createRuntime({ timeoutMs: -1 })).toThrow(
      'timeoutMs: expected an integer from 1 to 2147483647 (ms), or 0 or Infinity for no time limit, got -1',
    );
    expect(() => createRuntime({ balance: 'random' as 'least-busy' })).toThrow(
      'balance: expected one of "least-busy", "round-robin", got "random"',
    );
    expect(() => createRuntime({ agents: { a: 42 as unknown as string } })).toThrow('agents.a: ');
    expect(() => createRuntime({ thread: 2 } as object)).toThrow(
      'runtime options: unknown option `thread` (did you mean `threads`?)',
    );
    expect(() => createRuntime({ threads: 1.5 })).toThrow(
      'threads: expected an integer or one of "auto", got 1.5',
    );
    const thrown = (() => {
      try {
        createRuntime({ threads: 1.5 });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_OPTIONS', name: 'OptionsError' });
    expect(() => createRuntime({ inFlightPerThread: 0 })).toThrow(
      'inFlightPerThread: expected a number >= 1, got 0',
    );
    expect(() => createRuntime({ agents: { a: { module: 'a.js', concurrency: 0 } } })).toThrow(
      'agents.a.concurrency: expected a number > 0, got 0',
    );
  });

  it('rejects bad execute options', async () => {
    const runtime = createRuntime({ threads: 0, agents });
    await expect(
      runtime.execute({}, { context: 'x' as unknown as Record<string, unknown> }),
    ).rejects.toThrow('context: expected an object, got "x"');
    await runtime.close();
  });

  it('runs inline on the main thread with threads: 0', async () => {
    const runtime = createRuntime({ threads: 0, agents });
    const run = await runtime.execute({
      a: { agent: 'echo', prompt: 'x' },
      b: { agent: 'upper', prompt: 'y', depends_on: ['a'] },
    });
    expect(expectStatus(run.tasks.b, 'done').output).toBe('Y');
    expect(run.tasks.a?.threadId).toBe(0);
    expect(runtime.stats().utilization).toBeNull();
    await runtime.close();
  });

  it('loads TypeScript agents without a build step, on threads and inline', async () => {
    for (const threads of [1, 0]) {
      const runtime = createRuntime({
        threads,
        agents: { typed: fixture('typed').href.replace(/\.js$/, '.ts') },
      });
      const run = await runtime.execute({ a: { agent: 'typed', prompt: 'hi' } });
      expect(expectStatus(run.tasks.a, 'done').output).toEqual({ text: 'HI!', attempt: 1 });
      await runtime.close();
    }
  });

  it('balances round-robin when asked, and least-busy keeps to the warm thread', async () => {
    // One task at a time on three warm threads: least-busy always finds the
    // first one idle; round-robin passes the work around.
    const used: Record<string, number> = {};
    for (const balance of ['least-busy', 'round-robin'] as const) {
      const runtime = createRuntime({ threads: 3, balance, agents });
      await runtime.fanOut('sleep', ['30', '30', '30']);
      const threads = new Set<number | null>();
      for (let k = 0; k < 6; k++) {
        const run = await runtime.execute({ a: { agent: 'sleep', prompt: '1' } });
        threads.add(run.tasks.a?.threadId ?? null);
      }
      used[balance] = threads.size;
      await runtime.close();
    }
    expect(used).toEqual({ 'least-busy': 1, 'round-robin': 3 });
  });

  it('refuses runs after close, and lets a running run finish first', async () => {
    const runtime = createRuntime({ threads: 1, agents });
    const pending = runtime.execute({ a: { agent: 'sleep', prompt: '50' } });
    await runtime.close();
    expect((await pending).done).toBe(1);
    await expect(runtime.execute({})).rejects.toBeInstanceOf(AgentpoolError);
    await expect(runtime.execute({})).rejects.toMatchObject({ code: 'ERR_RUNTIME_CLOSED' });
  });

  it('cancels running runs on close({ cancel: true })', async () => {
    const runtime = createRuntime({ threads: 1, agents });
    const pending = runtime.execute({ stuck: { agent: 'spin' } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await runtime.close({ cancel: true });
    expect((await pending).tasks.stuck?.status).toBe('cancelled');
  });
});
