import { now } from '../clock.js';
import type { Graph } from '../dag/graph.js';
import type { Limits, TaskSpec } from '../dag/schema.js';
import { type TaskError, taskError } from '../errors.js';
import type { EventMap, TaskEvent } from '../events.js';
import { mergeLimits } from '../limits.js';
import type { BatchItem, ChannelEvent, TaskMessage, TaskReply } from '../protocol.js';
import type { RunResult, StopReason, TaskResult, TaskStatus } from '../results.js';
import { backoffDelay, mergeRetry, type RetryPolicy, retries } from '../retry.js';
import { BatchLedger } from './batch-ledger.js';
import { Decks } from './deck.js';
import { dependencyInputs } from './dependency-inputs.js';
import { RankHeap } from './heap.js';
import { type Ending, LiveAttempts } from './live-attempts.js';
import { summarizeRun } from './run-result.js';
import type { RunAgent, RunSettings } from './run-settings.js';
import { stopError } from './stop-error.js';
import { evaluateTrigger } from './trigger.js';
import { upstreamSkip } from './upstream.js';

// Task states. READY covers both the ready heap and the parked heaps.
const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const BACKOFF = 3;
const ENDED = 4;

// Attempts of agents faster than this on average may queue on a busy thread.
const SHORT_MS = 1;

/**
 * One execution of a DAG: an event-driven ready queue. A task enters the
 * ready heap the moment its last dependency ends, and the heap hands out the
 * highest critical-path rank first; at most `capacity` attempts are with the
 * executor at a time, the rest wait here, so the order holds. A task that
 * cannot run yet (its agent at its concurrency cap, its memory profile out
 * of room) is parked aside so lower-ranked tasks can backfill.
 */
export class Run {
  readonly #s: RunSettings;
  readonly #graph: Graph;
  readonly #state: Uint8Array;
  readonly #pendingDeps: Int32Array;
  readonly #attempts: Int32Array;
  readonly #tokens: Float64Array;
  readonly #queuedAt: Float64Array;
  // When the current attempt became ready (differs from queuedAt after a retry's backoff).
  readonly #readyAt: Float64Array;
  readonly #results: (TaskResult | undefined)[];
  readonly #outputs: unknown[];
  readonly #upstream: (string[] | undefined)[];
  readonly #limitCache: (Limits | undefined)[];
  // Batched fan-out: each batch task's prompts, and which task each prompt's
  // id belongs to (its events carry the prompt's id).
  readonly #ledgers: Map<number, BatchLedger> | undefined;
  readonly #batchOf: Map<string, number> | undefined;
  readonly #heap: RankHeap;
  readonly #parked = new Map<string, RankHeap>();
  readonly #live: LiveAttempts;
  readonly #backoff = new Map<number, NodeJS.Timeout>();
  readonly #ended: number[] = [];
  readonly #startedAt = now();
  readonly #runTokens: { buffer: SharedArrayBuffer; cells: BigInt64Array } | undefined;
  #endedCount = 0;
  #stoppedBy: StopReason = null;
  // How the stop ended what had not begun: for an attempt found later never to have begun.
  #stopped: [TaskStatus, TaskError] | undefined;
  #finished = false;
  #resolve!: (result: RunResult) => void;
  readonly #onAbort = () => this.#stop('signal');
  readonly #decks: Decks;

  /** Resolves with the run's result once every task has ended. Never rejects. */
  readonly done: Promise<RunResult>;

