import type { EventMap } from '../events.js';
import type { TaskStatus } from '../results.js';
import type { Runtime } from '../runtime.js';

/** One attempt of one task, as the timeline draws it. */
export interface AttemptRecord {
  id: string;
  agent: string;
  attempt: number;
  /** When the task (or this retry) became ready to run. */
  readyAt: number;
  startedAt: number;
  finishedAt: number;
  threadId: number | null;
  /** With `redis`: the worker process that ran it (`hostname/pid`). */
  worker?: string | undefined;
  /** `retry` for an attempt that failed and was retried. */
  status: TaskStatus | 'retry';
  error?: string | undefined;
  tokens?: number | undefined;
}

/** What is running right now, for the live view. */
export interface RunningTask {
  id: string;
  agent: string;
  attempt: number;
  threadId: number | null;
  since: number;
  progress?: string | undefined;
}

/**
 * Follows one run's events into what the CLI shows: per-attempt records for
 * the timeline and trace, and what is running now for the live view.
 */
export class Recorder {
  readonly attempts: AttemptRecord[] = [];
  readonly running = new Map<string, RunningTask>();
  readonly counts = { done: 0, failed: 0, skipped: 0, cancelled: 0 };
  /** Of `counts.done`, the tasks whose result came from the cache. */
  fromCache = 0;
  readonly #readyAt = new Map<string, number>();
  readonly #runId: string;
  readonly #off: (() => void)[];

  constructor(
    runtime: Runtime,
    runId: string,
    onEvent?: <E extends keyof EventMap>(name: E, event: EventMap[E]) => void,
  ) {
    this.#runId = runId;
    this.#off = [
      runtime.on('task', (event) => {
        if (event.runId !== runId) return;
        this.#task(event);
        onEvent?.('task', event);
      }),
      runtime.on('progress', (event) => {
        if (event.runId !== runId) return;
        const task = this.running.get(event.id);
        if (task) {
          task.progress = event.message ?? `${Math.round(event.fraction * 100)}%`;
          task.threadId = event.threadId ?? task.threadId;
        }
        onEvent?.('progress', event);
      }),
    ];
    // Only a view asks for chunks (ndjson prints them); the recorder itself has no use for them.
    if (onEvent) {
      this.#off.push(
        runtime.on('chunk', (event) => {
          if (event.runId === runId) onEvent('chunk', event);
        }),
      );
    }
  }

  get runId(): string {
    return this.#runId;
  }

  #task(event: EventMap['task']): void {
    switch (event.type) {
      case 'queued':
        this.#readyAt.set(event.id, event.at);
        return;
      case 'cached':
        this.fromCache++;
        return;
      case 'started':
        this.running.set(event.id, {
          id: event.id,
          agent: event.agent,
          attempt: event.attempt,
          threadId: event.threadId,
          since: event.at,
        });
        return;
      case 'retry': {
        const startedOn = this.running.get(event.id)?.threadId ?? null;
        this.running.delete(event.id);
        this.attempts.push({
          id: event.id,
          agent: event.agent,
          attempt: event.attempt,
          readyAt: this.#readyAt.get(event.id) ?? event.startedAt ?? event.finishedAt,
          startedAt: event.startedAt ?? event.finishedAt,
          finishedAt: event.finishedAt,
          threadId: event.threadId ?? startedOn,
          worker: event.worker,
          status: 'retry',
          error: `${event.error.code}: ${event.error.message}`,
        });
        this.#readyAt.set(event.id, event.at + event.delayMs);
        return;
      }
      default: {
        // A thread that died mid-task leaves its result without a thread id; the attempt's start named it.
        const startedOn = this.running.get(event.id)?.threadId ?? null;
        this.running.delete(event.id);
        const result = event.result;
        this.counts[result.status]++;
        if (result.startedAt === null) return;
        this.attempts.push({
          id: result.id,
          agent: result.agent,
          attempt: result.attempts,
          readyAt: this.#readyAt.get(result.id) ?? result.startedAt,
          startedAt: result.startedAt,
          finishedAt: result.finishedAt,
          threadId: result.threadId ?? startedOn,
          worker: result.worker,
          status: result.status,
          error: result.error && `${result.error.code}: ${result.error.message}`,
          tokens: result.tokens,
        });
      }
    }
  }

  stop(): void {
    for (const off of this.#off) off();
  }
}
