import {
  createRuntime,
  type RunResult,
  type Runtime,
  runResultSchema,
  type TaskResult,
} from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture, maxOverlap, startOrder } from './helpers.js';

describe('running a DAG on worker threads', () => {
  let runtime: Runtime;
  beforeAll(() => {
    runtime = createRuntime({
      threads: 2,
      retries: { max: 1, backoffMs: 10 },
      agents: {
        researcher: fixture('echo'),
        writer: fixture('echo'),
        reviewer: fixture('echo'),
        translator: fixture('echo'),
        sleep: fixture('sleep'),
        fail: fixture('fail'),
      },
    });
  });
  afterAll(() => runtime.close());

  it('runs the four-task example, passing context and dependency outputs', async () => {
    const run = await runtime.execute(
      {
        research: { agent: 'researcher', prompt: 'Research topic X', context: { depth: 2 } },
        draft: { agent: 'writer', prompt: 'Draft it', depends_on: ['research'] },
        review: { agent: 'reviewer', prompt: 'Review the draft', depends_on: ['draft'] },
        translate: { agent: 'translator', prompt: 'Translate', depends_on: ['draft'] },
      },
      { context: { topic: 'worker threads', depth: 1 } },
    );
    expect(runResultSchema.parse(JSON.parse(JSON.stringify(run)))).toBeTruthy();
    expect(run).toMatchObject({
      total: 4,
      done: 4,
      failed: 0,
      skipped: 0,
      cancelled: 0,
      successRate: 1,
    });
    const research = expectStatus(run.tasks.research, 'done');
    expect(research.output).toMatchObject({
      prompt: 'Research topic X',
      context: { topic: 'worker threads', depth: 2 },
      deps: {},
    });
    const review = expectStatus(run.tasks.review, 'done');
    expect(review.output).toMatchObject({
      prompt: 'Review the draft',
      context: { topic: 'worker threads', depth: 1 },
      deps: { draft: { prompt: 'Draft it' } },
      depStatus: { draft: 'done' },
    });
    for (const id of ['review', 'translate']) {
      expect(run.tasks[id]?.startedAt).toBeGreaterThanOrEqual(
        run.tasks.draft?.finishedAt as number,
      );
    }
    expect(review.attempts).toBe(1);
    expect(review.threadId).toBeGreaterThan(0);
  });

  it('runs an empty DAG as a run of zero tasks', async () => {
    const run = await runtime.execute({});
    expect(run).toMatchObject({ total: 0, done: 0, successRate: 1, stoppedBy: null, tasks: {} });
  });

  it("skips a failed task's dependents and nothing else", async () => {
    const run = await runtime.execute({
      bad: { agent: 'fail', retries: 0 },
      child: { agent: 'sleep', prompt: '1', depends_on: ['bad'] },
      grandchild: { agent: 'sleep', prompt: '1', depends_on: ['child'] },
      sibling: { agent: 'sleep', prompt: '30' },
      mixed: { agent: 'sleep', prompt: '1', depends_on: ['sibling', 'bad'] },
      independent: { agent: 'sleep', prompt: '1', depends_on: ['sibling'] },
    });
    const bad = expectStatus(run.tasks.bad, 'failed');
    expect(bad.error).toMatchObject({ code: 'E_BOOM', name: 'Error', message: 'boom: ' });
    expect(bad.error.stack).toContain('fail.js');
    for (const id of ['child', 'grandchild', 'mixed']) {
      const skipped = expectStatus(run.tasks[id], 'skipped');
      expect(skipped.error.code).toBe('ERR_UPSTREAM_FAILED');
      // The root cause is named, even two levels down.
      expect(skipped.error.upstream).toEqual(['bad']);
      expect(skipped.attempts).toBe(0);
    }
    expect(run.tasks.grandchild?.error?.message).toContain('"bad"');
    expectStatus(run.tasks.sibling, 'done');
    expectStatus(run.tasks.independent, 'done');
    expect(run).toMatchObject({ done: 2, failed: 1, skipped: 3, cancelled: 0 });
  });

  it('dispatches a task the moment its dependency succeeds, not after its level', async () => {
    // Level view: {slow, quick} then {after}. A barrier would hold `after` until `slow` ends.
    const run = await runtime.execute({
      slow: { agent: 'sleep', prompt: '400' },
      quick: { agent: 'sleep', prompt: '10' },
      after: { agent: 'sleep', prompt: '10', depends_on: ['quick'] },
    });
    expect(run.done).toBe(3);
    const after = run.tasks.after?.startedAt as number;
    expect(after).toBeLessThan(run.tasks.slow?.finishedAt as number);
    expect(after).toBeGreaterThanOrEqual(run.tasks.quick?.finishedAt as number);
  });

  it('never runs more tasks at once than threads', async () => {
    const dag = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`t${i}`, { agent: 'sleep', prompt: '40' }]),
    );
    const run = await runtime.execute(dag);
    expect(run.done).toBe(10);
    expect(maxOverlap(Object.values(run.tasks))).toBe(2);
  });

  it('prefers a thread that already loaded the agent', async () => {
    const local = createRuntime({
      threads: 2,
      agents: { probe: fixture('thread-id'), sleep: fixture('sleep') },
    });
    try {
      // The first thread is busy, so the probe agent loads on the second only.
      const busy = local.execute({ hold: { agent: 'sleep', prompt: '150' } });
      await new Promise((r) => setTimeout(r, 50));
      const first = await local.execute({ p: { agent: 'probe' } });
      const warm = first.tasks.p?.threadId;
      await busy;
      // Both threads are idle now; the first in line has not loaded it, the second has.
      for (let k = 0; k < 4; k++) {
        const run = await local.execute({ p: { agent: 'probe' } });
        expect(run.tasks.p?.threadId).toBe(warm);
        expect(expectStatus(run.tasks.p, 'done').output).toMatchObject({ loads: 1 });
      }
    } finally {
      await local.close();
    }
  });
});

