import { describe, expect, it } from 'vitest';
import { compileDag } from '../../src/dag/validate.js';
import { type AttemptOutcome, type JudgeContext, judge } from '../../src/planner/judge.js';
import { TaskState, TaskTable } from '../../src/planner/task-table.js';
import { retryPolicySchema } from '../../src/retry.js';
import type { TaskError } from '../../src/shared/errors.js';

const policy = retryPolicySchema.parse({ max: 2, backoffMs: 100, factor: 3, jitter: false });
const context = (attempt: number, extra: Partial<JudgeContext> = {}): JudgeContext => ({
  policy,
  attempt,
  stopped: false,
  ...extra,
});
const error = (code: string): TaskError => ({ code, name: 'Error', message: code });
const base = { startedAt: 1, finishedAt: 2, threadId: 1, tokens: 0, cpuMs: 0, events: 0 };
const failed = (code: string): AttemptOutcome => ({
  kind: 'replied',
  reply: { ...base, ok: false, error: error(code) },
});

describe('judge', () => {
  it('ends a task whose attempt succeeded', () => {
    expect(judge({ kind: 'replied', reply: { ...base, ok: true, output: 1 } }, context(1))).toEqual(
      {
        kind: 'done',
      },
    );
  });

  it('retries a failure while attempts remain, with the backoff of that attempt', () => {
    expect(judge(failed('ERR_TASK_FAILED'), context(1))).toMatchObject({
      kind: 'retry',
      delayMs: 100,
    });
    expect(judge(failed('ERR_TASK_FAILED'), context(2))).toMatchObject({
      kind: 'retry',
      delayMs: 300,
    });
    expect(judge(failed('ERR_TASK_FAILED'), context(3))).toMatchObject({ kind: 'fail' });
  });

  it('judges a crash and a watchdog breach like a failed reply', () => {
    const crashed: AttemptOutcome = {
      kind: 'crashed',
      reply: { ...base, ok: false, error: error('ERR_WORKER_CRASHED') },
    };
    expect(judge(crashed, context(1)).kind).toBe('retry');
    const breached: AttemptOutcome = {
      kind: 'breached',
      error: error('ERR_CPU_LIMIT'),
      ending: { startedAt: 1, finishedAt: 2, threadId: 1 },
    };
    // A limit breach would only repeat: not retried by default.
    expect(judge(breached, context(1))).toEqual({ kind: 'fail', error: error('ERR_CPU_LIMIT') });
  });

  it('retries only the codes of `on` when it is given', () => {
    const only = { ...policy, on: ['ERR_FLAKY'] };
    expect(judge(failed('ERR_FLAKY'), context(1, { policy: only })).kind).toBe('retry');
    expect(judge(failed('ERR_TASK_FAILED'), context(1, { policy: only })).kind).toBe('fail');
    expect(
      judge(failed('ERR_CPU_LIMIT'), context(1, { policy: { ...policy, on: ['ERR_CPU_LIMIT'] } }))
        .kind,
    ).toBe('retry');
  });

  it('never retries once the run has stopped', () => {
    expect(judge(failed('ERR_TASK_FAILED'), context(1, { stopped: true })).kind).toBe('fail');
  });

  it('puts back what never ran, and stops the run on a refusal', () => {
    expect(judge({ kind: 'withdrawn' }, context(1))).toEqual({ kind: 'requeue' });
    expect(judge({ kind: 'refused' }, context(1))).toEqual({ kind: 'budget-spent' });
    expect(judge({ kind: 'refused' }, context(1, { stopped: true }))).toEqual({ kind: 'stopped' });
    const aborted: AttemptOutcome = { kind: 'aborted', startedAt: 1, threadId: 1 };
    expect(judge(aborted, context(1, { stopped: true }))).toEqual({ kind: 'stopped' });
  });

  it('judges an attempt stopped from outside a run that goes on as crashed: retried by policy', () => {
    const aborted: AttemptOutcome = { kind: 'aborted', startedAt: 1, threadId: 1 };
    expect(judge(aborted, context(1))).toMatchObject({
      kind: 'retry',
      delayMs: 100,
      error: { code: 'ERR_WORKER_CRASHED' },
    });
    expect(judge(aborted, context(3))).toMatchObject({
      kind: 'fail',
      error: { code: 'ERR_WORKER_CRASHED' },
    });
  });

  it('uses the jitter it is given: between half and all of the nominal wait', () => {
    const jittered = { ...policy, jitter: true };
    expect(judge(failed('E'), context(1, { policy: jittered, random: () => 0 }))).toMatchObject({
      delayMs: 50,
    });
    expect(judge(failed('E'), context(1, { policy: jittered, random: () => 1 }))).toMatchObject({
      delayMs: 100,
    });
  });
});

describe('TaskTable', () => {
  const graph = compileDag({
    a: { agent: 'x', prompt: '' },
    b: { agent: 'x', prompt: '', depends_on: ['a'] },
  });

  it('moves tasks along the lifecycle and counts the ended', () => {
    const table = new TaskTable(graph);
    expect(Array.from(table.pendingDeps)).toEqual([0, 1]);
    table.move(0, TaskState.Waiting, TaskState.Ready);
    table.move(0, TaskState.Ready, TaskState.Running);
    table.move(0, TaskState.Running, TaskState.Backoff);
    table.move(0, TaskState.Backoff, TaskState.Ready);
    table.move(0, TaskState.Ready, TaskState.Running);
    table.move(0, TaskState.Running, TaskState.Ended);
    table.move(1, TaskState.Waiting, TaskState.Ended);
    expect(table.ended).toBe(2);
  });

  it('rejects a move from a state the task is not in, or along no lifecycle edge', () => {
    const table = new TaskTable(graph);
    expect(() => table.move(0, TaskState.Ready, TaskState.Running)).toThrow(
      'task #0 cannot move ready -> running (it is waiting)',
    );
    expect(() => table.move(0, TaskState.Waiting, TaskState.Running)).toThrow('waiting -> running');
    table.move(0, TaskState.Waiting, TaskState.Ended);
    // An ended task stays ended: it cannot end twice.
    expect(() => table.move(0, TaskState.Ended, TaskState.Ended)).toThrow('ended -> ended');
    expect(table.ended).toBe(1);
  });
});
