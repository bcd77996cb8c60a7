import { now } from '../clock.js';
import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import { type TaskError, taskError } from '../errors.js';
import type { TaskEvent } from '../events.js';
import type { Executor } from '../pool/executor.js';
import type { TaskMessage, TaskReply } from '../protocol.js';
import type { RunResult, StopReason, TaskResult, TaskStatus } from '../results.js';
import { backoffDelay, mergeRetry, type RetryOverride, type RetryPolicy } from '../retry.js';
import { RankHeap } from './heap.js';
import { evaluateTrigger } from './trigger.js';

/** What the run needs to know about an agent. */
export interface RunAgent {
  module: string;
  concurrency: number;
  retries?: RetryOverride | undefined;
  timeoutMs?: number | undefined;
}

export interface RunSettings {
  runId: string;
  graph: Graph;
  rank: Float64Array;
  agents: ReadonlyMap<string, RunAgent>;
  context: Record<string, unknown>;
  failFast: boolean;
  retry: RetryPolicy;
  timeoutMs: number;
  timeoutGraceMs: number;
  /** Most attempts handed to the executor at once. */
  capacity: number;
  executor: Executor;
  signal?: AbortSignal | undefined;
  random?: () => number;
  emit(event: TaskEvent): void;
  /** Called once per attempt that ran to a reply, for the runtime's statistics. */
  recordAttempt(agent: string, durationMs: number, waitMs: number, ok: boolean): void;
}

// Task states. READY covers both the ready heap and an agent's parked heap.
const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const BACKOFF = 3;
const ENDED = 4;

// Deterministic failures: another attempt would fail the same way.
const NOT_RETRIED = new Set(['ERR_AGENT_LOAD', 'ERR_OUTPUT_NOT_CLONEABLE']);
const MAX_UPSTREAM_IDS = 20;

interface LiveAttempt {
  attempt: number;
  controller: AbortController;
  message: TaskMessage;
  timer: NodeJS.Timeout;
  dispatchedAt: number;
}

interface Ending {
  output?: unknown;
  error?: TaskError;
  startedAt: number | null;
  finishedAt: number;
  threadId: number | null;
}

/**
 * One execution of a DAG: an event-driven ready queue. A task enters the
 * ready heap the moment its last dependency ends, and the heap hands out the
 * highest critical-path rank first; at most `capacity` attempts are with the
 * executor at a time, the rest wait here, so the order holds.
 */
export class Run {
  readonly #s: RunSettings;
  readonly #graph: Graph;
  readonly #state: Uint8Array;
  readonly #pendingDeps: Int32Array;
  readonly #attempts: Int32Array;
  readonly #queuedAt: Float64Array;
  readonly #results: (TaskResult | undefined)[];
  readonly #outputs: unknown[];
  readonly #upstream: (string[] | undefined)[];
  readonly #heap: RankHeap;
  readonly #parked = new Map<string, RankHeap>();
  readonly #running = new Map<string, number>();
  readonly #live = new Map<number, LiveAttempt>();
  readonly #backoff = new Map<number, NodeJS.Timeout>();
  readonly #ended: number[] = [];
  readonly #startedAt = now();
  #inFlight = 0;
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
    for (let i = 0; i < n; i++)
      this.#pendingDeps[i] = (graph.depStart[i + 1] as number) - (graph.depStart[i] as number);
    this.#attempts = new Int32Array(n);
    this.#queuedAt = new Float64Array(n).fill(Number.NaN);
    this.#results = new Array(n);
    this.#outputs = new Array(n);
    this.#upstream = new Array(n);
    this.#heap = new RankHeap(settings.rank);
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
      for (let i = 0; i < this.#graph.ids.length; i++)
        if (this.#pendingDeps[i] === 0) this.#decide(i);
      this.#propagate();
      this.#pump();
    }
    this.#checkComplete();
  }

