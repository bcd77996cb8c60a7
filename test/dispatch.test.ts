import { createRuntime } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { expectStatus, fixture, maxOverlap } from './helpers.js';

const agents = {
  spin: fixture('spin'),
  sleep: fixture('sleep'),
  echo: fixture('echo'),
  hog: fixture('hog'),
  stubborn: fixture('ignore-signal'),
  limited: { module: fixture('sleep'), concurrency: 1 },
};

describe('dispatch shared by a runtime', () => {
  it('replaces a killed attempt at once and still watches the next one (one thread)', async () => {
    const runtime = createRuntime({ threads: 1, retries: 0, timeoutGraceMs: 50, agents });
    const run = await runtime.execute({
      a: { agent: 'spin', timeoutMs: 150 },
      b: { agent: 'spin', timeoutMs: 150 },
    });
    expect(run.tasks.a?.error?.code).toBe('ERR_TASK_TIMEOUT');
    expect(run.tasks.b?.error?.code).toBe('ERR_TASK_TIMEOUT');
    await runtime.close();
  });

  it('runs a task parked on a memory profile once another pool frees the thread', async () => {
    const runtime = createRuntime({ threads: 1, retries: 0, agents });
    const run = await runtime.execute({
      hog: { agent: 'hog', limits: { memoryMb: 32 } },
      after: { agent: 'sleep', prompt: '5' },
    });
    expect(run.tasks.hog?.error?.code).toBe('ERR_MEMORY_LIMIT');
    expectStatus(run.tasks.after, 'done');
    await runtime.close();
  });

  it("replaces a memory profile's killed thread and runs what queued behind it", async () => {
    const runtime = createRuntime({ threads: 1, retries: 0, timeoutGraceMs: 50, agents });
    const memoryMb = 48;
    const run = await runtime.execute({
      stuck: { agent: 'spin', timeoutMs: 150, limits: { memoryMb } },
      hog: { agent: 'hog', limits: { memoryMb } },
      after: { agent: 'echo', limits: { memoryMb } },
    });
    expect(run.tasks.stuck?.error?.code).toBe('ERR_TASK_TIMEOUT');
    expect(run.tasks.hog?.error?.code).toBe('ERR_MEMORY_LIMIT');
    expectStatus(run.tasks.after, 'done');
    await runtime.close();
  }, 20_000);

  it('shares threads between concurrent runs, and never runs more than threads', async () => {
    const runtime = createRuntime({ threads: 1, retries: 0, timeoutGraceMs: 50, agents });
    const first = runtime.execute({ s: { agent: 'sleep', prompt: '300' } });
    const second = runtime.execute({
      m: { agent: 'echo', limits: { memoryMb: 64 } },
      x: { agent: 'spin', timeoutMs: 100 },
    });
    const [a, b] = await Promise.all([first, second]);
    expectStatus(b.tasks.m, 'done');
    expect(b.tasks.x?.error?.code).toBe('ERR_TASK_TIMEOUT');
    expect(maxOverlap([...Object.values(a.tasks), ...Object.values(b.tasks)])).toBe(1);
    await runtime.close();
  });

  it("holds an agent's concurrency cap across runs", async () => {
    const runtime = createRuntime({ threads: 2, agents });
    const runs = await Promise.all([
      runtime.execute({ a: { agent: 'limited', prompt: '150' } }),
      runtime.execute({ b: { agent: 'limited', prompt: '150' } }),
    ]);
    expect(maxOverlap(runs.flatMap((run) => Object.values(run.tasks)))).toBe(1);
    await runtime.close();
  });

  it('moves on in inline mode when an attempt ignores its timeout', async () => {
    const runtime = createRuntime({ threads: 0, retries: 0, timeoutGraceMs: 20, agents });
    const run = await runtime.execute({
      stuck: { agent: 'stubborn', prompt: '1000', timeoutMs: 50 },
      next: { agent: 'echo' },
    });
    expect(run.tasks.stuck?.error?.message).toContain(
      'the attempt was abandoned (inline mode cannot stop it)',
    );
    expectStatus(run.tasks.next, 'done');
    await runtime.close();
  });

  it('fails a task whose own context cannot be sent to a thread, at once', async () => {
    for (const threads of [1, 0]) {
      const runtime = createRuntime({ threads, agents });
      const started = Date.now();
      const run = await runtime.execute({
        bad: { agent: 'echo', context: { callback: () => 1 } },
        fine: { agent: 'echo' },
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      const bad = expectStatus(run.tasks.bad, 'failed');
      expect(bad.error.code).toBe('ERR_DAG_INVALID');
      expect(bad.error.message).toContain("the task's input cannot be sent to a thread");
      expect(bad.attempts).toBe(1);
      expectStatus(run.tasks.fine, 'done');
      await expect(
        runtime.execute({ a: { agent: 'echo' } }, { context: { f: () => 1 } }),
      ).rejects.toThrow('context: expected a structured-clonable value');
      await runtime.close();
    }
  });
});
