import { now } from '../clock.js';
import type { Graph } from '../dag/graph.js';
import type { Limits, TaskSpec } from '../dag/schema.js';
import { cpuLimitError, formatCount, type TaskError, taskError, toTaskError } from '../errors.js';
import type { EventMap, TaskEvent } from '../events.js';
import { mergeLimits } from '../limits.js';
import type { AttemptHandle, AttemptProbe } from '../pool/executor.js';
import type { BatchItem, ChannelEvent, TaskMessage, TaskReply } from '../protocol.js';
import type { RunResult, StopReason, TaskResult, TaskStatus } from '../results.js';
import { backoffDelay, mergeRetry, type RetryPolicy, retries } from '../retry.js';
import { BatchLedger } from './batch-ledger.js';
import { dependencyInputs } from './dependency-inputs.js';
import { RankHeap } from './heap.js';
import { summarizeRun } from './run-result.js';
import type { RunAgent, RunSettings } from './run-settings.js';
import { evaluateTrigger } from './trigger.js';
import { Watchdog } from './watchdog.js';

// Task states. READY covers both the ready heap and the parked heaps.
const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const BACKOFF = 3;
const ENDED = 4;

const MAX_UPSTREAM_IDS = 20;
// Attempts of agents faster than this on average may queue on a busy thread.
const SHORT_MS = 1;
// How long a reply may wait for progress/chunk events its worker says it sent.
const EVENT_DRAIN_MS = 2_000;

interface LiveAttempt {
  attempt: number;
  handle: AttemptHandle;
  message: TaskMessage;
  watchdog: Watchdog;
  dispatchedAt: number;
  /** Channel events received so far. */
  events: number;
  /** A reply that arrived before all of its events. */
  pending?: { reply: TaskReply; timer: NodeJS.Timeout };
}