  constructor(settings: RunSettings) {
    this.#s = settings;
    const graph = settings.graph;
    const n = graph.ids.length;
    this.#graph = graph;
    this.#state = new Uint8Array(n);
    this.#pendingDeps = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      this.#pendingDeps[i] = (graph.depStart[i + 1] as number) - (graph.depStart[i] as number);
    }
    this.#attempts = new Int32Array(n);
    this.#tokens = new Float64Array(n);
    this.#queuedAt = new Float64Array(n).fill(Number.NaN);
    this.#readyAt = new Float64Array(n);
    this.#results = new Array(n);
    this.#outputs = new Array(n);
    this.#upstream = new Array(n);
    this.#limitCache = new Array(n);
    if (settings.batches) {
      this.#ledgers = new Map();
      this.#batchOf = new Map();
      for (const [i, batch] of settings.batches) {
        this.#ledgers.set(i, new BatchLedger(batch));
        for (const id of batch.ids) this.#batchOf.set(id, i);
      }
    }
    this.#heap = new RankHeap(settings.rank);
    this.#live = new LiveAttempts(settings, {
      replied: (i, reply) => {
        this.#finish(i, reply);
        this.#afterChange();
      },
      breached: (i, error, ending) => {
        this.#attemptFailed(i, error, ending);
        this.#afterChange();
      },
    });
    this.#decks = new Decks({
      graph,
      cost: settings.cost,
      rank: settings.rank,
      pendingDeps: this.#pendingDeps,
      waiting: (i) => this.#state[i] === WAITING,
      heap: this.#heap,
      live: this.#live,
      slots: settings.slots,
    });
    if (settings.runTokens !== undefined) {
      const buffer = new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT);
      this.#runTokens = { buffer, cells: new BigInt64Array(buffer) };
    }
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** Starts dispatching. Call once. */
  start(): void {
    const signal = this.#s.signal;
    if (signal?.aborted) {
      this.#stop('signal');
    } else {
      signal?.addEventListener('abort', this.#onAbort, { once: true });
      this.#s.slots.add(this);
      for (let i = 0; i < this.#graph.ids.length; i++)
        if (this.#pendingDeps[i] === 0) this.#decide(i);
      this.#afterChange();
    }
    this.#checkComplete();
  }

  /** A slot freed somewhere in the runtime: dispatch what now fits. */
  wake(): void {
    this.#pump();
  }

  /** Cancels the run as its signal would: queued tasks and running attempts end `cancelled`. */
  cancel(): void {
    this.#stop('signal');
  }

  /**
   * One result per prompt of the batched fan-out task `taskId`, in prompt
   * order, once the run is done.
   */
  promptResults(taskId: string): TaskResult[] {
    const i = this.#graph.indexOf.get(taskId);
    const ledger = i === undefined ? undefined : this.#ledgers?.get(i);
    const result = i === undefined ? undefined : this.#results[i];
    if (ledger === undefined || result === undefined)
      throw new Error(`no finished batch task "${taskId}" in run ${this.#s.runId}`);
    return ledger.results(result);
  }

  /** A progress report or chunk from a running attempt. Stale ones (an attempt already ended) are dropped. */
  channelEvent(event: ChannelEvent): void {
    const i = this.#graph.indexOf.get(event.taskId) ?? this.#batchOf?.get(event.taskId);
    if (i !== undefined) this.#live.event(i, event);
  }

  #task(i: number): TaskSpec {
    return this.#graph.tasks[i] as TaskSpec;
  }

  #agent(i: number): RunAgent {
    return this.#s.agents.get(this.#task(i).agent) as RunAgent;
  }

  /** All dependencies of a waiting task have ended: run it or skip it. */
  #decide(i: number): void {
    const { depStart, depIdx } = this.#graph;
    const statuses: TaskStatus[] = [];
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      statuses.push((this.#results[depIdx[k] as number] as TaskResult).status);
    }
    const verdict = evaluateTrigger(this.#task(i).trigger, statuses);
    if (verdict.run) {
      this.#state[i] = READY;
      this.#queuedAt[i] = now();
      this.#readyAt[i] = this.#queuedAt[i] as number;
      this.#emit('queued', i, {});
      this.#heap.push(i);
    } else if (verdict.code === 'ERR_UPSTREAM_FAILED') {
      this.#skipUpstream(i);
    } else {
      this.#end(i, 'skipped', {
        error: taskError(verdict.code, `skipped: ${verdict.reason}`),
        ...this.#never(),
      });
    }
  }

  /** Skips a task because dependencies failed, naming the tasks whose failure caused it. */
  #skipUpstream(i: number): void {
    const { upstream, error } = upstreamSkip(this.#graph, this.#results, this.#upstream, i);
    this.#upstream[i] = upstream;
    this.#end(i, 'skipped', { error, ...this.#never() });
  }

  #never(): Ending {
    return { startedAt: null, finishedAt: now(), threadId: null };
  }

  #limits(i: number): Limits {
    let limits = this.#limitCache[i];
    if (limits === undefined) {
      limits = mergeLimits(this.#s.limits, this.#agent(i).limits, this.#task(i).limits);
      this.#limitCache[i] = limits;
    }
    return limits;
  }

  /** Why task `i` cannot start now, as the key of the heap it waits in; undefined if it can. */
  #blocker(i: number): string | undefined {
    const name = this.#task(i).agent;
    if (this.#s.slots.running(name) >= this.#agent(i).concurrency) return `agent:${name}`;
    const memoryMb = this.#limits(i).memoryMb;
    if (!this.#s.executor.hasRoom(memoryMb)) return `memory:${memoryMb}`;
    return undefined;
  }

  /**
   * Hands ready tasks to the executor, highest rank first, while the
   * runtime has room. A task that cannot start yet is parked by what blocks
   * it, so lower-ranked tasks can backfill; a parked task whose blocker has
   * cleared goes back into the ready heap before each pick.
   */
  #pump(): void {
    const slots = this.#s.slots;
    if (slots.decked > 0) this.#decks.review((x) => this.#requeue(x));
    while (this.#stoppedBy === null && slots.free) {
      this.#unpark();
      const top = this.#heap.peek();
      if (top === undefined) return;
      // Past one attempt per thread only short tasks, and one on deck per
      // thread where that keeps the order, go ahead: anything else waits
      // here, where its rank still counts, for a thread to free up.
      let behind: number | undefined;
      if (slots.saturated && !this.#short(top)) {
        // Decks are in the default pool: a task with a heap cap of its own runs in another.
        behind = this.#limits(top).memoryMb === undefined ? this.#decks.behind(top) : undefined;
        if (behind === undefined) return;
      }
      const i = this.#heap.pop() as number;
      const blocker = this.#blocker(i);
      if (blocker === undefined) {
        this.#launch(i, behind);
        continue;
      }
      const parked = this.#parked.get(blocker) ?? new RankHeap(this.#s.rank);
      this.#parked.set(blocker, parked);
      parked.push(i);
    }
  }

  /** An attempt taken back before it began: its task is ready again, under the same attempt number. */
  #requeue(i: number): void {
    this.#attempts[i] = (this.#attempts[i] as number) - 1;
    this.#state[i] = READY;
    this.#heap.push(i);
  }

  /** Whether task `i` is expected to take well under a millisecond (a batch never is). */
  #short(i: number): boolean {
    if (this.#ledgers?.has(i)) return false;
    const mean = this.#s.meanMs(this.#task(i).agent);
    return mean !== undefined && mean < SHORT_MS;
  }

  #unpark(): void {
    for (const [key, parked] of this.#parked) {
      const top = parked.peek();
      if (top === undefined) this.#parked.delete(key);
      else if (this.#blocker(top) === undefined) this.#heap.push(parked.pop() as number);
    }
  }

  #launch(i: number, behind?: number): void {
    const task = this.#task(i);
    const attempt = (this.#attempts[i] as number) + 1;
    this.#attempts[i] = attempt;
    this.#state[i] = RUNNING;
    const limits = this.#limits(i);
    const timeoutMs = task.timeoutMs ?? this.#agent(i).timeoutMs ?? this.#s.timeoutMs;
    const message = this.#message(i, attempt, timeoutMs, limits);
    this.#live.start(i, attempt, message, limits.cpuMs, behind);
    this.#emit('started', i, { attempt, threadId: message.threadId ?? null });
  }

  #message(i: number, attempt: number, timeoutMs: number, limits: Limits): TaskMessage {
    const { ids } = this.#graph;
    const task = this.#task(i);
    const { deps, depStatus } = dependencyInputs(this.#graph, this.#results, this.#outputs, i);
    const { tokens, outputBytes, cpuMs, memoryMb } = limits;
    return {
      runId: this.#s.runId,
      taskId: ids[i] as string,
      agent: task.agent,
      module: this.#agent(i).module,
      prompt: task.prompt,
      context: task.context ? { ...this.#s.context, ...task.context } : this.#s.context,
      deps,
      depStatus,
      attempt,
      timeoutMs,
      startSlot: -1,
      short: this.#short(i),
      batch: this.#ledgers?.get(i)?.next(),
      limits: { tokens, outputBytes, cpuMs },
      memoryMb,
      encoding: this.#s.encoding,
      countTokens: this.#s.countTokens,
      runTokens: this.#runTokens && {
        buffer: this.#runTokens.buffer,
        budget: this.#s.runTokens as number,
      },
    };
  }

  /** Books an attempt's reply: the task ends, or waits out a backoff to retry. */
  #finish(i: number, reply: TaskReply): void {
    if (reply.refused) {
      // Its thread would not begin it, the run's token budget being spent:
      // it never ran, and ends as the stop ends everything that never began.
      this.#attempts[i] = (this.#attempts[i] as number) - 1;
      this.#state[i] = READY;
      if (this.#stoppedBy === null) this.#stop('token-budget');
      else {
        const [status, error] = this.#stopped as [TaskStatus, TaskError];
        this.#end(i, status, { ...this.#never(), error });
      }
      return;
    }
    this.#tokens[i] = (this.#tokens[i] as number) + reply.tokens;
    const ending = {
      startedAt: reply.startedAt,
      finishedAt: reply.finishedAt,
      threadId: reply.threadId,
      cpuMs: reply.cpuMs,
    };
    const waitMs = reply.startedAt - (this.#readyAt[i] as number);
    this.#s.recordAttempt(
      this.#task(i).agent,
      reply.finishedAt - reply.startedAt,
      waitMs,
      reply.ok,
    );
    if (!reply.ok) {
      this.#attemptFailed(i, reply.error, ending);
      return;
    }
    const ledger = this.#ledgers?.get(i);
    if (ledger === undefined) {
      this.#end(i, 'done', { ...ending, output: reply.output });
      return;
    }
    // A batch: its prompts failed or succeeded one by one, and retry one by one.
    const policy = this.#retryPolicy(i);
    const attempt = this.#attempts[i] as number;
    const retryable = this.#stoppedBy === null && attempt <= policy.max;
    const items = reply.output as BatchItem[];
    const cause = ledger.record(
      items,
      attempt,
      (error) => retryable && retries(policy, error.code),
    );
    if (cause !== undefined) {
      this.#retryLater(i, policy, cause, ending);
      return;
    }
    this.#end(i, 'done', { ...ending, output: ledger.outcomes() });
    if (ledger.anyFailed && this.#s.failFast) this.#stop('fail-fast', i);
  }

  #retryPolicy(i: number): RetryPolicy {
    return mergeRetry(this.#s.retry, this.#agent(i).retries, this.#task(i).retries);
  }

  #attemptFailed(i: number, error: TaskError, ending: Ending): void {
    const policy = this.#retryPolicy(i);
    const attempt = this.#attempts[i] as number;
    if (this.#stoppedBy !== null || !retries(policy, error.code) || attempt > policy.max) {
      this.#end(i, 'failed', { ...ending, error });
      if (this.#s.failFast) this.#stop('fail-fast', i);
      return;
    }
    this.#retryLater(i, policy, error, ending);
  }

  /** Waits out the backoff before the next attempt: that holds a timer, not a thread. */
  #retryLater(i: number, policy: RetryPolicy, error: TaskError, ending: Ending): void {
    const attempt = this.#attempts[i] as number;
    const delayMs = backoffDelay(policy, attempt, this.#s.random);
    this.#state[i] = BACKOFF;
    const { startedAt, finishedAt, threadId } = ending;
    this.#emit('retry', i, { attempt, delayMs, error, startedAt, finishedAt, threadId });
    const timer = setTimeout(() => {
      this.#backoff.delete(i);
      this.#state[i] = READY;
      this.#readyAt[i] = now();
      this.#heap.push(i);
      this.#afterChange();
    }, delayMs);
    this.#backoff.set(i, timer);
  }

  #end(i: number, status: TaskStatus, ending: Ending): void {
    const id = this.#graph.ids[i] as string;
    const queuedAt = this.#queuedAt[i] as number;
    const result = {
      id,
      agent: this.#task(i).agent,
      status,
      attempts: this.#attempts[i] as number,
      queuedAt: Number.isNaN(queuedAt) ? null : queuedAt,
      startedAt: ending.startedAt,
      finishedAt: ending.finishedAt,
      durationMs: ending.startedAt === null ? 0 : Math.max(0, ending.finishedAt - ending.startedAt),
      threadId: ending.threadId,
      tokens: this.#tokens[i] as number,
      cpuMs: ending.cpuMs ?? 0,
      ...(status === 'done' ? { output: ending.output } : { error: ending.error }),
    } as TaskResult;
    this.#state[i] = ENDED;
    this.#results[i] = result;
    if (status === 'done') this.#outputs[i] = ending.output;
    this.#endedCount++;
    this.#ended.push(i);
    if (this.#s.listening('task')) {
      this.#s.emit('task', {
        type: status,
        runId: this.#s.runId,
        id,
        agent: result.agent,
        at: result.finishedAt,
        result,
      } as EventMap['task']);
    }
  }

  /**
   * Tells dependents about every task that ended. A worklist, not recursion,
   * so a skip cascading down a 100,000-task chain cannot overflow the stack.
   */
  #propagate(): void {
    const { childStart, childIdx } = this.#graph;
    for (let p = this.#ended.pop(); p !== undefined; p = this.#ended.pop()) {
      if (this.#stoppedBy !== null) continue;
      const succeeded = this.#results[p]?.status === 'done';
      for (let k = childStart[p] as number; k < (childStart[p + 1] as number); k++) {
        const c = childIdx[k] as number;
        if (this.#state[c] !== WAITING) continue;
        this.#pendingDeps[c] = (this.#pendingDeps[c] as number) - 1;
        if (!succeeded && this.#task(c).trigger === 'all_success') this.#skipUpstream(c);
        else if (this.#pendingDeps[c] === 0) this.#decide(c);
      }
    }
  }

  #afterChange(): void {
    this.#propagate();
    if (this.#runTokens && this.#budgetSpent()) this.#stop('token-budget');
    this.#pump();
    this.#checkComplete();
  }

  #budgetSpent(): boolean {
    const cells = (this.#runTokens as { cells: BigInt64Array }).cells;
    return (
      Atomics.load(cells, 1) !== 0n ||
      Number(Atomics.load(cells, 0)) >= (this.#s.runTokens as number)
    );
  }

  /**
   * Ends every task that has not started: `cancelled`, or `skipped` when the
   * token budget ran out. Running attempts are stopped too on a signal, and
   * left to finish otherwise.
   */
  #stop(reason: Exclude<StopReason, null>, culprit?: number): void {
    if (this.#stoppedBy !== null) return;
    this.#stoppedBy = reason;
    const status = reason === 'token-budget' ? 'skipped' : 'cancelled';
    const error = stopError(reason, {
      runTokens: this.#s.runTokens,
      spent: this.#runTokens && Number(Atomics.load(this.#runTokens.cells, 0)),
      culprit: culprit === undefined ? undefined : this.#graph.ids[culprit],
      signal: this.#s.signal,
    });
    this.#stopped = [status, error];
    for (const timer of this.#backoff.values()) clearTimeout(timer);
    this.#backoff.clear();
    for (let i = 0; i < this.#state.length; i++) {
      const state = this.#state[i];
      if (state === ENDED) continue;
      let ending = this.#never();
      if (state === RUNNING && this.#live.withdraw(i)) {
        // Handed over (on deck, or queued behind short ones) but not begun: it never will.
        this.#attempts[i] = (this.#attempts[i] as number) - 1;
      } else if (state === RUNNING) {
        // It began: left to finish, unless the signal stops everything.
        if (reason !== 'signal') continue;
        const stopped = this.#live.stop(i);
        if ('reply' in stopped) {
          // Its reply is in, only some events were late: the attempt finished, and counts.
          this.#finish(i, stopped.reply);
          continue;
        }
        ending = { ...ending, ...stopped };
      }
      this.#end(i, status, { ...ending, error });
    }
    this.#heap.drain();
    this.#parked.clear();
    this.#ended.length = 0;
    this.#checkComplete();
  }

  #checkComplete(): void {
    if (this.#finished || this.#endedCount < this.#state.length) return;
    this.#finished = true;
    this.#s.slots.delete(this);
    this.#s.signal?.removeEventListener('abort', this.#onAbort);
    this.#resolve(this.#result());
  }

  #result(): RunResult {
    return summarizeRun({
      runId: this.#s.runId,
      results: this.#results as TaskResult[],
      stoppedBy: this.#stoppedBy,
      startedAt: this.#startedAt,
      tokensSpent: this.#runTokens && Number(Atomics.load(this.#runTokens.cells, 0)),
      tokenBudget: this.#s.runTokens,
    });
  }

  #emit<T extends 'queued' | 'started' | 'retry'>(
    type: T,
    i: number,
    extra: Omit<Extract<TaskEvent, { type: T }>, 'type' | 'runId' | 'id' | 'agent' | 'at'>,
  ): void {
    if (!this.#s.listening('task')) return;
    const base = {
      runId: this.#s.runId,
      id: this.#graph.ids[i] as string,
      agent: this.#task(i).agent,
      at: now(),
    };
    this.#s.emit('task', { ...base, type, ...extra } as EventMap['task']);
  }
}