  /** Cancels the run as its signal would: queued tasks and running attempts end `cancelled`. */
  cancel(): void {
    this.#stop('signal');
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
      this.#ready(i);
    } else if (verdict.code === 'ERR_UPSTREAM_FAILED') {
      this.#skipUpstream(i);
    } else {
      this.#end(i, 'skipped', {
        error: taskError(verdict.code, `skipped: ${verdict.reason}`),
        ...this.#never(),
      });
    }
  }

  #ready(i: number): void {
    this.#state[i] = READY;
    if (Number.isNaN(this.#queuedAt[i])) this.#queuedAt[i] = now();
    this.#emit('queued', i);
    this.#heap.push(i);
  }

  /** Skips a task because dependencies failed, naming the tasks whose failure caused it. */
  #skipUpstream(i: number): void {
    const { depStart, depIdx, ids } = this.#graph;
    const causes = new Set<string>();
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      const dep = depIdx[k] as number;
      const status = this.#results[dep]?.status;
      if (status === undefined || status === 'done') continue;
      for (const id of this.#upstream[dep] ?? [ids[dep] as string]) {
        if (causes.size < MAX_UPSTREAM_IDS) causes.add(id);
      }
    }
    const upstream = [...causes];
    this.#upstream[i] = upstream;
    const names = upstream.map((id) => JSON.stringify(id)).join(', ');
    const message = `skipped: upstream task${upstream.length > 1 ? 's' : ''} ${names} failed`;
    this.#end(i, 'skipped', {
      error: taskError('ERR_UPSTREAM_FAILED', message, { upstream }),
      ...this.#never(),
    });
  }

  #never(): Ending {
    return { startedAt: null, finishedAt: now(), threadId: null };
  }

  /** Hands ready tasks to the executor, highest rank first, while it has room. */
  #pump(): void {
    while (this.#stoppedBy === null && this.#inFlight < this.#s.capacity) {
      const i = this.#heap.pop();
      if (i === undefined) return;
      const name = this.#task(i).agent;
      // Backfill: a task whose agent is at its cap waits aside, and the next
      // ranked task of another agent takes the slot.
      if ((this.#running.get(name) ?? 0) >= this.#agent(i).concurrency) {
        const parked = this.#parked.get(name) ?? new RankHeap(this.#s.rank);
        this.#parked.set(name, parked);
        parked.push(i);
        continue;
      }
      this.#launch(i);
    }
  }

  #launch(i: number): void {
    const task = this.#task(i);
    const agent = this.#agent(i);
    const attempt = (this.#attempts[i] as number) + 1;
    this.#attempts[i] = attempt;
    this.#state[i] = RUNNING;
    this.#inFlight++;
    this.#running.set(task.agent, (this.#running.get(task.agent) ?? 0) + 1);
    const timeoutMs = task.timeoutMs ?? agent.timeoutMs ?? this.#s.timeoutMs;
    const controller = new AbortController();
    const message = this.#message(i, attempt, timeoutMs);
    // The worker aborts ctx.signal at timeoutMs; this is the backstop for a
    // thread that does not answer, which piscina then terminates.
    const timer = setTimeout(
      () => this.#checkTimeout(i, attempt),
      timeoutMs + this.#s.timeoutGraceMs,
    );
    const dispatchedAt = now();
    this.#live.set(i, { attempt, controller, message, timer, dispatchedAt });
    this.#emit('started', i, { attempt });
    this.#s.executor.run(message, controller.signal).then(
      (reply) => this.#settle(i, attempt, reply),
      // Only an abort rejects, and whoever aborted has already ended the attempt.
      () => {},
    );
  }

  #message(i: number, attempt: number, timeoutMs: number): TaskMessage {
    const { depStart, depIdx, ids } = this.#graph;
    const task = this.#task(i);
    const deps: Record<string, unknown> = {};
    const depStatus: TaskMessage['depStatus'] = {};
    for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
      const dep = depIdx[k] as number;
      const id = ids[dep] as string;
      const result = this.#results[dep] as TaskResult;
      depStatus[id] = result.status;
      if (result.status === 'done') deps[id] = this.#outputs[dep];
    }
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
    };
  }

  /** Frees an attempt's slot; returns the attempt if it was still live. */
  #release(i: number, attempt?: number): LiveAttempt | undefined {
    const live = this.#live.get(i);
    if (live === undefined || (attempt !== undefined && live.attempt !== attempt)) return undefined;
    this.#live.delete(i);
    clearTimeout(live.timer);
    this.#inFlight--;
    const name = this.#task(i).agent;
    this.#running.set(name, (this.#running.get(name) as number) - 1);
    const parked = this.#parked.get(name)?.pop();
    if (parked !== undefined) this.#heap.push(parked);
    return live;
  }

  #settle(i: number, attempt: number, reply: TaskReply): void {
    const live = this.#release(i, attempt);
    if (live === undefined) return;
    const ending = {
      startedAt: reply.startedAt,
      finishedAt: reply.finishedAt,
      threadId: reply.threadId,
    };
    const waitMs = Math.max(0, reply.startedAt - (this.#queuedAt[i] as number));
    this.#s.recordAttempt(
      this.#task(i).agent,
      reply.finishedAt - reply.startedAt,
      waitMs,
      reply.ok,
    );
    if (reply.ok) this.#end(i, 'done', { ...ending, output: reply.output });
    else this.#attemptFailed(i, reply.error, ending);
    this.#afterChange();
  }

  /**
   * The backstop fired: count from when the attempt really started (it may
   * have waited in the pool's queue) and terminate it only if it has
   * overrun its timeout by the grace period.
   */
  #checkTimeout(i: number, attempt: number): void {
    const live = this.#live.get(i);
    if (live === undefined || live.attempt !== attempt) return;
    const { timeoutMs } = live.message;
    const grace = this.#s.timeoutGraceMs;
    const startedAt = this.#s.executor.startedAt(live.message);
    const wait = (startedAt ?? now()) + timeoutMs + grace - now();
    if (wait > 1) {
      live.timer = setTimeout(() => this.#checkTimeout(i, attempt), wait);
      return;
    }
    this.#release(i);
    live.controller.abort();
    const message = `task "${this.#graph.ids[i]}" timed out after ${timeoutMs} ms and did not stop within ${grace} ms; its thread was terminated`;
    const ending = { startedAt: startedAt || live.dispatchedAt, finishedAt: now(), threadId: null };
    this.#attemptFailed(i, taskError('ERR_TASK_TIMEOUT', message), ending);
    this.#afterChange();
  }

  #retryPolicy(i: number): RetryPolicy {
    return mergeRetry(this.#s.retry, this.#agent(i).retries, this.#task(i).retries);
  }

  #attemptFailed(i: number, error: TaskError, ending: Ending): void {
    const policy = this.#retryPolicy(i);
    const attempt = this.#attempts[i] as number;
    if (this.#stoppedBy !== null || NOT_RETRIED.has(error.code) || attempt > policy.max) {
      this.#end(i, 'failed', { ...ending, error });
      if (this.#s.failFast) this.#stop('fail-fast', i);
      return;
    }
    // Waiting out the backoff holds a timer, not a thread.
    const delayMs = backoffDelay(policy, attempt, this.#s.random);
    this.#state[i] = BACKOFF;
    this.#emit('retry', i, { attempt, delayMs, error });
    const timer = setTimeout(() => {
      this.#backoff.delete(i);
      this.#state[i] = READY;
      this.#heap.push(i);
      this.#pump();
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
      ...(status === 'done' ? { output: ending.output } : { error: ending.error }),
    } as TaskResult;
    this.#state[i] = ENDED;
    this.#results[i] = result;
    if (status === 'done') this.#outputs[i] = ending.output;
    this.#endedCount++;
    this.#ended.push(i);
    this.#s.emit({
      type: status,
      runId: this.#s.runId,
      id,
      agent: result.agent,
      at: result.finishedAt,
      result,
    });
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
    this.#pump();
    this.#checkComplete();
  }

  /** Cancels every task not yet running; on a signal, running attempts too. */
  #stop(reason: Exclude<StopReason, null>, culprit?: number): void {
    if (this.#stoppedBy !== null) return;
    this.#stoppedBy = reason;
    const why =
      reason === 'signal'
        ? `run cancelled${this.#s.signal?.reason instanceof Error ? `: ${this.#s.signal.reason.message}` : ''}`
        : `cancelled: task "${this.#graph.ids[culprit as number]}" failed and failFast is set`;
    for (const timer of this.#backoff.values()) clearTimeout(timer);
    this.#backoff.clear();
    for (let i = 0; i < this.#state.length; i++) {
      const state = this.#state[i];
      if (state === ENDED || (state === RUNNING && reason === 'fail-fast')) continue;
      let ending = this.#never();
      if (state === RUNNING) {
        const live = this.#release(i) as LiveAttempt;
        live.controller.abort();
        ending = { ...ending, startedAt: live.dispatchedAt };
      }
      this.#end(i, 'cancelled', { ...ending, error: taskError('ERR_CANCELLED', why) });
    }
    this.#heap.drain();
    this.#parked.clear();
    this.#ended.length = 0;
    this.#checkComplete();
  }

  #checkComplete(): void {
    if (this.#finished || this.#endedCount < this.#state.length) return;
    this.#finished = true;
    this.#s.signal?.removeEventListener('abort', this.#onAbort);
    this.#resolve(this.#result());
  }

  #result(): RunResult {
    const counts = { done: 0, failed: 0, skipped: 0, cancelled: 0 };
    for (const result of this.#results as TaskResult[]) counts[result.status]++;
    // fromEntries, not assignment: a task may be called "__proto__".
    const tasks = Object.fromEntries(
      (this.#results as TaskResult[]).map((result) => [result.id, result]),
    );
    const total = this.#results.length;
    return {
      runId: this.#s.runId,
      total,
      ...counts,
      stoppedBy: this.#stoppedBy,
      startedAt: this.#startedAt,
      durationMs: now() - this.#startedAt,
      successRate: total === 0 ? 1 : counts.done / total,
      tasks,
    };
  }

  #emit(type: 'queued', i: number): void;
  #emit(type: 'started', i: number, extra: { attempt: number }): void;
  #emit(
    type: 'retry',
    i: number,
    extra: { attempt: number; delayMs: number; error: TaskError },
  ): void;
  #emit(type: 'queued' | 'started' | 'retry', i: number, extra?: object): void {
    const event = {
      type,
      runId: this.#s.runId,
      id: this.#graph.ids[i] as string,
      agent: this.#task(i).agent,
      at: now(),
      ...extra,
    };
    this.#s.emit(event as TaskEvent);
  }
}
