import { deserialize } from 'node:v8';
import { toTaskError } from '../errors.js';
import type { TaskReply, WireReply } from '../shared/protocol.js';

/** Turns a worker's reply into the planner's: a pre-serialized output is decoded. */
export function decodeReply(wire: WireReply): TaskReply {
  if (!('encoded' in wire)) return wire;
  const { encoded, ...rest } = wire;
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  return { ...rest, output: deserialize(bytes) };
}

/**
 * A reply for an attempt that produced none. A DataCloneError here means
 * the task's own input (its context) could not be sent to a thread.
 */
export function failureReply(
  error: unknown,
  at: number,
  startedAt = at,
  cpuMs = 0,
): TaskReply & { ok: false } {
  const data = toTaskError(error, 'ERR_WORKER_CRASHED');
  if (error instanceof Error && error.name === 'DataCloneError') {
    data.code = 'ERR_DAG_INVALID';
    data.message = `the task's input cannot be sent to a thread: ${data.message}`;
  }
  return {
    ok: false,
    error: data,
    startedAt,
    finishedAt: at,
    threadId: null,
    tokens: 0,
    cpuMs,
    events: 0,
  };
}
