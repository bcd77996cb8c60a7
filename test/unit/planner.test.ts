// The planner driven by a fake executor on a virtual clock: every ordering,
// retry, stop and deck decision checked without a thread or a sleep.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { newRunBudget } from '../../src/shared/run-budget.js';
import { harness } from './fake-executor.js';

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

const task = (agent: string, extra: Record<string, unknown> = {}) => ({
  agent,
  prompt: '',
  ...extra,
});

describe('planner: ready order', () => {
  it('hands out the highest critical-path rank first, one attempt per thread', async () => {
    // c heads the longest chain (c -> d -> e), then b (cost 5), then a.
    const h = harness({
      a: task('x', { cost: 1 }),
      b: task('x', { cost: 5 }),
      c: task('x', { cost: 2 }),
      d: task('x', { cost: 2, depends_on: ['c'] }),
      e: task('x', { cost: 2, depends_on: ['d'] }),
    });
    h.run.start();
    expect(h.executor.order()).toEqual(['c']);
    h.executor.last('c').reply({ ok: true, output: 'C' });
    await h.settle();
    // d is now ready with rank 4, b has 5.
    expect(h.executor.order()).toEqual(['c', 'b']);
    h.executor.last('b').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['c', 'b', 'd']);
    expect(h.executor.last('d').request.deps).toEqual({ c: 'C' });
    h.executor.last('d').reply({ ok: true });
    await h.settle();
    h.executor.last('e').reply({ ok: true });
    await h.settle();
    h.executor.last('a').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['c', 'b', 'd', 'e', 'a']);
    expect(h.result()).toMatchObject({ total: 5, done: 5, stoppedBy: null });
  });

  it('backfills past an agent at its concurrency cap, and takes the capped task as soon as it has room', async () => {
    const h = harness(
      {
        big1: task('capped', { cost: 10 }),
        big2: task('capped', { cost: 9 }),
        small: task('free', { cost: 1 }),
      },
      { threads: 2, agents: { capped: 1 } },
    );
    h.run.start();
    // big2 outranks small but its agent is capped: small takes the other thread.
    expect(h.executor.order()).toEqual(['big1', 'small']);
    h.executor.last('small').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['big1', 'small']);
    h.executor.last('big1').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['big1', 'small', 'big2']);
    h.executor.last('big2').reply({ ok: true });
    await h.settle();
    expect(h.result()?.done).toBe(3);
  });

  it('parks a task whose memory profile has no room and lets others go first', async () => {
    const h = harness(
      {
        heavy: task('x', { cost: 10, limits: { memoryMb: 64 } }),
        light: task('x', { cost: 1 }),
      },
      { threads: 2 },
    );
    let room = false;
    h.executor.room = (memoryMb) => memoryMb === undefined || room;
    h.run.start();
    expect(h.executor.order()).toEqual(['light']);
    room = true;
    h.executor.last('light').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['light', 'heavy']);
    expect(h.executor.last('heavy').request.memoryMb).toBe(64);
  });
});

