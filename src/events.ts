import type { TaskError } from './errors.js';
import type { TaskResult } from './results.js';

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
 * `queued` (ready to run), `started` (an attempt was dispatched), `retry`
 * (an attempt failed and another follows after `delayMs`), and one final
 * event named after the task's status, with its `TaskResult`.
 */
export type TaskEvent =
  | (EventBase & { type: 'queued' })
  | (EventBase & { type: 'started'; attempt: number })
  | (EventBase & { type: 'retry'; attempt: number; delayMs: number; error: TaskError })
  | (EventBase & { type: TaskResult['status']; result: TaskResult });

export type TaskListener = (event: TaskEvent) => unknown;

/**
 * Listeners that cannot break a run: a listener that throws, or returns a
 * rejected promise, is counted in `errors` and otherwise ignored.
 */
export class Listeners {
  readonly #listeners = new Set<TaskListener>();
  errors = 0;

  add(listener: TaskListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  delete(listener: TaskListener): void {
    this.#listeners.delete(listener);
  }

  emit(event: TaskEvent): void {
    for (const listener of this.#listeners) {
      try {
        const returned = listener(event);
        if (returned instanceof Promise) returned.catch(() => this.errors++);
      } catch {
        this.errors++;
      }
    }
  }
}
