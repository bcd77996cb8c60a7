import { createRuntime, type Runtime, type TaskInput } from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture, maxOverlap } from './helpers.js';

const agents = {
  tokens: fixture('tokens'),
  hog: fixture('hog'),
  burn: fixture('burn'),
  patient: fixture('wait-signal'),
  big: fixture('big-output'),
  sleep: fixture('sleep'),
  echo: fixture('echo'),
  cheat: fixture('token-cheat'),
};

describe('limits', () => {
  let runtime: Runtime;
  beforeAll(() => {
    runtime = createRuntime({ threads: 2, retries: 0, agents });
  });
  afterAll(() => runtime.close());

  it('fails a task over its token budget at the moment of the overrun', async () => {
    const run = await runtime.execute({
      over: {
        agent: 'tokens',
        prompt: 'hello world',
        limits: { tokens: 1000 },
        context: { consume: 1500, step: 300 },
      },
      under: {
        agent: 'tokens',
        prompt: 'hello world',
        limits: { tokens: 1000 },
        context: { consume: 300 },
      },
    });
    const over = expectStatus(run.tasks.over, 'failed');
    expect(over.error.code).toBe('ERR_TOKEN_BUDGET');
    // 2 prompt tokens + 4 steps of 300 = 1,202: the fourth step overran.
    expect(over.error.message).toBe('task "over" used 1,202 tokens of its 1,000-token budget');
    expect(over.tokens).toBe(1202);
    const under = expectStatus(run.tasks.under, 'done');
    // The prompt ("hello world" is 2 tokens in o200k_base) is charged before the handler runs.
    expect(under.output).toEqual({ used: 302, limit: 1000, remaining: 698, counted: 2 });
    expect(under.tokens).toBeGreaterThan(302); // plus the output's own tokens
    expect(run.tokens).toBe((over.tokens as number) + under.tokens);
  });

  it('shares a run-wide budget across threads and skips what cannot start once it is spent', async () => {
    const dag = Object.fromEntries(
      Array.from({ length: 12 }, (_, i) => [
        `t${i}`,
        { agent: 'tokens', context: { consume: 100, step: 10 } },
      ]),
    );
    const run = await runtime.execute(dag, { runTokens: 450 });
    // The counter is charged with compare-and-swap: the run never goes over.
    expect(run.tokens).toBeLessThanOrEqual(450);
    expect(run.tokenBudget).toBe(450);
    expect(run.stoppedBy).toBe('token-budget');
    const statuses = Object.values(run.tasks).map((t) => t.error?.code ?? t.status);
    expect(statuses.filter((s) => s === 'done').length).toBeGreaterThanOrEqual(2);
    expect(statuses).toContain('ERR_RUN_TOKEN_BUDGET');
    for (const task of Object.values(run.tasks)) {
      if (task.status === 'skipped') {
        expect(task.error.code).toBe('ERR_RUN_TOKEN_BUDGET');
        expect(task.error.message).toBe(
          `skipped: the run's 450-token budget is spent (${run.tokens} used)`,
        );
      }
    }
    expect(run.done + run.failed + run.skipped).toBe(12);
  });

  it('holds a task to its budget even if the agent catches the error or rewrites its account', async () => {
    const run = await runtime.execute({
      swallows: { agent: 'cheat', limits: { tokens: 100 } },
      rewrites: { agent: 'cheat', limits: { tokens: 100 }, context: { rewrite: true } },
      rethrows: { agent: 'cheat', limits: { tokens: 100 }, context: { rethrow: true } },
    });
    for (const id of ['swallows', 'rewrites', 'rethrows']) {
      const task = expectStatus(run.tasks[id], 'failed');
      expect(task.error.code).toBe('ERR_TOKEN_BUDGET');
      expect(task.error.message).toBe(`task "${id}" used 5,000 tokens of its 100-token budget`);
      expect(task.tokens).toBe(5000);
    }
  });

  it('starts nothing once a charge to the run budget is refused, not even what waited on a thread', async () => {
    const single = createRuntime({ threads: 1, retries: 0, agents });
    try {
      // Warm: the agent now averages well under 1 ms, so its attempts queue on the thread.
      await single.fanOut(
        'tokens',
        Array.from({ length: 1000 }, () => 'hi'),
        { runTokens: 1e9 },
      );
      for (let round = 0; round < 3; round++) {
        const dag = Object.fromEntries(
          Array.from({ length: 40 }, (_, i) => [
            `t${i}`,
            { agent: 'tokens', prompt: 'hi', context: { consume: i === 5 ? 1000 : 0 } },
          ]),
        );
        const run = await single.execute(dag, { runTokens: 500 });
        const spender = expectStatus(run.tasks.t5, 'failed');
        expect(spender.error.code).toBe('ERR_RUN_TOKEN_BUDGET');
        for (const task of Object.values(run.tasks)) {
          if (task.id === 't5') continue;
          // Whatever began, began before the overrun; the rest were skipped, never started.
          if (task.status === 'done') expect(task.startedAt).toBeLessThan(spender.finishedAt);
          else {
            expect(task.status, task.id).toBe('skipped');
            expect(task.error.code).toBe('ERR_RUN_TOKEN_BUDGET');
            expect(task.startedAt).toBeNull();
          }
        }
        // In start order, with attempts and threads: what ran before the spender, and how.
        const order = Object.values(run.tasks)
          .filter((t) => t.startedAt !== null)
          .sort((x, y) => (x.startedAt as number) - (y.startedAt as number))
          .map((t) => `${t.id}#${t.attempts}@${t.threadId}`)
          .join(' ');
        expect(run.done, order).toBeLessThanOrEqual(5);
        expect(run.skipped).toBe(39 - run.done);
      }
    } finally {
      await single.close();
    }
  });

  it('counts tokens with the configured encoding', async () => {
    // Cyrillic is 9 tokens in o200k_base (the default) and 28 in p50k_base.
    const prompt = 'Привет, как дела? Это тест.';
    const counts: Record<string, unknown> = {};
    for (const encoding of ['o200k_base', 'p50k_base'] as const) {
      const counting = createRuntime({ threads: 0, encoding, agents });
      const run = await counting.execute({
        a: { agent: 'tokens', prompt, limits: { tokens: 100 } },
      });
      counts[encoding] = (expectStatus(run.tasks.a, 'done').output as { counted: number }).counted;
      await counting.close();
    }
    expect(counts).toEqual({ o200k_base: 9, p50k_base: 28 });
  });

  it('fails an output over its size limit', async () => {
    const run = await runtime.execute({
      text: { agent: 'big', prompt: '5000', limits: { outputBytes: 1000 } },
      object: {
        agent: 'big',
        prompt: '5000',
        limits: { outputBytes: 1000 },
        context: { object: true },
      },
      fits: { agent: 'big', prompt: '500', limits: { outputBytes: 1000 } },
    });
    expect(run.tasks.text?.error).toMatchObject({
      code: 'ERR_OUTPUT_TOO_LARGE',
      message: 'task "text" output is 5,000 bytes, over its 1,000-byte limit',
    });
    expect(run.tasks.object?.error?.code).toBe('ERR_OUTPUT_TOO_LARGE');
    expectStatus(run.tasks.fits, 'done');
  });

  it('stops a thread that exceeds its heap cap, alone', async () => {
    const run = await runtime.execute({
      hog: { agent: 'hog', limits: { memoryMb: 32 } },
      a: { agent: 'sleep', prompt: '30' },
      b: { agent: 'sleep', prompt: '30', limits: { memoryMb: 64 } },
    });
    const hog = expectStatus(run.tasks.hog, 'failed');
    expect(hog.error.code).toBe('ERR_MEMORY_LIMIT');
    expect(hog.error.message).toContain('32 MB heap limit');
    expectStatus(run.tasks.a, 'done');
    expectStatus(run.tasks.b, 'done');
    // The memory profiles and the default pool together never ran more than `threads`.
    expect(maxOverlap(Object.values(run.tasks))).toBeLessThanOrEqual(2);
  });

  it('never runs more than `threads` across memory profiles, and closes a profile once idle', async () => {
    const profiles = createRuntime({ threads: 2, retries: 0, idleTimeoutMs: 300, agents });
    try {
      // Six heap caps: six pools, each of which could run two at once on its own.
      const dag: Record<string, TaskInput> = Object.fromEntries(
        Array.from({ length: 18 }, (_, i) => [
          `t${i}`,
          { agent: 'sleep', prompt: '40', limits: { memoryMb: 64 + 16 * (i % 6) } },
        ]),
      );
      dag.plain = { agent: 'sleep', prompt: '40' };
      // Warm: the agent averages under 1 ms, so its attempts are posted several to a
      // thread at once, and only the cross-pool count keeps them to `threads`.
      await profiles.fanOut(
        'sleep',
        Array.from({ length: 300 }, () => '0'),
      );
      let most = 0;
      profiles.on('task', () => {
        most = Math.max(most, profiles.stats().liveThreads);
      });
      const run = await profiles.execute(dag);
      expect(run.done).toBe(19);
      expect(maxOverlap(Object.values(run.tasks))).toBeLessThanOrEqual(2);
      expect(most).toBeGreaterThan(2);
      // Idle for idleTimeoutMs, the profiles' pools close; the default pool's two threads stay.
      const deadline = Date.now() + 10_000;
      while (profiles.stats().liveThreads > 2 && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(profiles.stats().liveThreads).toBe(2);
      // A cap seen before gets a pool of its own again.
      const again = await profiles.execute({
        a: { agent: 'sleep', prompt: '5', limits: { memoryMb: 64 } },
      });
      expectStatus(again.tasks.a, 'done');
    } finally {
      await profiles.close();
    }
  });

  it('stops a task that keeps its thread busy past its CPU limit, but not one waiting on timers', async () => {
    const run = await runtime.execute({
      burner: { agent: 'burn', prompt: '2000', limits: { cpuMs: 150 } },
      waiter: { agent: 'patient', prompt: '400', limits: { cpuMs: 150 } },
    });
    const burner = expectStatus(run.tasks.burner, 'failed');
    expect(burner.error.code).toBe('ERR_CPU_LIMIT');
    expect(burner.error.message).toMatch(
      /was active on its thread for [\d,]+ ms, over its 150 ms CPU limit/,
    );
    expect(burner.durationMs).toBeLessThan(1500);
    const waiter = expectStatus(run.tasks.waiter, 'done');
    expect(waiter.durationMs).toBeGreaterThanOrEqual(390);
    expect(waiter.cpuMs).toBeLessThan(150);
  });

  it('counts CPU time from the agent being loaded: a thread loading a module or the tokenizer is not the task', async () => {
    // Fresh threads: each attempt below is the first on its thread to load its
    // agent module (a .ts one through the TypeScript loader) and the tokenizer.
    // The limit is a thread's active time, which also counts time the OS
    // gives its core to others: a 40 ms limit on a task of a few ms failed at
    // 90 ms on a loaded machine. So the loads are made to cost far more than
    // the limit (slow-load burns a second as it loads) and the limit is set
    // far above what the tasks themselves take.
    const fresh = createRuntime({
      threads: 2,
      retries: 0,
      agents: {
        tokens: fixture('tokens'),
        typed: new URL('./fixtures/typed.ts', import.meta.url),
        slow: fixture('slow-load'),
      },
    });
    try {
      const limits = { cpuMs: 400, tokens: 1000 };
      const run = await fresh.execute({
        counted: { agent: 'tokens', prompt: 'hello world', limits },
        typed: { agent: 'typed', prompt: 'hi', limits },
        slow: { agent: 'slow', limits },
      });
      for (const id of ['counted', 'typed', 'slow']) {
        const task = expectStatus(run.tasks[id], 'done');
        expect(task.cpuMs).toBeLessThan(400);
      }
    } finally {
      await fresh.close();
    }
  });

  it('reports active time per task', async () => {
    const run = await runtime.execute({ burn: { agent: 'burn', prompt: '100' } });
    expect(run.tasks.burn?.cpuMs).toBeGreaterThanOrEqual(90);
  });

  it('takes limits from the runtime, then the agent, then the task', async () => {
    const layered = createRuntime({
      threads: 1,
      retries: 0,
      limits: { tokens: 10, outputBytes: 100_000 },
      agents: {
        tokens: { module: fixture('tokens'), limits: { tokens: 100 } },
        plain: fixture('tokens'),
      },
    });
    try {
      const run = await layered.execute({
        runtimeLevel: { agent: 'plain', context: { consume: 50 } },
        agentLevel: { agent: 'tokens', context: { consume: 50 } },
        taskLevel: { agent: 'tokens', context: { consume: 150 }, limits: { tokens: 1000 } },
      });
      expect(run.tasks.runtimeLevel?.error?.message).toContain('of its 10-token budget');
      expectStatus(run.tasks.agentLevel, 'done');
      expectStatus(run.tasks.taskLevel, 'done');
    } finally {
      await layered.close();
    }
  });
});

describe('bad limits and options', () => {
  it('names the bad field before anything runs', async () => {
    expect(() => createRuntime({ limits: { memoryMb: -1 } })).toThrow(
      'limits.memoryMb: expected a number >= 8, got -1',
    );
    expect(() => createRuntime({ runTokens: -5 })).toThrow(
      'runTokens: expected a number >= 0, got -5',
    );
    expect(() => createRuntime({ host: { search: 'nope' as unknown as () => void } })).toThrow(
      'host.search: ',
    );
    expect(() => createRuntime({ encoding: 'utf8' as 'o200k_base' })).toThrow(
      'encoding: expected one of',
    );
    const runtime = createRuntime({ threads: 0, agents });
    await expect(runtime.execute({ a: { agent: 'echo', limits: { tokens: -1 } } })).rejects.toThrow(
      'tasks.a.limits.tokens',
    );
    await expect(
      runtime.execute({ a: { agent: 'echo', limits: { disk: 1 } as object } }),
    ).rejects.toThrow('unknown field `disk`');
    await runtime.close();
  });
});
