import { now } from '../shared/clock.js';
import type { TaskError } from '../shared/errors.js';
import type { BatchItem } from '../shared/protocol.js';
import type { BatchLedger } from './batch-ledger.js';
import {
  type AttemptOutcome,
  type Ending,
  type JudgeContext,
  judge,
  mayRetry,
  retryDelay,
} from './judge.js';
import type { RunSettings } from './run-settings.js';
import type { TaskPolicy } from './task-policy.js';
import type { TaskTable } from './task-table.js';

/** What the run does with a task after one of its attempts settled. */
export type Booking =
  /** The task ends `done` or `failed`; `anyFailed` (a failure, or a batch prompt's) is what fail-fast reads. */
  | { kind: 'end'; status: 'done' | 'failed'; ending: Ending; anyFailed: boolean }
  /** Another attempt after `delayMs`. */
  | { kind: 'retry'; delayMs: number; error: TaskError; ending: Ending }
  /** It never ran: ready again under the same attempt number; `budgetSpent` stops the run. */
  | { kind: 'requeue'; budgetSpent: boolean; ending: Ending }
  /** The run's stop ends it; `refused` when it never ran (its attempt number is given back). */
  | { kind: 'stopped'; refused: boolean; ending: Ending };

/** What booking reads: task `i`'s row, its policy and ledger, and the run's recorders. */
export interface BookContext {
  table: TaskTable;
  policy: TaskPolicy;
  /** Task `i`'s prompts, when it is a batch. */
  ledger: BatchLedger | undefined;
  settings: Pick<RunSettings, 'recordAttempt' | 'recordBusy' | 'random'>;
  stopped: boolean;
}

/**
 * Books how attempt `number` of task `i` ended: its tokens and timings into
 * the table and the stats, a batch's prompts into its ledger, and what
 * follows from the pure `judge`. Kept out of `Run` so the run only applies
 * the booking (state moves, timers, stops).
 */
export function book(
  i: number,
  number: number,
  outcome: AttemptOutcome,
  { table, policy, ledger, settings, stopped }: BookContext,
): Booking {
  const context: JudgeContext = {
    policy: policy.retry,
    attempt: number,
    stopped,
    random: settings.random,
  };
  let ending: Ending;
  if (outcome.kind === 'replied' || outcome.kind === 'crashed') {
    const { reply } = outcome;
    table.tokens[i] = (table.tokens[i] as number) + reply.tokens;
    const { startedAt, finishedAt, threadId, cpuMs } = reply;
    ending = { startedAt, finishedAt, threadId, cpuMs };
    if (reply.worker !== undefined) ending.worker = reply.worker;
    const waitMs = startedAt - (table.readyAt[i] as number);
    settings.recordAttempt(policy.agent, finishedAt - startedAt, waitMs, reply.ok);
    if (reply.ok && ledger !== undefined)
      return bookBatch(ledger, reply.output as BatchItem[], context, ending);
    if (reply.ok) ending.output = reply.output;
  } else if (outcome.kind === 'breached') {
    ending = outcome.ending;
    settings.recordBusy(ending.finishedAt - (ending.startedAt ?? ending.finishedAt));
  } else if (outcome.kind === 'aborted') {
    ending = { ...never(), startedAt: outcome.startedAt, threadId: outcome.threadId };
    settings.recordBusy(ending.finishedAt - outcome.startedAt);
  } else {
    ending = never();
  }
  const verdict = judge(outcome, context);
  switch (verdict.kind) {
    case 'done':
      return { kind: 'end', status: 'done', ending, anyFailed: false };
    case 'fail':
      return {
        kind: 'end',
        status: 'failed',
        ending: { ...ending, error: verdict.error },
        anyFailed: true,
      };
    case 'retry':
      return { kind: 'retry', delayMs: verdict.delayMs, error: verdict.error, ending };
    case 'requeue':
    case 'budget-spent':
      return { kind: 'requeue', budgetSpent: verdict.kind === 'budget-spent', ending };
    case 'stopped':
      return { kind: 'stopped', refused: outcome.kind === 'refused', ending };
  }
}

/** A batch's reply: its prompts failed or succeeded one by one, and retry one by one. */
function bookBatch(
  ledger: BatchLedger,
  items: BatchItem[],
  context: JudgeContext,
  ending: Ending,
): Booking {
  const cause = ledger.record(items, context.attempt, (error) => mayRetry(error.code, context));
  if (cause !== undefined)
    return { kind: 'retry', delayMs: retryDelay(context), error: cause, ending };
  return {
    kind: 'end',
    status: 'done',
    ending: { ...ending, output: ledger.outcomes() },
    anyFailed: ledger.anyFailed,
  };
}

/** The ending of an attempt that never began (or whose beginning is unknown): now, on no thread. */
export function never(): Ending {
  return { startedAt: null, finishedAt: now(), threadId: null };
}