describe('critical-path order', () => {
  // One thread makes the order of starts exactly the planner's order.
  let runtime: Runtime;
  beforeAll(() => {
    runtime = createRuntime({
      threads: 1,
      agents: { sleep: fixture('sleep') },
    });
  });
  afterAll(() => runtime.close());

  it('starts the task heading the longest chain first', async () => {
    const run = await runtime.execute({
      leaf: { agent: 'sleep', prompt: '1' },
      head: { agent: 'sleep', prompt: '1' },
      mid: { agent: 'sleep', prompt: '1', depends_on: ['head'] },
      end: { agent: 'sleep', prompt: '1', depends_on: ['mid'] },
    });
    // Ranks: head 3, mid 2, leaf 1, end 1; equal ranks go in DAG order.
    expect(startOrder(run)).toEqual(['head', 'mid', 'leaf', 'end']);
  });

  it('uses cost hints as the estimate', async () => {
    const run = await runtime.execute({
      cheap: { agent: 'sleep', prompt: '1', cost: 1 },
      dear: { agent: 'sleep', prompt: '1', cost: 50 },
      afterCheap: { agent: 'sleep', prompt: '1', cost: 1, depends_on: ['cheap'] },
    });
    expect(startOrder(run)[0]).toBe('dear');
  });

  it('adds priority to the rank', async () => {
    const run = await runtime.execute({
      a: { agent: 'sleep', prompt: '1' },
      b: { agent: 'sleep', prompt: '1' },
      c: { agent: 'sleep', prompt: '1', priority: 5 },
    });
    expect(startOrder(run)).toEqual(['c', 'a', 'b']);
  });

  it("learns an agent's duration from earlier runs", async () => {
    // A runtime of its own: the block's other tests run `sleep` for 1 ms, and
    // on a loaded machine one 1 ms run of `other` can measure longer than
    // their mean. Here the slow agent is taught 150 ms against 1 ms.
    const learning = createRuntime({
      threads: 1,
      agents: { slowAgent: fixture('sleep'), fastAgent: { module: fixture('sleep') } },
    });
    try {
      await learning.execute({
        s: { agent: 'slowAgent', prompt: '150' },
        o: { agent: 'fastAgent', prompt: '1' },
      });
      // ...so among equal-hop tasks, the slow agent's goes first.
      const run = await learning.execute({
        fast: { agent: 'fastAgent', prompt: '1' },
        slow: { agent: 'slowAgent', prompt: '1' },
      });
      expect(startOrder(run)).toEqual(['slow', 'fast']);
    } finally {
      await learning.close();
    }
  });
});

