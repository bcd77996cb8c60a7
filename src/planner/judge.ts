import { backoffDelay, type RetryPolicy, retries } from '../retry.js';
import { type TaskError, taskError } from '../shared/errors.js';
import type { TaskReply } from '../shared/protocol.js';

/** How an attempt ended, as its task's result records it. */
export interface Ending {
  output?: unknown;
  error?: TaskError;
  startedAt: number | null;
  finishedAt: number;
  threadId: number | null;
  cpuMs?: number | undefined;
  /** With `redis`: the worker process that ran it. */
  worker?: string | undefined;
}

/** How one attempt ended, on the planner's side. Data: `judge` decides what follows. */
export type AttemptOutcome =
  /** It ran and replied, and every event it sent has been delivered. */
  | { kind: 'replied'; reply: TaskReply }
  /** It produced no reply: its thread died under it. */
  | { kind: 'crashed'; reply: TaskReply & { ok: false } }
  /** Its worker would not begin it: the run's token budget was spent. It never ran. */
  | { kind: 'refused' }
  /** Taken back before it began (a deck reviewed, the run stopping). It never ran. */
  | { kind: 'withdrawn' }
  /** Stopped as its run stopped. */
  | { kind: 'aborted'; startedAt: number; threadId: number | null }
  /** The watchdog stopped it: past its timeout and grace, or over its CPU limit. */
  | { kind: 'breached'; error: TaskError; ending: Ending };

/** What happens to a task after one of its attempts ended. */
export type Verdict =
  /** It succeeded: the task is done. */
  | { kind: 'done' }
  /** It failed for good: the task fails (and fail-fast applies). */
  | { kind: 'fail'; error: TaskError }
  /** It failed: another attempt after `delayMs`. */
  | { kind: 'retry'; error: TaskError; delayMs: number }
  /** It never ran: the task is ready again, under the same attempt number. */
  | { kind: 'requeue' }
  /** It never ran because the run's budget is spent: the run stops. */
  | { kind: 'budget-spent' }
  /** The run's stop ended it: the task ends as the stop ends everything. */
  | { kind: 'stopped' };

/** What `judge` reads besides the outcome. */
export interface JudgeContext {
  policy: RetryPolicy;
  /** The attempt that ended, 1-based. */
  attempt: number;
  /** Whether the run has stopped (nothing new starts, nothing is retried). */
  stopped: boolean;
  /** For the backoff's jitter. */
  random?: (() => number) | undefined;
}

/** Whether a failure with `code` earns another attempt. */
export function mayRetry(code: string, { policy, attempt, stopped }: JudgeContext): boolean {
  return !stopped && attempt <= policy.max && retries(policy, code);
}

/** How long to wait before the attempt after `context.attempt` (which failed). */
export function retryDelay({ policy, attempt, random }: JudgeContext): number {
  return backoffDelay(policy, attempt, random);
}

/**
 * Retry or end: a pure function of how the attempt ended, the task's retry
 * policy, the attempt's number and whether the run has stopped. A batch's
 * reply is judged prompt by prompt by its ledger (with `mayRetry`), not here.
 */
export function judge(outcome: AttemptOutcome, context: JudgeContext): Verdict {
  switch (outcome.kind) {
    case 'withdrawn':
      return { kind: 'requeue' };
    case 'refused':
      return context.stopped ? { kind: 'stopped' } : { kind: 'budget-spent' };
    case 'aborted': {
      if (context.stopped) return { kind: 'stopped' };
      // Stopped from outside a run that goes on (a job another planner of
      // the run cancelled): an attempt lost, judged as a crashed one.
      const error = taskError('ERR_WORKER_CRASHED', 'the attempt was stopped from outside its run');
      if (!mayRetry(error.code, context)) return { kind: 'fail', error };
      return { kind: 'retry', error, delayMs: retryDelay(context) };
    }
    case 'replied':
    case 'crashed':
    case 'breached': {
      const error =
        outcome.kind === 'breached'
          ? outcome.error
          : outcome.reply.ok
            ? undefined
            : outcome.reply.error;
      if (error === undefined) return { kind: 'done' };
      if (!mayRetry(error.code, context)) return { kind: 'fail', error };
      return { kind: 'retry', error, delayMs: retryDelay(context) };
    }
  }
}
