import { type CacheHit, cachedFrom, type RunCache } from '../cache/run-cache.js';
import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { RunResult, StopReason, TaskResult, TaskStatus } from '../results.js';
import { now } from '../shared/clock.js';
import type { TaskError } from '../shared/errors.js';
import type { ChannelEvent } from '../shared/protocol.js';
import type { Attempt } from './attempt.js';
import { Backoffs } from './backoffs.js';
import { RunBatches } from './batch-ledger.js';
import { book, never } from './book.js';
import { Dispatch } from './dispatch.js';
import type { AttemptOutcome, Ending } from './judge.js';
import { decide, type Readiness, release } from './readiness.js';
import { RunEvents } from './run-events.js';
import { summarizeRun } from './run-result.js';
import type { RunSettings } from './run-settings.js';
import { RunStop } from './run-stop.js';
import { sweepStopped } from './stop-sweep.js';
import { resolvePolicies, type TaskPolicy } from './task-policy.js';
import { TaskState, TaskTable } from './task-table.js';

const { Waiting, Ready, Running, Backoff } = TaskState;

/**
 * One execution of a DAG: an event-driven ready queue. A task enters the
 * ready queue the moment its last dependency ends, and the queue hands out
 * the highest critical-path rank first; at most `capacity` attempts are with
 * the executor at a time, the rest wait here, so the order holds. This class
 * only orchestrates: task state is the `TaskTable`'s, readiness the pure
 * `decide`/`release`'s, handing out the `Dispatch`'s (ready queue, attempts
 * in flight, decks), each attempt's lifecycle its `Attempt`'s, and what
 * follows an attempt's end the pure `judge`'s.
 */
export class Run {
  readonly #s: RunSettings;
  readonly #graph: Graph;
  readonly #table: TaskTable;
  readonly #policies: TaskPolicy[];
  readonly #dispatch: Dispatch;
  readonly #events: RunEvents;
  readonly #batches: RunBatches | undefined;
  readonly #backoffs = new Backoffs();
  readonly #ended: number[] = []; // ended, dependents not yet told
  readonly #startedAt = now();
  readonly #halt: RunStop; // whether, why and how it stopped; its token budget
  // Inside a step: an attempt settling now (a deck withdrawn, a stop) is booked; the step dispatches after.
  #stepping = false;
  #finished = false;
  #resolve!: (result: RunResult) => void;
  readonly #onAbort = () => this.#stop('signal');
  #cache: RunCache | undefined;

  /** Resolves with the run's result once every task has ended. Never rejects. */
  readonly done: Promise<RunResult>;

