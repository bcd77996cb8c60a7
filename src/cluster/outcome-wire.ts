import { failureReply } from '../pool/decode.js';
import type { Outcome } from '../pool/executor.js';
import { now } from '../shared/clock.js';
import { toTaskError } from '../shared/errors.js';
import type { TaskReply } from '../shared/protocol.js';
import { unpack } from './job.js';

/**
 * How an attempt ended on a worker, as the worker sends it back (packed in
 * the job's result): the executor's `Outcome`, less what only the planner
 * can decide (`withdrawn`).
 */
export type RemoteOutcome =
  | { kind: 'replied'; reply: TaskReply }
  | { kind: 'crashed'; reply: TaskReply & { ok: false } }
  | { kind: 'refused' }
  /** It was cancelled (by the planner) before or while it ran. */
  | { kind: 'cancelled' };

/** An entry of a planner's replies stream, as its fields. */
export type ReplyEntry =
  /** The attempt began on a worker. */
  | { k: 's'; j: string }
  /** A progress report or chunk (`b`: a packed `ChannelEvent`). */
  | { k: 'e'; j: string; b: string }
  /** It ended and BullMQ recorded it (`b`: a packed `RemoteOutcome`). */
  | { k: 'd'; j: string; b: string };

/** Waits for `promise` at most `ms` (its failure ignored). */
export function within(promise: Promise<unknown>, ms = 2_000): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.catch(() => undefined),
    new Promise((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `promise`, or the rejection `error()` once `ms` have passed without it settling. */
export function before<T>(promise: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(error()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A worker's outcome as the planner's executor reports it. */
export function toOutcome(remote: RemoteOutcome): Outcome {
  switch (remote.kind) {
    case 'replied':
      return { kind: 'replied', reply: remote.reply };
    case 'crashed':
      return { kind: 'crashed', reply: remote.reply };
    case 'refused':
      return { kind: 'refused' };
    default:
      return { kind: 'aborted' };
  }
}

/** A packed `RemoteOutcome` as the planner's outcome; one that cannot be decoded here is the task's crash. */
export function decodeOutcome(packed: string, taskId: string): Outcome {
  let remote: RemoteOutcome;
  try {
    remote = unpack(packed) as RemoteOutcome;
  } catch (cause) {
    const error = toTaskError(cause, 'ERR_OUTPUT_NOT_CLONEABLE');
    error.message = `the reply of task "${taskId}" cannot be decoded here: ${error.message}`;
    return { kind: 'crashed', reply: { ...failureReply(cause, now()), error } };
  }
  return toOutcome(remote);
}