describe('short tasks', () => {
  it('queues a short agent on busy threads once learnt, still one attempt per thread at a time', async () => {
    const runtime = createRuntime({ threads: 2, agents: { echo: fixture('echo') } });
    try {
      // Learnt short (a mean under 1 ms): on a loaded machine two warm-up
      // calls could average more (one was preempted), so warm up until it is.
      const warmup = Array.from({ length: 50 }, (_, k) => `warm ${k}`);
      for (let round = 0; round < 20 && !((runtime.stats().agents.echo?.meanMs ?? 1) < 1); round++)
        await runtime.fanOut('echo', warmup);
      expect(runtime.stats().agents.echo?.meanMs).toBeLessThan(1);
      // When each attempt was handed to its thread.
      const handedAt = new Map<string, number>();
      const off = runtime.on('task', (event) => {
        if (event.type === 'started') handedAt.set(event.id, event.at);
      });
      const results = await runtime.fanOut(
        'echo',
        Array.from({ length: 300 }, (_, k) => String(k)),
      );
      off();
      expect(results.every((r) => r.status === 'done')).toBe(true);
      // Some attempts were handed to a thread before the one it was running had ended.
      let handedEarly = 0;
      const byThread = new Map<number | null, typeof results>();
      for (const r of results) byThread.set(r.threadId, [...(byThread.get(r.threadId) ?? []), r]);
      for (const list of byThread.values()) {
        list.sort((a, b) => (a.startedAt as number) - (b.startedAt as number));
        for (let k = 1; k < list.length; k++) {
          if ((handedAt.get(list[k]?.id as string) as number) < (list[k - 1]?.finishedAt as number))
            handedEarly++;
        }
      }
      expect(handedEarly).toBeGreaterThan(0);
      expect(maxOverlap(results)).toBeLessThanOrEqual(2);
      for (const list of byThread.values()) expect(maxOverlap(list)).toBe(1);
    } finally {
      await runtime.close();
    }
  });
});

