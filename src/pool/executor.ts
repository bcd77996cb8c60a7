import type { TaskMessage, TaskReply } from '../protocol.js';

/** What is known of a running attempt from outside its thread. */
export interface AttemptProbe {
  /** Epoch ms when it started on its thread. */
  startedAt: number;
  /** Its thread's active (not idle) time since its agent was loaded, in ms; undefined while loading or where it cannot be read. */
  activeMs: number | undefined;
}

/** One attempt handed to an executor. */
export interface AttemptHandle {
  /**
   * The worker's reply, or a failure reply when the thread crashed. Never
   * rejects. After `abort()` it still settles, with nothing worth reading.
   */
  readonly reply: Promise<TaskReply>;
  /** Stops the attempt: cancelled if it has not started, its thread terminated if it is running; one already finished is left to deliver its reply, which then reads as aborted. */
  abort(): void;
  /**
   * Takes the attempt back if it has not started: it never runs, and its
   * reply settles with nothing worth reading. False (and nothing changes)
   * once it has started.
   */
  withdraw(): boolean;
}

/** Where attempts run: worker threads, or the main thread in inline mode. */
export interface Executor {
  /** How many attempts may run at once. */
  readonly threads: number;
  /** Whether stopping an attempt terminates its thread (false inline, where it can only be abandoned). */
  readonly terminates: boolean;
  /** Whether an attempt for a thread with this heap cap may be handed over now without exceeding `threads` running. */
  hasRoom(memoryMb: number | undefined): boolean;
  /** Starts one attempt. */
  run(message: TaskMessage): AttemptHandle;
  /** The attempt carrying `message`, once it has started on a thread; undefined while it waits. */
  probe(message: TaskMessage): AttemptProbe | undefined;
  /** Fraction of capacity spent running tasks since the pool started, or null inline. */
  utilization(): number | null;
  /** Worker threads alive now (0 inline). */
  liveThreads(): number;
  close(): Promise<void>;
}