  constructor(settings: RunSettings) {
    this.#s = settings;
    const graph = settings.graph;
    this.#graph = graph;
    this.#table = new TaskTable(graph);
    this.#policies = resolvePolicies(graph.tasks, settings);
    this.#events = new RunEvents(settings, graph);
    this.#batches = settings.batches && new RunBatches(settings.batches);
    this.#halt = new RunStop(settings);
    this.#dispatch = new Dispatch({
      settings,
      graph,
      table: this.#table,
      policies: this.#policies,
      ledgers: this.#batches?.ledgers,
      events: this.#events,
      runTokens: this.#halt.runTokens,
      settled: (attempt, outcome) => this.#settled(attempt, outcome),
      stopped: () => this.#halt.stopped,
    });
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts dispatching, with `cache` if it was prepared only now. Call once. */
  start(cache = this.#s.cache): void {
    if (this.#halt.stopped) return; // cancelled while its cache was prepared: all have ended
    this.#cache = cache;
    const signal = this.#s.signal;
    if (signal?.aborted) {
      this.#stop('signal');
    } else {
      signal?.addEventListener('abort', this.#onAbort, { once: true });
      this.#s.slots.add(this);
      for (let i = 0; i < this.#table.size; i++)
        if (this.#table.pendingDeps[i] === 0) this.#apply(i, decide(this.#graph, this.#table, i));
      this.#step(() => {});
    }
    this.#checkComplete();
  }

  /** A slot freed somewhere in the runtime: dispatch what now fits. */
  wake(): void {
    this.#step(() => this.#dispatch.pump());
  }

  /** Cancels the run as its signal would (queued tasks and running attempts end `cancelled`), or for `lease-lost` (see `sweepStopped`). */
  cancel(reason: 'signal' | 'lease-lost' = 'signal'): void {
    this.#stop(reason);
  }

  /** One result per prompt of the batched fan-out task `taskId`, in prompt order, once the run is done. */
  promptResults(taskId: string): TaskResult[] {
    const i = this.#graph.indexOf.get(taskId);
    const ledger = i === undefined ? undefined : this.#batches?.ledgers.get(i);
    const result = i === undefined ? undefined : this.#table.results[i];
    if (ledger === undefined || result === undefined)
      throw new Error(`no finished batch task "${taskId}" in run ${this.#s.runId}`);
    return ledger.results(result);
  }

  /** A progress report or chunk from a running attempt. Stale ones (an attempt already ended) are dropped. */
  channelEvent(event: ChannelEvent): void {
    const i = this.#graph.indexOf.get(event.taskId) ?? this.#batches?.taskOf(event.taskId);
    if (i !== undefined) this.#dispatch.event(i, event);
  }

  /** Runs `change`, then dispatches; nested steps leave that to the outer one. */
  #step(change: () => void): void {
    if (this.#stepping) {
      change();
      return;
    }
    this.#stepping = true;
    try {
      change();
      this.#propagate();
      if (this.#halt.budgetSpent()) this.#stop('token-budget');
      this.#dispatch.pump();
    } finally {
      this.#stepping = false;
    }
    this.#checkComplete();
  }

  /** What the end of a waiting task's dependencies decided: it is ready (or cached), or skipped. */
  #apply(i: number, readiness: Readiness): void {
    if (readiness.run) {
      const { results, outputs } = this.#table;
      const tokenLimit = (this.#policies[i] as TaskPolicy).limits.tokens;
      const hit = this.#cache?.lookup(i, results, outputs, tokenLimit);
      if (hit) {
        this.#cached(i, hit);
        return;
      }
      this.#table.move(i, Waiting, Ready);
      const at = now();
      this.#table.queuedAt[i] = at;
      this.#table.readyAt[i] = at;
      this.#events.task('queued', i, {});
      this.#dispatch.push(i);
      return;
    }
    if (readiness.upstream) this.#table.upstream[i] = readiness.upstream;
    this.#end(i, Waiting, 'skipped', { error: readiness.error, ...never() });
  }

  /** Task `i`'s result came from the cache: it ends `done` without running. */
  #cached(i: number, hit: CacheHit): void {
    this.#table.queuedAt[i] = now();
    if (this.#events.listened) {
      const { key, runId: fromRun, createdAt, tokens, durationMs } = hit;
      this.#events.task('cached', i, { key, fromRun, createdAt, tokens, durationMs });
    }
    this.#end(i, Waiting, 'done', { ...never(), output: hit.output }, hit);
  }

  /** An attempt settled (its one settle point called back): book how it ended. */
  #settled(attempt: Attempt, outcome: AttemptOutcome): void {
    this.#step(() => this.#book(attempt.task, attempt.number, outcome));
  }

  /** Applies what `book` decided: the task ends, waits to retry, is ready again, or ends as the stop ends it. */
  #book(i: number, number: number, outcome: AttemptOutcome): void {
    const table = this.#table;
    const booking = book(i, number, outcome, {
      table,
      policy: this.#policies[i] as TaskPolicy,
      ledger: this.#batches?.ledgers.get(i),
      settings: this.#s,
      stopped: this.#halt.stopped,
    });
    switch (booking.kind) {
      case 'end':
        this.#end(i, Running, booking.status, booking.ending);
        if (booking.anyFailed && this.#s.failFast) this.#stop('fail-fast', i);
        return;
      case 'retry':
        this.#retryLater(i, booking.delayMs, booking.error, booking.ending);
        return;
      case 'requeue':
        // It never ran: ready again under the same attempt number (and the
        // stop, for a spent budget, ends it as everything that never began).
        table.attempts[i] = number - 1;
        table.move(i, Running, Ready);
        if (!this.#halt.stopped) {
          this.#dispatch.push(i);
          if (booking.budgetSpent) this.#stop('token-budget');
        } else this.#endStopped(i, Ready, booking.ending);
        return;
      case 'stopped':
        if (booking.refused) {
          table.attempts[i] = number - 1;
          this.#endStopped(i, Running, never());
        } else this.#endStopped(i, Running, booking.ending);
        return;
    }
  }

  /** Waits out the backoff before the next attempt: that holds a timer, not a thread. */
  #retryLater(i: number, delayMs: number, error: TaskError, ending: Ending): void {
    const attempt = this.#table.attempts[i] as number;
    this.#table.move(i, Running, Backoff);
    this.#events.retry(i, attempt, delayMs, error, ending);
    this.#backoffs.wait(i, delayMs, () =>
      this.#step(() => {
        this.#table.move(i, Backoff, Ready);
        this.#table.readyAt[i] = now();
        this.#dispatch.push(i);
      }),
    );
  }

  /** Ends task `i` as the run's stop ends everything that never began. */
  #endStopped(i: number, from: TaskState, ending: Ending): void {
    const [status, error] = this.#halt.ending;
    this.#end(i, from, status, { ...ending, error });
  }

  #end(i: number, from: TaskState, status: TaskStatus, ending: Ending, hit?: CacheHit): void {
    const id = this.#graph.ids[i] as string;
    const agent = (this.#graph.tasks[i] as TaskSpec).agent;
    const origin = hit && status === 'done' ? cachedFrom(hit) : undefined;
    const result = this.#table.result(i, id, agent, status, ending, origin);
    // Write-ahead: in the store before its event, and before any dependent is decided.
    if (result.status === 'done') this.#cache?.record(i, result);
    this.#table.end(i, from, result);
    this.#ended.push(i);
    this.#events.ended(result);
  }

  /**
   * Tells dependents about every task that ended. A worklist, not recursion,
   * so a skip cascading down a 100,000-task chain cannot overflow the stack.
   */
  #propagate(): void {
    for (let p = this.#ended.pop(); p !== undefined; p = this.#ended.pop()) {
      if (this.#halt.stopped) continue;
      release(this.#graph, this.#table, p, (c, readiness) => this.#apply(c, readiness));
    }
  }

  /**
   * Ends every task that has not started: `cancelled`, or `skipped` when the
   * token budget ran out. Running attempts are stopped too on a signal, and
   * left to finish otherwise.
   */
  #stop(reason: Exclude<StopReason, null>, culprit?: number): void {
    const ending = this.#halt.stop(
      reason,
      culprit === undefined ? undefined : this.#graph.ids[culprit],
    );
    if (ending === undefined) return;
    const [status, error] = ending;
    this.#backoffs.clear();
    this.#step(() => {
      sweepStopped(this.#table, this.#dispatch, reason, (i, state) =>
        this.#end(i, state, status, { ...never(), error }),
      );
      this.#dispatch.clear();
      this.#ended.length = 0;
    });
  }

  #checkComplete(): void {
    if (this.#finished || this.#table.ended < this.#table.size) return;
    this.#finished = true;
    this.#cache?.finish(this.#startedAt);
    this.#s.slots.delete(this);
    this.#s.signal?.removeEventListener('abort', this.#onAbort);
    const result = summarizeRun({
      runId: this.#s.runId,
      results: this.#table.results as TaskResult[],
      stoppedBy: this.#halt.by,
      startedAt: this.#startedAt,
      tokensSpent: this.#halt.spent(),
      tokenBudget: this.#s.runTokens,
    });
    // With a journal: once every terminal entry is written (and its event sent).
    this.#events.whenDrained(() => this.#resolve(result));
  }
}