describe('planner: short attempts and decks', () => {
  it('queues a short agent past one attempt per thread, up to the thread window', async () => {
    const dag = Object.fromEntries(['a', 'b', 'c', 'd', 'e'].map((id) => [id, task('tiny')]));
    const h = harness(dag, { threads: 2, perThread: 2, meanMs: { tiny: 0.1 } });
    h.run.start();
    expect(h.executor.order()).toEqual(['a', 'b', 'c', 'd']);
    expect(h.executor.submitted.every((s) => s.hints.short)).toBe(true);
  });

  it('puts the next task on deck behind a running one, and promotes it when that ends', async () => {
    const h = harness({ a: task('x'), b: task('x'), c: task('x') }, { threads: 1, perThread: 2 });
    h.run.start();
    // One runs; the next waits on deck on the same thread; the third waits here.
    expect(h.executor.order()).toEqual(['a', 'b']);
    const deck = h.executor.last('b');
    expect(deck.hints).toMatchObject({ short: false, behind: h.executor.last('a').threadId });
    expect(h.slots.decked).toBe(1);
    h.executor.last('a').reply({ ok: true });
    await h.settle();
    // b is its thread's own now, and c goes on deck behind it.
    expect(h.executor.order()).toEqual(['a', 'b', 'c']);
    expect(h.executor.last('c').hints.behind).toBe(deck.threadId);
    expect(h.slots.decked).toBe(1);
    deck.reply({ ok: true });
    await h.settle();
    h.executor.last('c').reply({ ok: true });
    await h.settle();
    expect(h.result()?.done).toBe(3);
    expect(h.slots.decked).toBe(0);
    expect(h.slots.inFlight).toBe(0);
  });

  it('takes an attempt back from the deck when another thread frees up first, under the same attempt number', async () => {
    const h = harness(
      { t2: task('x', { cost: 10 }), x: task('x', { cost: 6 }), t1: task('x', { cost: 5 }) },
      { threads: 2, perThread: 2 },
    );
    h.run.start();
    // t1 waits on deck behind x, the one expected to end first.
    expect(h.executor.order()).toEqual(['t2', 'x', 't1']);
    const onDeck = h.executor.last('t1');
    expect(onDeck.hints.behind).toBe(h.executor.last('x').threadId);
    // t2 ends first: its thread is idle, so t1 is taken back and goes there.
    h.executor.last('t2').reply({ ok: true });
    await h.settle();
    expect(onDeck.done).toBe(true);
    expect(onDeck.aborted).toBeUndefined();
    const moved = h.executor.last('t1');
    expect(moved).not.toBe(onDeck);
    expect(moved.request.attempt).toBe(1);
    expect(moved.hints.behind).toBeUndefined();
    expect(h.slots.decked).toBe(0);
  });

  it('hands no short attempt over while one of higher rank waits on deck: it would begin first', async () => {
    const meanMs = { x: 5 };
    const h = harness(
      { a: task('x'), b: task('x'), c: task('x') },
      { threads: 1, perThread: 4, meanMs },
    );
    h.run.start();
    expect(h.executor.order()).toEqual(['a', 'b']);
    expect(h.executor.last('b').hints.behind).toBe(h.executor.last('a').threadId);
    // The agent's mean drops under the short bound: c would now queue on the thread, ahead of b.
    meanMs.x = 0.1;
    h.run.wake();
    await h.settle();
    expect(h.executor.order()).toEqual(['a', 'b']);
    h.executor.last('a').reply({ ok: true });
    await h.settle();
    expect(h.executor.order()).toEqual(['a', 'b', 'c']);
    expect(h.executor.last('c').hints.short).toBe(true);
  });

  it('takes back attempts on deck when the run stops: they never began', async () => {
    const h = harness({ a: task('x'), b: task('x') }, { threads: 1, perThread: 2 });
    h.run.start();
    const running = h.executor.last('a').begin();
    const onDeck = h.executor.last('b');
    h.run.cancel();
    await h.settle();
    expect(running.aborted).toBe('stop');
    expect(onDeck.aborted).toBeUndefined();
    expect(h.result()?.tasks.a).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(h.result()?.tasks.b).toMatchObject({ status: 'cancelled', attempts: 0 });
  });
});

describe('planner: retries and backoff', () => {
  it('waits out each backoff on the clock, holding no slot, then retries', async () => {
    const h = harness({ a: task('x') }, { retry: { max: 2, backoffMs: 100, factor: 2 } });
    h.run.start();
    h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    await h.settle();
    expect(h.slots.inFlight).toBe(0);
    await h.advance(99);
    expect(h.executor.of('a')).toHaveLength(1);
    await h.advance(1);
    expect(h.executor.of('a')).toHaveLength(2);
    expect(h.executor.last('a').request.attempt).toBe(2);
    h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    await h.settle();
    await h.advance(199);
    expect(h.executor.of('a')).toHaveLength(2);
    await h.advance(1);
    h.executor.last('a').reply({ ok: true, output: 3 });
    await h.settle();
    const retries = h.events.filter((e) => e.type === 'retry');
    expect(retries.map((e) => (e as { delayMs: number }).delayMs)).toEqual([100, 200]);
    expect(h.result()?.tasks.a).toMatchObject({ status: 'done', attempts: 3, output: 3 });
  });

  it('does not retry a code outside `retries.on`, nor a limit breach by default', async () => {
    const h = harness(
      { a: task('x', { retries: { max: 3, on: ['ERR_FLAKY'] } }), b: task('x', { retries: 3 }) },
      { threads: 2 },
    );
    h.run.start();
    h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    h.executor.last('b').reply({ ok: false, code: 'ERR_CPU_LIMIT' });
    await h.settle();
    expect(h.result()?.tasks.a).toMatchObject({ status: 'failed', attempts: 1 });
    expect(h.result()?.tasks.b).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('stops a thread that overruns its timeout and grace, and retries by policy', async () => {
    const h = harness({ a: task('x') }, { timeoutMs: 1_000, timeoutGraceMs: 100 });
    h.run.start();
    const first = h.executor.last('a').begin();
    await h.advance(1_099);
    expect(first.aborted).toBeUndefined();
    await h.advance(1);
    expect(first.aborted).toBe('breach');
    const retry = h.events.find((e) => e.type === 'retry') as { error: { code: string } };
    expect(retry.error.code).toBe('ERR_TASK_TIMEOUT');
  });
});

describe('planner: every attempt has a deadline from when it is handed over', () => {
  it('says so when the thread of a timed-out attempt could not be stopped, and keeps its slot until then', async () => {
    const h = harness({ a: task('x', { retries: 0 }) }, { timeoutMs: 500, timeoutGraceMs: 50 });
    h.run.start();
    const a = h.executor.last('a').begin();
    a.stopResult = 'stuck';
    await h.advance(550);
    const result = h.result()?.tasks.a;
    expect(result?.status === 'failed' && result.error.message).toContain(
      'did not stop when terminated',
    );
    expect(h.slots.inFlight).toBe(0);
  });

  it('reports an attempt that never began as overdue each period, without failing it', async () => {
    const h = harness({ a: task('x') }, { timeoutMs: 500, timeoutGraceMs: 50 });
    h.run.start();
    const a = h.executor.last('a');
    await h.advance(549);
    expect(a.overdueCalls).toBe(0);
    await h.advance(1);
    expect(a.overdueCalls).toBe(1);
    await h.advance(550);
    expect(a.overdueCalls).toBe(2);
    expect(a.done).toBe(false);
    // Once it begins, its own timeout counts from its start.
    a.begin();
    await h.advance(549);
    expect(a.aborted).toBeUndefined();
    await h.advance(1);
    expect(a.aborted).toBe('breach');
  });

  it('fails an attempt that finished on its thread but whose reply never came', async () => {
    const h = harness({ a: task('x', { retries: 0 }) }, { timeoutMs: 500, timeoutGraceMs: 50 });
    h.run.start();
    const a = h.executor.last('a').begin();
    await h.advance(10);
    a.finishSilently();
    await h.advance(540);
    expect(a.aborted).toBe('breach');
    await h.settle();
    const result = h.result()?.tasks.a;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'ERR_TASK_TIMEOUT' } });
    expect(result?.status === 'failed' && result.error.message).toContain('its reply never came');
  });
});

