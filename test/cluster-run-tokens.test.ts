import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../bench/lib/redis-server.js';
import { chargeBudget, WorkerBudgets } from '../dist/src/cluster/budget-store.js';
import { CancelWatch } from '../dist/src/cluster/cancel-watch.js';
import { createRuntime, type RunResult } from '../dist/src/index.js';
import { chargeRefused } from '../dist/src/shared/run-budget.js';
import { agentpool } from './cli-helpers.js';
import { fixtures, startWorker, type WorkerProcess } from './cluster-helpers.js';

// Workers offer the `spend` agent from this file; the planner names the same module.
const spendFile = join(fixtures, 'spend.yaml');
const agents = { spend: join(fixtures, 'agents/spend.js') };
// Thread ids on a worker are 1,000 * its number + its own (see worker-node.ts).
const workerOf = (threadId: number | null) => Math.floor((threadId ?? 0) / 1_000);

let redis: RedisServer;
let client: Redis;
let workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url, { maxRetriesPerRequest: null });
  workers = await Promise.all(
    [1, 2, 3].map(() => startWorker(spendFile, redis.url, { threads: 2 })),
  );
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  client?.disconnect();
  await redis?.stop();
});

/** What Redis holds of each budget charged so far: key -> spent. */
async function budgets(): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const key of await client.keys('agentpool:budget:*'))
    found.set(key, Number(await client.hget(key, 'spent')));
  return found;
}

/** Each task's error code, or its status when it has none. */
function codes(run: RunResult): Map<string, string> {
  return new Map(Object.entries(run.tasks).map(([id, t]) => [id, t.error?.code ?? t.status]));
}

