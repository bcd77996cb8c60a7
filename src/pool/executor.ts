import type { TaskMessage, TaskReply } from '../protocol.js';

/** Where attempts run: worker threads, or the main thread in inline mode. */
export interface Executor {
  /** How many attempts may run at once. */
  readonly threads: number;
  /**
   * Runs one attempt. Resolves with the worker's reply, or with a failure
   * reply when the thread crashed; rejects only when `signal` aborted it
   * (the caller decides what that abort meant).
   */
  run(message: TaskMessage, signal: AbortSignal): Promise<TaskReply>;
  /**
   * When the attempt carrying `message` started on a thread, or undefined
   * while it still waits for one.
   */
  startedAt(message: TaskMessage): number | undefined;
  /** Fraction of the pool's capacity spent running tasks since it started, or null inline. */
  utilization(): number | null;
  close(): Promise<void>;
}