describe('planner: trigger rules', () => {
  it('skips all_success dependents naming the failed task, runs all_done and one_failed ones', async () => {
    const h = harness(
      {
        bad: task('x', { retries: 0 }),
        good: task('x'),
        strict: task('x', { depends_on: ['bad', 'good'] }),
        after: task('x', { depends_on: ['strict'] }),
        cleanup: task('x', { depends_on: ['bad', 'good'], trigger: 'all_done' }),
        alarm: task('x', { depends_on: ['bad'], trigger: 'one_failed' }),
        happy: task('x', { depends_on: ['good'], trigger: 'one_failed' }),
      },
      { threads: 2 },
    );
    h.run.start();
    h.executor.last('bad').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    h.executor.last('good').reply({ ok: true });
    await h.settle();
    for (const id of ['cleanup', 'alarm']) {
      h.executor.last(id).reply({ ok: true });
      await h.settle();
    }
    const tasks = h.result()?.tasks;
    expect(tasks?.strict).toMatchObject({
      status: 'skipped',
      error: { code: 'ERR_UPSTREAM_FAILED' },
    });
    expect(tasks?.after).toMatchObject({
      status: 'skipped',
      error: { code: 'ERR_UPSTREAM_FAILED' },
    });
    expect(tasks?.after?.status === 'skipped' && tasks.after.error.message).toContain('bad');
    expect(tasks?.happy).toMatchObject({
      status: 'skipped',
      error: { code: 'ERR_TRIGGER_NOT_MET' },
    });
    expect(h.executor.last('cleanup').request.depStatus).toEqual({ bad: 'failed', good: 'done' });
    expect(h.executor.order()).not.toContain('strict');
  });
});

