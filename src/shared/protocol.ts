/**
 * The one message format between the planner (main thread) and the workers.
 * Both sides import these types, so a change here is checked on both. Wire
 * only: nothing here is main-thread bookkeeping, and no side mutates a
 * message it received or sent (that lives on the planner's `Attempt` and the
 * pool's `Submission`).
 */
// Type-only: erased at build time, so the wire folder loads nothing of src/.
import type { TaskError } from './errors.js';
import type { TaskStatus } from './task-status.js';

/** Tokenizer encodings (gpt-tokenizer's). */
export const ENCODINGS = [
  'o200k_base',
  'cl100k_base',
  'p50k_base',
  'p50k_edit',
  'r50k_base',
  'o200k_harmony',
] as const;
export type Encoding = (typeof ENCODINGS)[number];

/** A run's shared token budget (cells: see `run-budget.ts`). */
export interface RunTokens {
  buffer: SharedArrayBuffer;
  budget: number;
  /**
   * Set on an `agentpool worker`: the budget lives in Redis, and `buffer` is
   * this attempt's mailbox (see `remote-budget.ts`); each charge is asked of
   * the worker's main thread under this id (the job's).
   */
  remote?: string | undefined;
}

/**
 * Posted on `parentPort` by a thread charging a remote budget (`RunTokens.remote`):
 * the main thread answers in `buffer` (see `remote-budget.ts`).
 */
export const CHARGE_MARK = 'agentpool:charge';
export interface ChargeRequest {
  type: typeof CHARGE_MARK;
  /** `RunTokens.remote`. */
  id: string;
  /** The request's number, as the mailbox's state cell holds it. */
  seq: number;
  amount: number;
  buffer: SharedArrayBuffer;
}

/** Limits the worker enforces itself (memory is the thread's, set by the pool). */
export interface WorkerLimits {
  tokens?: number | undefined;
  outputBytes?: number | undefined;
  cpuMs?: number | undefined;
}

/** A progress report or an output chunk from a running task, sent on the thread's event port. */
export interface ChannelEvent {
  runId: string;
  taskId: string;
  attempt: number;
  kind: 'progress' | 'chunk';
  /** `{ fraction, message }` for progress; the chunk itself for a chunk. */
  payload: unknown;
}

/** The worker's first message on `parentPort` when a thread first uses the channel. */
export const CHANNEL_MARK = 'agentpool:channel';
export interface ChannelHello {
  type: typeof CHANNEL_MARK;
  /** Progress and chunks, as plain ordered messages. */
  events: import('node:worker_threads').MessagePort;
  /** Host service calls, over comlink. */
  rpc: import('node:worker_threads').MessagePort;
}

/**
 * Sent on `parentPort` by a thread about to die of an error thrown while none
 * of its attempts was running: agent code left behind by a task that had
 * ended (a timer, a callback). No task fails for it, so this is how it is heard.
 */
export const STRAY_MARK = 'agentpool:stray-error';
export interface StrayError {
  type: typeof STRAY_MARK;
  error: TaskError;
}

/** The attempt a host call comes from: an `agentpool worker` marks it as having shown outside effects. */
export interface CallOrigin {
  runId: string;
  taskId: string;
  attempt: number;
}

/** The two ends a running task talks to the main thread through. */
export interface Link {
  send(event: ChannelEvent): void;
  call(name: string, args: unknown[], origin: CallOrigin): Promise<unknown>;
}

/** What the main thread exposes to agents over comlink. */
export interface HostApi {
  call(name: string, args: unknown[], origin: CallOrigin): Promise<unknown>;
}

/** One prompt's outcome in a batched fan-out. */
export type BatchItem = { startedAt: number; finishedAt: number; tokens: number; cpuMs: number } & (
  | { ok: true; output: unknown }
  | { ok: false; error: TaskError }
);

/** One attempt of one task, sent to a worker. */
export interface TaskRequest {
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
  /**
   * A batched fan-out: run the agent on each prompt in turn, in one message.
   * The reply's output is then one `BatchItem` per prompt.
   */
  batch?: { ids: string[]; prompts: string[] } | undefined;
  limits: WorkerLimits;
  /** Heap cap of the thread to run on (picks the pool); undefined for the default pool. */
  memoryMb?: number | undefined;
  encoding: Encoding;
  /** Count prompt and output tokens even without a budget. */
  countTokens: boolean;
  runTokens?: RunTokens | undefined;
}

/** @deprecated the old name of `TaskRequest`, kept while other branches move over. */
export type TaskMessage = TaskRequest;

/**
 * What a pool posts to a thread: the request, and where on the pool's
 * start board the worker records its start (-1: not tracked).
 */
export interface WorkerJob {
  request: TaskRequest;
  slot: number;
}

/**
 * Short attempts of one agent coalesced into one message (see
 * src/pool/coalescer.ts): the thread runs them in order, as if each had come
 * alone, and answers with one `WorkerReply` per job, in job order.
 */
export interface WorkerGroup {
  group: WorkerJob[];
}

interface ReplyBase {
  /** Epoch ms when the handler was called (after the module was loaded). */
  startedAt: number;
  finishedAt: number;
  /** The thread that ran the attempt; null where it is not known (a thread that died). */
  threadId: number | null;
  /** Tokens the attempt used. */
  tokens: number;
  /** The thread's active time during the attempt, in ms (event-loop utilisation). */
  cpuMs: number;
  /** Progress and chunk events the attempt sent; the planner waits for all of them before the result. */
  events: number;
  /** With `redis`: the `agentpool worker` that ran it, `hostname/pid` (its threads' ids are its own: see worker-node.ts). */
  worker?: string | undefined;
}

/** A task's outcome as the planner sees it. Agent errors come back as data, never as a rejection. */
export type TaskReply =
  | (ReplyBase & { ok: true; output: unknown })
  | (ReplyBase & { ok: false; error: TaskError });

/**
 * What actually crosses the thread boundary. An object output travels
 * pre-serialized (`encodeValue` in clone.ts, V8's own serializer; its bytes are copied, never transferred: see workers/worker.ts): the
 * worker learns right there whether it can be cloned at all, which a failed
 * `postMessage` would only report by crashing the thread.
 */
export type WireReply =
  | (ReplyBase & { ok: true; output: string | number | boolean | bigint | null | undefined })
  | (ReplyBase & { ok: true; encoded: Uint8Array })
  | (ReplyBase & { ok: false; error: TaskError });

/**
 * A worker's answer when it did not begin the attempt: `refused`, its run's
 * token budget being spent by then; `cancelled`, taken back (aborted or
 * withdrawn) while it waited; `deferred`, below. The start board says the same; this is what
 * the reply carries.
 */
export interface NotBegun {
  /**
   * `deferred`: a group member the thread handed back unbegun, so that the
   * replies before it are not held (see `WorkerGroup`); it is posted again.
   */
  notBegun: 'refused' | 'cancelled' | 'deferred';
}

/** Everything a worker may answer to a `WorkerJob`. */
export type WorkerReply = WireReply | NotBegun;
