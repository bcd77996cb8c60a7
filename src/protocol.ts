/**
 * The one message format between the planner (main thread) and the workers.
 * Both sides import these types, so a change here is checked on both.
 */
import type { TaskError } from './errors.js';
import type { TaskStatus } from './results.js';

/** One attempt of one task, sent to a worker. */
export interface TaskMessage {
  runId: string;
  taskId: string;
  agent: string;
  /** File URL of the agent module. */
  module: string;
  prompt: string;
  context: Record<string, unknown>;
  /** Outputs of the direct dependencies that succeeded, by id. */
  deps: Record<string, unknown>;
  /** Final status of every direct dependency, by id. */
  depStatus: Record<string, TaskStatus>;
  /** 1-based attempt number. */
  attempt: number;
  /** The attempt's time limit; the worker aborts `ctx.signal` when it passes. */
  timeoutMs: number;
  /** Where the worker records its start on the pool's `StartBoard` (-1: not tracked). */
  startSlot: number;
}

interface ReplyBase {
  /** Epoch ms when the handler was called (after the module was loaded). */
  startedAt: number;
  finishedAt: number;
  threadId: number;
}

/** A task's outcome as the planner sees it. Agent errors come back as data, never as a rejection. */
export type TaskReply =
  | (ReplyBase & { ok: true; output: unknown })
  | (ReplyBase & { ok: false; error: TaskError });

/**
 * What actually crosses the thread boundary. An object output travels
 * pre-serialized (`v8.serialize`, its buffer transferred, not copied): the
 * worker learns right there whether it can be cloned at all, which a failed
 * `postMessage` would only report by crashing the thread.
 */
export type WireReply =
  | (ReplyBase & { ok: true; output: string | number | boolean | bigint | null | undefined })
  | (ReplyBase & { ok: true; encoded: Uint8Array })
  | (ReplyBase & { ok: false; error: TaskError });
