import type { TaskReply, TaskRequest } from '../shared/protocol.js';

/**
 * How a submitted attempt ended, as the executor saw it. Data, never a
 * rejection. `withdrawn` and `aborted` answer the planner's own `withdraw()`
 * and `abort()`, which end the attempt on the planner's side at once: the
 * outcome that follows only says the executor has let go of it.
 */
export type Outcome =
  /** It ran and replied (the agent's error, if any, is in the reply). */
  | { kind: 'replied'; reply: TaskReply }
  /** Its worker would not begin it: the run's token budget was spent by then. It never ran. */
  | { kind: 'refused' }
  /** Taken back by `withdraw()` before it began. It never ran. */
  | { kind: 'withdrawn' }
  /** Stopped by `abort()`. */
  | { kind: 'aborted' }
  /**
   * It produced no reply: its thread died under it (out of heap, an exit,
   * an error escaping the agent), or it could not be sent at all.
   */
  | { kind: 'crashed'; reply: TaskReply & { ok: false } };

/** Where a submitted attempt stands, read from outside its thread. */
export type Probe =
  /** Handed over, not begun (in a queue, or posted to a busy thread). */
  | { phase: 'waiting' }
  /**
   * Running since `startedAt` (epoch ms); `activeMs` is its thread's active
   * time since its agent was loaded (undefined while it loads or where it
   * cannot be read).
   */
  | { phase: 'running'; startedAt: number; activeMs: number | undefined }
  /** It has finished on its thread; its reply is on the way. */
  | { phase: 'finished'; startedAt: number }
  /** It will not run (settled, withdrawn, refused), or cannot be read. */
  | { phase: 'gone' };

/** What stopping an attempt took (see `Submission.abort`). */
export type StopResult = 'not-running' | 'terminated' | 'stuck' | 'abandoned';

/** What the planner knows that helps place an attempt. */
export interface SubmitHints {
  /**
   * Expected to take well under a millisecond (its agent's mean so far): it
   * may queue on a busy thread behind other short attempts.
   */
  short: boolean;
  /** On deck: the thread whose running attempt this one is to follow. */
  behind?: number | undefined;
}

/** One attempt handed to an executor. */
export interface Submission {
  /** Settles once the executor has let go of the attempt. Never rejects. */
  readonly outcome: Promise<Outcome>;
  /** The thread (or, on another executor, the worker slot) it was handed to, once known. */
  readonly threadId: number | undefined;
  probe(): Probe;
  /**
   * Takes the attempt back if it has not begun: it never runs. False (and
   * nothing changes) once it has begun.
   */
  withdraw(): boolean;
  /**
   * Stops the attempt: cancelled if it has not begun, its thread terminated
   * if it is running. `'breach'`: it broke a limit (or never delivered its
   * reply), so even a thread that finished it and still holds its reply is
   * stopped; `'stop'`: a finished one is left to deliver its reply. Says,
   * once known, whether a thread had to be stopped and whether it was:
   * `'stuck'` is a thread that did not end when terminated (blocked in a
   * native call, which Node cannot interrupt); it was given up on.
   */
  abort(why: 'stop' | 'breach'): Promise<StopResult>;
  /**
   * It has waited past its deadline without beginning. The executor checks
   * the thread it was handed to: one that runs none of its attempts (it
   * spins in code a finished task left behind, or hangs posting a reply)
   * is replaced, and the attempt goes to another thread at no cost to it.
   */
  overdue(): void;
}

/**
 * Where attempts run: worker threads (`Pools`), the main thread (`InlinePool`),
 * or, later, worker processes on other machines behind a job queue. The
 * planner talks to nothing else.
 */
export interface Executor {
  /** How many attempts may run at once. */
  readonly threads: number;
  /** Whether stopping an attempt terminates its thread (false inline, where it can only be abandoned). */
  readonly terminates: boolean;
  /**
   * Whether an attempt for a thread with this heap cap may be handed over
   * now without exceeding `threads` running. `short`: it is expected to be
   * short (see `SubmitHints.short`): an executor that sends short attempts
   * out together may have room for more of them.
   */
  hasRoom(memoryMb: number | undefined, short?: boolean): boolean;
  /** Hands one attempt over. */
  submit(request: TaskRequest, hints: SubmitHints): Submission;
  /** Worker threads alive now (0 inline). */
  liveThreads(): number;
  /** Threads given up on: stuck in a call that cannot be interrupted (see `ThreadPool`). */
  stuckThreads(): number;
  close(): Promise<void>;
}