describe('planner: stops', () => {
  it('fail-fast cancels what has not begun and lets running attempts finish', async () => {
    const h = harness(
      {
        a: task('x', { cost: 3, retries: 0 }),
        b: task('x', { cost: 2 }),
        c: task('x', { cost: 1 }),
      },
      { threads: 2, failFast: true },
    );
    h.run.start();
    expect(h.executor.order()).toEqual(['a', 'b']);
    h.executor.last('b').begin();
    h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    await h.settle();
    expect(h.executor.last('b').aborted).toBeUndefined();
    h.executor.last('b').reply({ ok: true });
    await h.settle();
    const result = h.result();
    expect(result?.stoppedBy).toBe('fail-fast');
    expect(result?.tasks.b?.status).toBe('done');
    expect(result?.tasks.c).toMatchObject({ status: 'cancelled', attempts: 0 });
  });

  it('a signal aborts running attempts and cancels the rest, and ends a waiting backoff', async () => {
    const controller = new AbortController();
    const h = harness(
      { a: task('x', { cost: 2 }), b: task('x', { cost: 1 }), c: task('x', { depends_on: ['a'] }) },
      { threads: 1, signal: controller.signal, retry: { backoffMs: 10_000 } },
    );
    h.run.start();
    h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
    await h.settle();
    // a waits out its backoff; b runs.
    const b = h.executor.last('b').begin();
    controller.abort();
    await h.settle();
    expect(b.aborted).toBe('stop');
    const tasks = h.result()?.tasks;
    expect(tasks?.a).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(tasks?.b).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(tasks?.c).toMatchObject({ status: 'cancelled', attempts: 0 });
    expect(h.result()?.stoppedBy).toBe('signal');
    // No backoff timer is left to fire.
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lease-lost cancels what was never handed over and leaves every handed attempt alone, begun or on deck', async () => {
    const h = harness(
      { a: task('x'), b: task('x'), c: task('x', { depends_on: ['a'] }) },
      { threads: 1, perThread: 2 },
    );
    h.run.start();
    const running = h.executor.last('a').begin();
    const onDeck = h.executor.last('b');
    h.run.cancel('lease-lost');
    await h.settle();
    // Another planner adopts their jobs: neither is stopped nor taken back.
    expect(running.aborted).toBeUndefined();
    expect(onDeck.done).toBe(false);
    expect(h.result()).toBeUndefined();
    running.reply({ ok: true });
    onDeck.begin().reply({ ok: true });
    await h.settle();
    const result = h.result();
    expect(result?.stoppedBy).toBe('lease-lost');
    expect(result?.tasks.a?.status).toBe('done');
    expect(result?.tasks.b?.status).toBe('done');
    expect(result?.tasks.c).toMatchObject({
      status: 'cancelled',
      attempts: 0,
      error: { code: 'ERR_CLUSTER_RUN_LEASED' },
    });
    expect(h.executor.order()).toEqual(['a', 'b']);
  });

  it('stops the run when its token budget is spent, skipping what has not begun', async () => {
    const h = harness(
      { a: task('x', { cost: 3 }), b: task('x', { cost: 2 }), c: task('x', { cost: 1 }) },
      { threads: 1, runTokens: 100 },
    );
    h.run.start();
    const a = h.executor.last('a');
    const budget = a.request.runTokens;
    expect(budget?.budget).toBe(100);
    // A worker charged the whole budget.
    Atomics.store(new BigInt64Array(budget?.buffer ?? newRunBudget()), 0, 100n);
    a.reply({ ok: true });
    await h.settle();
    const result = h.result();
    expect(result?.stoppedBy).toBe('token-budget');
    expect(result?.tasks.b).toMatchObject({
      status: 'skipped',
      error: { code: 'ERR_RUN_TOKEN_BUDGET' },
    });
    expect(h.executor.order()).toEqual(['a']);
  });

  it('a refused attempt stops the run and ends as never begun', async () => {
    const h = harness(
      { a: task('x', { cost: 2 }), b: task('x', { cost: 1 }) },
      { threads: 1, runTokens: 10 },
    );
    h.run.start();
    h.executor.last('a').refuse();
    await h.settle();
    const result = h.result();
    expect(result?.stoppedBy).toBe('token-budget');
    expect(result?.tasks.a).toMatchObject({ status: 'skipped', attempts: 0, startedAt: null });
  });
});

describe('planner: batched fan-out', () => {
  it('retries only the prompts whose try failed, and keeps the ones that succeeded', async () => {
    const batches = new Map([['batch_0', { ids: ['p0', 'p1', 'p2'], prompts: ['a', 'b', 'c'] }]]);
    const h = harness({ batch_0: task('x') }, { batches, retry: { max: 1, backoffMs: 10 } });
    h.run.start();
    const first = h.executor.last('batch_0');
    expect(first.request.batch?.ids).toEqual(['p0', 'p1', 'p2']);
    const item = (ok: boolean, output?: unknown) => ({
      startedAt: 0,
      finishedAt: 1,
      tokens: 0,
      cpuMs: 0,
      ...(ok ? { ok, output } : { ok, error: { code: 'ERR_TASK_FAILED', message: 'no' } }),
    });
    first.reply({ ok: true, output: [item(true, 'A'), item(false), item(true, 'C')] });
    await h.settle();
    await h.advance(10);
    const second = h.executor.last('batch_0');
    expect(second.request.batch).toEqual({ ids: ['p1'], prompts: ['b'] });
    second.reply({ ok: true, output: [item(true, 'B')] });
    await h.settle();
    const prompts = h.run.promptResults('batch_0');
    expect(prompts.map((r) => [r.id, r.status, r.attempts])).toEqual([
      ['p0', 'done', 1],
      ['p1', 'done', 2],
      ['p2', 'done', 1],
    ]);
    expect(prompts.map((r) => (r.status === 'done' ? r.output : null))).toEqual(['A', 'B', 'C']);
  });
});
