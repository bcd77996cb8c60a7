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
  /** On deck: the task whose attempt this one follows on its thread. */
  behind?: number | undefined;
  /** The task whose attempt is on deck behind this one. */
  deck?: number | undefined;
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

  /**
   * Hands attempt `attempt` of task `i` to the executor; with `behind`, on
   * deck behind task `behind`'s attempt, on that attempt's thread.
   */
  start(
    i: number,
    attempt: number,
    message: TaskMessage,
    cpuMs: number | undefined,
    behind?: number,
  ): void {
    this.#s.slots.take(message.agent);
    const ahead = behind === undefined ? undefined : this.#live.get(behind);
    if (ahead !== undefined) {
      message.behind = ahead.message.threadId;
      ahead.deck = i;
      this.#s.slots.decked++;
    }
    // A batch runs its prompts one after another, each with the whole timeout and CPU limit.
    const prompts = message.batch?.ids.length ?? 1;
    const watchdog = new Watchdog({
      timeoutMs: message.timeoutMs * prompts,
      graceMs: this.#s.timeoutGraceMs,
      cpuMs: cpuMs === undefined ? undefined : cpuMs * prompts,
      probe: () => this.#s.executor.probe(message),
      onBreach: (code, probe) => this.#breach(i, handle, code, probe),
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
      behind: ahead && behind,
    });
    // A reply for an attempt already ended (aborted, timed out, taken back)
    // finds it gone, or another in its place, and is dropped.
    void handle.reply.then((reply) => this.#settle(i, handle, reply));
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

  /** Attempts on deck, as [task on deck, task it follows]. */
  decks(): [number, number][] {
    const decks: [number, number][] = [];
    for (const [i, live] of this.#live) if (live.behind !== undefined) decks.push([i, live.behind]);
    return decks;
  }

  /**
   * The task whose attempt an attempt put on deck now should follow: one
   * running alone on a known thread of the default pool, with nothing on
   * deck yet, that `accepts`, and of those the one expected to end first
   * (by when it was handed over and its estimated cost).
   */
  deckTarget(accepts: (i: number) => boolean, cost: Float64Array): number | undefined {
    let best: number | undefined;
    let bestEnd = Number.POSITIVE_INFINITY;
    for (const [i, live] of this.#live) {
      const { message } = live;
      if (live.deck !== undefined || live.behind !== undefined || live.pending) continue;
      if (message.short || message.threadId === undefined || message.memoryMb !== undefined)
        continue;
      const end = live.dispatchedAt + (cost[i] as number);
      if (end < bestEnd && accepts(i)) {
        best = i;
        bestEnd = end;
      }
    }
    return best;
  }

  /**
   * Takes task `i`'s attempt back if it has not started on its thread yet
   * (it then never runs, and its slot is free): true if it was.
   */
  withdraw(i: number): boolean {
    const live = this.#live.get(i);
    if (live === undefined || live.pending || !live.handle.withdraw()) return false;
    this.#release(i);
    return true;
  }

  /** Frees an attempt's slot; returns the attempt if it was still live. */
  #release(i: number, handle?: AttemptHandle): LiveAttempt | undefined {
    const live = this.#live.get(i);
    if (live === undefined || (handle !== undefined && live.handle !== handle)) return undefined;
    this.#live.delete(i);
    // An attempt on deck behind this one is now its thread's own; one that
    // was on deck no longer holds a place there.
    const linked = this.#live.get((live.deck ?? live.behind) as number);
    if (live.deck !== undefined || live.behind !== undefined) this.#s.slots.decked--;
    if (linked !== undefined) {
      if (live.deck !== undefined) linked.behind = undefined;
      else linked.deck = undefined;
    }
    live.watchdog.stop();
    if (live.pending) clearTimeout(live.pending.timer);
    this.#s.slots.give(live.agent);
    return live;
  }

  #settle(i: number, handle: AttemptHandle, reply: TaskReply): void {
    const live = this.#live.get(i);
    if (live === undefined || live.handle !== handle) return;
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
    if (this.#release(i, live.handle) === undefined) return;
    this.#listener.replied(i, reply);
  }

  /** The watchdog caught an overrun the worker could not stop: terminate the thread. */
  #breach(
    i: number,
    handle: AttemptHandle,
    code: 'ERR_TASK_TIMEOUT' | 'ERR_CPU_LIMIT',
    probe: AttemptProbe | undefined,
  ): void {
    const live = this.#release(i, handle);
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