describe('attempts on deck', () => {
  let runtime: Runtime;
  // When each attempt was handed to its thread.
  const handedAt = new Map<string, number>();
  // Per run, the order in which tasks were first handed to a thread.
  const handedOrder = new Map<string, string[]>();
  beforeAll(async () => {
    runtime = createRuntime({ threads: 2, agents: { sleep: fixture('sleep') } });
    runtime.on('task', (event) => {
      if (event.type !== 'started') return;
      // Once per task: a deck taken back is handed out again.
      const order = handedOrder.get(event.runId) ?? [];
      if (!order.includes(event.id)) handedOrder.set(event.runId, [...order, event.id]);
      handedAt.set(event.id, event.at);
    });
    // Both threads up and the agent loaded, so no cold start passes for a decision.
    await runtime.execute({
      a: { agent: 'sleep', prompt: '20' },
      b: { agent: 'sleep', prompt: '20' },
    });
  });
  afterAll(() => runtime.close());

  /** Tasks handed to their thread while the one before them there still ran. */
  function onDeck(run: RunResult): string[] {
    const byThread = new Map<number | null, TaskResult[]>();
    for (const r of Object.values(run.tasks))
      byThread.set(r.threadId, [...(byThread.get(r.threadId) ?? []), r]);
    const early: string[] = [];
    for (const list of byThread.values()) {
      list.sort((a, b) => (a.startedAt as number) - (b.startedAt as number));
      for (let k = 1; k < list.length; k++) {
        const r = list[k] as TaskResult;
        if ((handedAt.get(r.id) as number) < (list[k - 1]?.finishedAt as number)) early.push(r.id);
      }
    }
    return early.sort();
  }

  it('hands each thread its next task before its current one ends, in rank order', async () => {
    const dag = Object.fromEntries(
      Array.from({ length: 8 }, (_, k) => [
        `t${k}`,
        // Ranked against DAG order, so handing out in DAG order would fail.
        { agent: 'sleep', prompt: '40', cost: 70 + k },
      ]),
    );
    const run = await runtime.execute(dag);
    expect(run.done).toBe(8);
    // Eight equal tasks on two threads: all but the first two can wait on deck.
    expect(onDeck(run).length).toBeGreaterThan(0);
    // Handed out in rank order (when each then starts depends on when its
    // thread frees up: on a loaded machine one thread can fall a task behind
    // the other, and a deck then moves to the thread that freed up first).
    expect(handedOrder.get(run.runId)).toEqual(Array.from({ length: 8 }, (_, k) => `t${7 - k}`));
    // Two at a time.
    expect(maxOverlap(Object.values(run.tasks))).toBe(2);
  });

  it('puts nothing on deck behind a task whose end readies something ranked higher', async () => {
    const run = await runtime.execute({
      // head's end readies next, which outranks every other ready task.
      head: { agent: 'sleep', prompt: '80', cost: 10 },
      other: { agent: 'sleep', prompt: '80', cost: 10 },
      next: { agent: 'sleep', prompt: '10', cost: 100, depends_on: ['head'] },
      low1: { agent: 'sleep', prompt: '10', cost: 50 },
      low2: { agent: 'sleep', prompt: '10', cost: 50 },
    });
    expect(run.done).toBe(5);
    const head = run.tasks.head as TaskResult;
    // The low tasks went on deck behind each other, never behind head...
    expect(onDeck(run).length).toBeGreaterThan(0);
    for (const r of Object.values(run.tasks)) {
      if (
        r.threadId === head.threadId &&
        r.startedAt !== null &&
        r.startedAt > (head.startedAt as number)
      )
        expect(handedAt.get(r.id), r.id).toBeGreaterThanOrEqual(head.finishedAt);
    }
    // ...so head's thread went on to next, not to a lower-ranked task.
    expect(run.tasks.next?.threadId).toBe(head.threadId);
  });

  it('takes an attempt back from the deck when another thread frees up first', async () => {
    const run = await runtime.execute({
      // Estimated to end first, so the deck goes behind it; it ends last.
      slow: { agent: 'sleep', prompt: '400', cost: 10 },
      quick: { agent: 'sleep', prompt: '20', cost: 30 },
      waiting: { agent: 'sleep', prompt: '10', cost: 5 },
      filler: { agent: 'sleep', prompt: '10', cost: 5 },
    });
    expect(run.done).toBe(4);
    // `waiting` did not wait out `slow`: it ran on quick's thread as soon as that was free.
    expect(run.tasks.waiting?.startedAt).toBeLessThan(run.tasks.slow?.finishedAt as number);
    expect(run.tasks.waiting?.threadId).toBe(run.tasks.quick?.threadId);
    expect(run.tasks.waiting?.attempts).toBe(1);
  });

  it('puts nothing on deck when the critical path, not the threads, bounds the run', async () => {
    const run = await runtime.execute({
      a: { agent: 'sleep', prompt: '30', cost: 100 },
      b: { agent: 'sleep', prompt: '30', cost: 100, depends_on: ['a'] },
      c: { agent: 'sleep', prompt: '30', cost: 100, depends_on: ['b'] },
      x: { agent: 'sleep', prompt: '30', cost: 10 },
      y: { agent: 'sleep', prompt: '30', cost: 10 },
      z: { agent: 'sleep', prompt: '30', cost: 10 },
    });
    expect(run.done).toBe(6);
    expect(onDeck(run)).toEqual([]);
  });
});

describe('per-agent concurrency', () => {
  it('caps an agent and backfills the free thread with other agents', async () => {
    const runtime = createRuntime({
      threads: 2,
      agents: { limited: { module: fixture('sleep'), concurrency: 1 }, free: fixture('sleep') },
    });
    try {
      // Load both agents on both threads first, so a slow cold start on a busy
      // machine cannot pass for a scheduling decision.
      await runtime.execute({
        w1: { agent: 'limited', prompt: '1' },
        w2: { agent: 'free', prompt: '1' },
        w3: { agent: 'free', prompt: '1' },
      });
      const run = await runtime.execute({
        // The limited tasks rank highest, yet only one may run at a time.
        l1: { agent: 'limited', prompt: '150', cost: 100 },
        l2: { agent: 'limited', prompt: '150', cost: 100 },
        l3: { agent: 'limited', prompt: '150', cost: 100 },
        f1: { agent: 'free', prompt: '10', cost: 1 },
        f2: { agent: 'free', prompt: '10', cost: 1 },
      });
      expect(run.done).toBe(5);
      const limited = ['l1', 'l2', 'l3'].map((id) => run.tasks[id]).filter((r) => r !== undefined);
      expect(maxOverlap(limited)).toBe(1);
      // Backfill: the free agent's tasks ran on the other thread while the
      // limited ones queued, instead of waiting behind them.
      // Without it they would wait until l1 ended and l2 took the thread back.
      expect(run.tasks.f2?.finishedAt).toBeLessThan(run.tasks.l1?.finishedAt as number);
    } finally {
      await runtime.close();
    }
  });
});
