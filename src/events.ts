import type { TaskResult } from './results.js';
import type { TaskError } from './shared/errors.js';

interface EventBase {
  runId: string;
  /** Task id. */
  id: string;
  agent: string;
  /** Epoch ms. */
  at: number;
}

/**
 * A task's progress through a run, delivered to `runtime.on('task', …)`:
 * `queued` (ready to run), `started` (an attempt was handed to a thread; it
 * may wait there on deck, and one taken back before it began is handed out
 * again under the same attempt number, with another `started`), `retry`
 * (an attempt failed and another follows after `delayMs`), `cached` (its
 * result was found in the task cache: it does not run, and its `done`
 * follows at once), and one final event named after the task's status,
 * with its `TaskResult`.
 */
export type TaskEvent =
  | (EventBase & { type: 'queued' })
  | (EventBase & {
      type: 'started';
      attempt: number;
      /** The thread the attempt was handed to, when known at dispatch (it may wait in the pool's queue). */
      threadId: number | null;
    })
  | (EventBase & {
      type: 'retry';
      /** The attempt that failed, its run time and thread (null where the thread was killed). */
      attempt: number;
      startedAt: number | null;
      finishedAt: number;
      threadId: number | null;
      /** With `redis`: the worker process that ran it. */
      worker?: string | undefined;
      error: TaskError;
      /** Wait before the next attempt. */
      delayMs: number;
    })
  | (EventBase & {
      type: 'cached';
      /** The task's cache key. */
      key: string;
      /** The run that stored the result, when, and what it cost then. */
      fromRun: string;
      createdAt: number;
      tokens: number;
      durationMs: number;
    })
  | FinalTaskEvent;

/**
 * A task's last event: its `type` is its result's `status`, so checking one
 * narrows the other (`if (e.type === 'failed') e.result.error.code`).
 */
export type FinalTaskEvent = {
  [S in TaskResult['status']]: EventBase & { type: S; result: Extract<TaskResult, { status: S }> };
}[TaskResult['status']];

/** A running task's `ctx.progress(fraction, message)`. */
export interface ProgressEvent extends EventBase {
  type: 'progress';
  attempt: number;
  /** The thread running the attempt. */
  threadId: number | null;
  fraction: number;
  message: string | undefined;
}

/** A running task's `ctx.emit(chunk)`: partial output, in order, before its result. */
export interface ChunkEvent extends EventBase {
  type: 'chunk';
  attempt: number;
  /** The thread running the attempt. */
  threadId: number | null;
  chunk: unknown;
}

/** Events by the name `runtime.on` takes. */
export interface EventMap {
  task: TaskEvent;
  progress: ProgressEvent;
  chunk: ChunkEvent;
}
export type EventName = keyof EventMap;
export type Listener<E extends EventName = EventName> = (event: EventMap[E]) => unknown;
export type TaskListener = Listener<'task'>;

/**
 * Listeners that cannot break a run: a listener that throws, or returns a
 * rejected promise, is counted in `errors` and otherwise ignored.
 */
export class Listeners {
  readonly #listeners: { [E in EventName]: Set<Listener<E>> } = {
    task: new Set(),
    progress: new Set(),
    chunk: new Set(),
  };
  errors = 0;

  add<E extends EventName>(name: E, listener: Listener<E>): () => void {
    this.#listeners[name].add(listener);
    return () => this.delete(name, listener);
  }

  delete<E extends EventName>(name: E, listener: Listener<E>): void {
    this.#listeners[name].delete(listener);
  }

  /** Whether anyone listens for `name` (so events need not even be built). */
  has(name: EventName): boolean {
    return this.#listeners[name].size > 0;
  }

  emit<E extends EventName>(name: E, event: EventMap[E]): void {
    for (const listener of this.#listeners[name]) {
      try {
        const returned = listener(event);
        if (returned instanceof Promise) returned.catch(() => this.errors++);
      } catch {
        this.errors++;
      }
    }
  }
}
