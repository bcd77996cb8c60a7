import { now } from '../clock.js';
import { cpuLimitError, formatCount, type TaskError, taskError, toTaskError } from '../errors.js';
import type { AttemptHandle, AttemptProbe } from '../pool/executor.js';
import type { ChannelEvent, TaskMessage, TaskReply } from '../protocol.js';
import type { RunSettings } from './run-settings.js';
import { Watchdog } from './watchdog.js';

// How long a reply may wait for progress/chunk events its worker says it sent.
const EVENT_DRAIN_MS = 2_000;

/** How an attempt ended, as its task's result records it. */
export interface Ending {
  output?: unknown;
  error?: TaskError;
  startedAt: number | null;
  finishedAt: number;
  threadId: number | null;
  cpuMs?: number | undefined;
}

interface LiveAttempt {
  attempt: number;
  agent: string;
  handle: AttemptHandle;
  message: TaskMessage;
  watchdog: Watchdog;
  dispatchedAt: number;
  /** Channel events received so far. */
  events: number;
  /** A reply that arrived before all of its events. */
  pending?: { reply: TaskReply; timer: NodeJS.Timeout };
}

/** What a run hears from its attempts. */
export interface AttemptListener {
  /** An attempt replied, and every event it sent has been delivered. */
  replied(i: number, reply: TaskReply): void;
  /** The watchdog stopped an attempt its thread could not stop. */
  breached(i: number, error: TaskError, ending: Ending): void;
}

/**
 * A run's attempts in flight, by task index: each holds a dispatch slot
 * and has a watchdog. Progress and chunk events travel on another port
 * than the reply and may come after it, so a reply is passed on only once
 * its events are in. An attempt's slot is given back the moment it ends.
 */
export class LiveAttempts {
  readonly #s: RunSettings;
  readonly #listener: AttemptListener;
  readonly #live = new Map<number, LiveAttempt>();

  constructor(settings: RunSettings, listener: AttemptListener) {
    this.#s = settings;
    this.#listener = listener;
  }

  /** Hands attempt `attempt` of task `i` to the executor. */
  start(i: number, attempt: number, message: TaskMessage, cpuMs: number | undefined): void {
    this.#s.slots.take(message.agent);
    // A batch runs its prompts one after another, each with the whole timeout and CPU limit.
    const prompts = message.batch?.ids.length ?? 1;
    const watchdog = new Watchdog({
      timeoutMs: message.timeoutMs * prompts,
      graceMs: this.#s.timeoutGraceMs,
      cpuMs: cpuMs === undefined ? undefined : cpuMs * prompts,
      probe: () => this.#s.executor.probe(message),
      onBreach: (code, probe) => this.#breach(i, attempt, code, probe),
    });
    const handle = this.#s.executor.run(message);
    const agent = message.agent;
    this.#live.set(i, {
      attempt,
      agent,
      handle,
      message,
      watchdog,
      dispatchedAt: now(),
      events: 0,
    });
    // A reply for an attempt already ended (aborted, timed out) finds it gone and is dropped.
    void handle.reply.then((reply) => this.#settle(i, attempt, reply));
  }

  /** A progress report or chunk of task `i`'s attempt. Stale ones (an attempt already ended) are dropped. */
  event(i: number, event: ChannelEvent): void {
    const live = this.#live.get(i);
    if (live === undefined || live.attempt !== event.attempt) return;
    live.events++;
    const base = {
      runId: this.#s.runId,
      id: event.taskId,
      agent: live.agent,
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

  /**
   * Ends task `i`'s attempt now, as the run stops: its reply when that is
   * already in (only some events were late), else the attempt is aborted
   * and this says where and since when it ran.
   */
  stop(i: number): { reply: TaskReply } | { startedAt: number; threadId: number | null } {
    const live = this.#release(i) as LiveAttempt;
    if (live.pending) return { reply: live.pending.reply };
    live.handle.abort();
    return {
      startedAt: this.#s.executor.probe(live.message)?.startedAt ?? live.dispatchedAt,
      threadId: live.message.threadId ?? null,
    };
  }

  /** Frees an attempt's slot; returns the attempt if it was still live. */
  #release(i: number, attempt?: number): LiveAttempt | undefined {
    const live = this.#live.get(i);
    if (live === undefined || (attempt !== undefined && live.attempt !== attempt)) return undefined;
    this.#live.delete(i);
    live.watchdog.stop();
    if (live.pending) clearTimeout(live.pending.timer);
    this.#s.slots.give(live.agent);
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
    const timer = setTimeout(() => this.#complete(i, live, reply), EVENT_DRAIN_MS);
    live.pending = { reply, timer };
  }

  #complete(i: number, live: LiveAttempt, reply: TaskReply): void {
    if (this.#release(i, live.attempt) === undefined) return;
    this.#listener.replied(i, reply);
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
    const { taskId, timeoutMs, limits, batch } = live.message;
    const prompts = batch?.ids.length ?? 1;
    const stopped = this.#s.executor.terminates
      ? 'its thread was terminated'
      : 'the attempt was abandoned (inline mode cannot stop it)';
    const error =
      code === 'ERR_CPU_LIMIT'
        ? toTaskError(cpuLimitError(taskId, probe?.activeMs ?? 0, (limits.cpuMs ?? 0) * prompts))
        : taskError(
            code,
            `task "${taskId}" timed out after ${formatCount(timeoutMs * prompts)} ms and did not stop within ${this.#s.timeoutGraceMs} ms; ${stopped}`,
          );
    this.#listener.breached(i, error, {
      startedAt: probe?.startedAt ?? live.dispatchedAt,
      finishedAt: now(),
      threadId: live.message.threadId ?? null,
      cpuMs: probe?.activeMs,
    });
  }
}