describe('runTokens on agentpool workers through Redis', () => {
  it('never lets concurrent charges pass the limit: the script checks and adds atomically', async () => {
    // 3 connections, as 3 workers would be, 300 charges of 7 in flight at once.
    const connections = [1, 2, 3].map(() => new Redis(redis.url));
    try {
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          chargeBudget(
            connections[i % 3] as Redis,
            'agentpool:budget:atomic',
            `agentpool:tainted:atomic-${i}`,
            1_000,
            7,
          ),
        ),
      );
      const charged = results.filter(([ok]) => ok);
      // 142 * 7 = 994: the 143rd would have made 1,001.
      expect(charged).toHaveLength(142);
      expect(Math.max(...charged.map(([, spent]) => spent))).toBe(994);
      for (const [ok, spent] of results) if (!ok) expect(spent).toBe(994);
      expect(await client.hget('agentpool:budget:atomic', 'spent')).toBe('994');
      expect(await client.hget('agentpool:budget:atomic', 'refused')).toBe('1');
      // Each charging job is tainted in the same script, charged or refused.
      const tainted = await client.keys('agentpool:tainted:atomic-*');
      expect(tainted).toHaveLength(300);
      await client.del('agentpool:budget:atomic', ...tainted);
    } finally {
      for (const c of connections) c.disconnect();
    }
  });

  it("marks every attempt a worker holds of a budget refused once another worker's charge is refused", async () => {
    const settings = { url: redis.url, prefix: 'agentpool' };
    const id = '00000000-0000-4000-8000-000000000014';
    const here = new Redis(redis.url, { maxRetriesPerRequest: null });
    const budgets = new WorkerBudgets(here, settings);
    const heard: string[] = [];
    const other = new Redis(redis.url);
    const subscribed = async () =>
      ((await other.pubsub('NUMSUB', 'agentpool:budget-refused')) as [string, number])[1];
    const before = await subscribed();
    const watch = new CancelWatch(
      here,
      settings,
      () => {},
      (budget) => {
        heard.push(budget);
        budgets.refuse(budget);
      },
    );
    try {
      // Two attempts of the run queued on this worker's threads, one of another run.
      const queued = [budgets.open('q1', { id, limit: 10 }), budgets.open('q2', { id, limit: 10 })];
      const unrelated = budgets.open('q3', { id: `${id.slice(0, -1)}5`, limit: 10 });
      // Once Redis has this worker's subscription besides the suite's workers' (polled).
      while ((await subscribed()) <= before)
        await new Promise((resolve) => setTimeout(resolve, 10));
      // Another worker's charge that does not fit: refused, and published.
      const refusal = { channel: 'agentpool:budget-refused', id };
      const key = `agentpool:budget:${id}`;
      const answer = await chargeBudget(other, key, 'agentpool:tainted:x', 10, 11, refusal);
      expect(answer).toEqual([false, 0]);
      for (let i = 0; i < 100 && heard.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(heard).toEqual([id]);
      // Their threads will not begin them; the other run's is untouched.
      for (const q of queued) expect(chargeRefused(new BigInt64Array(q.buffer))).toBe(true);
      expect(chargeRefused(new BigInt64Array(unrelated.buffer))).toBe(false);
      // One opened later for that budget starts refused too.
      expect(chargeRefused(new BigInt64Array(budgets.open('q4', { id, limit: 10 }).buffer))).toBe(
        true,
      );
    } finally {
      watch.close();
      here.disconnect();
      other.disconnect();
    }
  });

  it('holds a run over its budget to it across 3 workers, failing and skipping as a local run does', async () => {
    // 24 tasks of 100 tokens in charges of 10: 2,400 wanted, 455 allowed
    // (never reached exactly: every charge is a multiple of 10).
    const dag = Object.fromEntries(
      Array.from({ length: 24 }, (_, i) => [`t${i}`, { agent: 'spend' }]),
    );
    const context = { each: 100, step: 10 };
    const local = createRuntime({ threads: 2, retries: 0, agents });
    const remote = createRuntime({ redis: redis.url, retries: 0, agents });
    try {
      const before = await budgets();
      const [here, there] = await Promise.all([
        local.execute(dag, { runTokens: 455, context }),
        remote.execute(dag, { runTokens: 455, context }),
      ]);
      for (const run of [here, there]) {
        expect(run.tokenBudget).toBe(455);
        expect(run.stoppedBy).toBe('token-budget');
        expect(run.tokens).toBeLessThanOrEqual(455);
        // What the tasks charged is what the budget counted: nothing charged twice or lost.
        const charged = Object.values(run.tasks).reduce((sum, t) => sum + t.tokens, 0);
        expect(charged).toBe(run.tokens);
        expect(run.done + run.failed + run.skipped).toBe(24);
        expect(run.failed).toBeGreaterThanOrEqual(1);
      }
      // The run's own counter in Redis: one new budget, at the run's total.
      const after = [...(await budgets())].filter(([key]) => !before.has(key));
      expect(after).toEqual([[expect.stringMatching(/^agentpool:budget:/), there.tokens]]);
      // Charged from several workers at once.
      const ran = Object.values(there.tasks).filter((t) => t.threadId !== null);
      expect(new Set(ran.map((t) => workerOf(t.threadId))).size).toBeGreaterThan(1);
      // The same codes and messages as locally.
      const kinds = (run: RunResult) => new Set(codes(run).values());
      expect(kinds(there)).toEqual(kinds(here));
      expect(kinds(there)).toEqual(new Set(['done', 'ERR_RUN_TOKEN_BUDGET']));
      for (const task of Object.values(there.tasks)) {
        if (task.status === 'failed')
          expect(task.error.message).toMatch(
            new RegExp(
              `^task "${task.id}" needed 10 more tokens, but the run has \\d+ of its 455-token budget left$`,
            ),
          );
        if (task.status === 'skipped') {
          expect(task.error.message).toBe(
            `skipped: the run's 455-token budget is spent (${there.tokens} used)`,
          );
          expect(task.startedAt).toBeNull();
        }
      }
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  });

  it('completes a run within its budget with the same totals as locally', async () => {
    const dag = {
      a: { agent: 'spend' },
      b: { agent: 'spend', depends_on: ['a'] },
      c: { agent: 'spend', depends_on: ['a'] },
      d: { agent: 'spend', depends_on: ['a'] },
      e: { agent: 'spend', depends_on: ['b', 'c', 'd'] },
    };
    const spend = { a: 30, b: 70, c: 110, d: 150, e: 41 };
    const context = { spend, step: 10 };
    const local = createRuntime({ threads: 2, agents });
    const remote = createRuntime({ redis: redis.url, agents, runTokens: 1_000 });
    try {
      const before = await budgets();
      const here = await local.execute(dag, { runTokens: 1_000, context });
      const there = await remote.execute(dag, { context });
      for (const run of [here, there]) {
        expect(run.done).toBe(5);
        expect(run.stoppedBy).toBeNull();
        expect(run.tokenBudget).toBe(1_000);
        expect(run.tokens).toBe(401);
        for (const [id, tokens] of Object.entries(spend))
          expect(run.tasks[id]?.tokens).toBe(tokens);
      }
      const after = [...(await budgets())].filter(([key]) => !before.has(key));
      expect(after.map(([, spent]) => spent)).toEqual([401]);
      // A second run of the same runtime has a budget of its own.
      const again = await remote.execute(dag, { context, runTokens: 401 });
      expect(again.done).toBe(5);
      expect(again.tokens).toBe(401);
    } finally {
      await Promise.all([local.close(), remote.close()]);
    }
  });

  it('runs `agentpool run --redis --run-tokens` and stops it at the budget', async () => {
    const run = async (budget: number) => {
      const out = await agentpool([
        'run',
        spendFile,
        '--redis',
        redis.url,
        '--run-tokens',
        String(budget),
        '--format',
        'json',
        '--context',
        JSON.stringify({ each: 30, step: 10 }),
      ]);
      expect(out.stderr).toBe('');
      return { code: out.code, run: JSON.parse(out.stdout) as RunResult };
    };
    const within = await run(151);
    expect(within.code).toBe(0);
    expect(within.run).toMatchObject({ done: 5, tokens: 150, tokenBudget: 151, stoppedBy: null });
    const over = await run(100);
    expect(over.code).not.toBe(0);
    expect(over.run).toMatchObject({ stoppedBy: 'token-budget', tokenBudget: 100 });
    expect(over.run.tokens).toBeLessThanOrEqual(100);
    expect(over.run.done).toBeLessThan(5);
  });
});