interface Ending {
  output?: unknown;
  error?: TaskError;
  startedAt: number | null;
  finishedAt: number;
  threadId: number | null;
  cpuMs?: number;
}

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
  readonly #live = new Map<number, LiveAttempt>();
  readonly #backoff = new Map<number, NodeJS.Timeout>();
  readonly #ended: number[] = [];
  readonly #startedAt = now();
  readonly #runTokens: { buffer: SharedArrayBuffer; cells: BigInt64Array } | undefined;
  #endedCount = 0;
  #stoppedBy: StopReason = null;
  #finished = false;
  #resolve!: (result: RunResult) => void;
  readonly #onAbort = () => this.#stop('signal');

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
    const live = i === undefined ? undefined : this.#live.get(i);
    if (i === undefined || live === undefined || live.attempt !== event.attempt) return;
    live.events++;
    const base = {
      runId: this.#s.runId,
      id: event.taskId,
      agent: this.#task(i).agent,
      attempt: event.attempt,
      threadId: live.message.threadId ?? null,
      at: now(),
    };
    if (event.kind === 'chunk') {
      this.#s.emit('chunk', { ...base, type: 'chunk', chunk: event.payload });
    } else {
      const { fraction, message } = event.payload as { fraction: number; message?: string };
      this.#s.emit('progress', { ...base, type: 'progress', fraction, message });
    }
    if (live.pending && live.events >= live.pending.reply.events)
      this.#complete(i, live, live.pending.reply);
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
    const { depStart, depIdx, ids } = this.#graph;
    const causes = new Set<string>();
    let truncated = 0;
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      const dep = depIdx[k] as number;
      const status = this.#results[dep]?.status;
      if (status === undefined || status === 'done') continue;
      for (const id of this.#upstream[dep] ?? [ids[dep] as string]) {
        if (causes.size < MAX_UPSTREAM_IDS) causes.add(id);
        else if (!causes.has(id)) truncated++;
      }
    }
    const upstream = [...causes];
    this.#upstream[i] = upstream;
    const names = upstream.map((id) => JSON.stringify(id)).join(', ');
    const more = truncated > 0 ? ` and ${truncated} more` : '';
    const message = `skipped: upstream task${upstream.length + truncated > 1 ? 's' : ''} ${names}${more} did not succeed`;
    this.#end(i, 'skipped', {
      error: taskError('ERR_UPSTREAM_FAILED', message, { upstream }),
      ...this.#never(),
    });
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
    while (this.#stoppedBy === null && slots.free) {
      this.#unpark();
      const top = this.#heap.peek();
      if (top === undefined) return;
      // Past one attempt per thread only short tasks go ahead: anything longer
      // waits here, where its rank still counts, for a thread to free up.
      if (slots.saturated && !this.#short(top)) return;
      const i = this.#heap.pop() as number;
      const blocker = this.#blocker(i);
      if (blocker === undefined) {
        this.#launch(i);
        continue;
      }
      const parked = this.#parked.get(blocker) ?? new RankHeap(this.#s.rank);
      this.#parked.set(blocker, parked);
      parked.push(i);
    }
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

  #launch(i: number): void {
    const task = this.#task(i);
    const agent = this.#agent(i);
    const attempt = (this.#attempts[i] as number) + 1;
    this.#attempts[i] = attempt;
    this.#state[i] = RUNNING;
    this.#s.slots.take(task.agent);
    const limits = this.#limits(i);
    const message = this.#message(
      i,
      attempt,
      task.timeoutMs ?? agent.timeoutMs ?? this.#s.timeoutMs,
      limits,
    );
    // A batch runs its prompts one after another, each with the whole timeout and CPU limit.
    const prompts = message.batch?.ids.length ?? 1;
    const watchdog = new Watchdog({
      timeoutMs: message.timeoutMs * prompts,
      graceMs: this.#s.timeoutGraceMs,
      cpuMs: limits.cpuMs === undefined ? undefined : limits.cpuMs * prompts,
      probe: () => this.#s.executor.probe(message),
      onBreach: (code, probe) => this.#breach(i, attempt, code, probe),
    });
    const handle = this.#s.executor.run(message);
    this.#live.set(i, { attempt, handle, message, watchdog, dispatchedAt: now(), events: 0 });
    // A reply for an attempt already ended (aborted, timed out) finds it gone and is dropped.
    void handle.reply.then((reply) => this.#settle(i, attempt, reply));
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

  /** Frees an attempt's slot; returns the attempt if it was still live. */
  #release(i: number, attempt?: number): LiveAttempt | undefined {
    const live = this.#live.get(i);
    if (live === undefined || (attempt !== undefined && live.attempt !== attempt)) return undefined;
    this.#live.delete(i);
    live.watchdog.stop();
    if (live.pending) clearTimeout(live.pending.timer);
    this.#s.slots.give(this.#task(i).agent);
    return live;
  }

  #settle(i: number, attempt: number, reply: TaskReply): void {
    const live = this.#live.get(i);
    if (live === undefined || live.attempt !== attempt) return;
    // The attempt is over: no limit can be breached any more.
    live.watchdog.stop();
    if (live.events >= reply.events) {
      this.#complete(i, live, reply);
      return;
    }
    // Events travel on another port than the reply and may still be on their way.
    const timer = setTimeout(() => this.#complete(i, live, reply), EVENT_DRAIN_MS);
    live.pending = { reply, timer };
  }

  #complete(i: number, live: LiveAttempt, reply: TaskReply): void {
    if (this.#release(i, live.attempt) === undefined) return;
    this.#finish(i, reply);
    this.#afterChange();
  }

  /** Books an attempt's reply: the task ends, or waits out a backoff to retry. */
  #finish(i: number, reply: TaskReply): void {
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

  /** The watchdog caught an overrun the worker could not stop: terminate the thread. */
  #breach(
    i: number,
    attempt: number,
    code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT',
    probe: AttemptProbe | undefined,
  ): void {
    const live = this.#release(i, attempt);
    if (live === undefined) return;
    live.handle.abort();
    const id = this.#graph.ids[i] as string;
    const { timeoutMs, limits } = live.message;
    const error =
      code === 'ERR_CPU_LIMIT'
        ? toTaskError(cpuLimitError(id, probe?.activeMs ?? 0, limits.cpuMs ?? 0))
        : taskError(
            code,
            `task "${id}" timed out after ${formatCount(timeoutMs)} ms and did not stop within ${this.#s.timeoutGraceMs} ms; ${this.#s.executor.terminates ? 'its thread was terminated' : 'the attempt was abandoned (inline mode cannot stop it)'}`,
          );
    const ending = {
      startedAt: probe?.startedAt ?? live.dispatchedAt,
      finishedAt: now(),
      threadId: live.message.threadId ?? null,
      cpuMs: probe?.activeMs,
    };
    this.#attemptFailed(i, error, ending);
    this.#afterChange();
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
      });
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
    const error = this.#stopError(reason, culprit);
    for (const timer of this.#backoff.values()) clearTimeout(timer);
    this.#backoff.clear();
    for (let i = 0; i < this.#state.length; i++) {
      const state = this.#state[i];
      if (state === ENDED || (state === RUNNING && reason !== 'signal')) continue;
      let ending = this.#never();
      if (state === RUNNING) {
        const live = this.#release(i) as LiveAttempt;
        if (live.pending) {
          // Its reply is in, only some events are late: the attempt finished, and counts.
          this.#finish(i, live.pending.reply);
          continue;
        }
        live.handle.abort();
        ending = {
          ...ending,
          startedAt: this.#s.executor.probe(live.message)?.startedAt ?? live.dispatchedAt,
          threadId: live.message.threadId ?? null,
        };
      }
      this.#end(i, status, { ...ending, error });
    }
    this.#heap.drain();
    this.#parked.clear();
    this.#ended.length = 0;
    this.#checkComplete();
  }

  #stopError(reason: Exclude<StopReason, null>, culprit: number | undefined): TaskError {
    if (reason === 'token-budget') {
      const budget = formatCount(this.#s.runTokens as number);
      return taskError(
        'ERR_RUN_TOKEN_BUDGET',
        `skipped: the run's ${budget}-token budget is spent`,
      );
    }
    if (reason === 'fail-fast') {
      return taskError(
        'ERR_CANCELLED',
        `cancelled: task "${this.#graph.ids[culprit as number]}" failed and failFast is set`,
      );
    }
    const why = this.#s.signal?.reason instanceof Error ? `: ${this.#s.signal.reason.message}` : '';
    return taskError('ERR_CANCELLED', `run cancelled${why}`);
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
