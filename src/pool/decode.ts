import { decodeValue } from '../shared/clone.js';
import { AgentpoolError, describe, formatCount, toTaskError } from '../shared/errors.js';
import type { TaskReply, WireReply } from '../shared/protocol.js';

/**
 * Turns a worker's reply into the planner's: a pre-serialized output is
 * decoded. An output the main thread cannot decode fails its attempt alone:
 * a worker's stack is 4 MB and the main thread's ~1 MB, so a structure
 * nested deeply enough (a 3,000-node linked list) serializes there and
 * overflows the stack here; that RangeError used to escape as an unhandled
 * rejection and end the process.
 */
export function decodeReply(wire: WireReply): TaskReply {
  if (!('encoded' in wire)) return wire;
  const { encoded, ...rest } = wire;
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  try {
    return { ...rest, output: decodeValue(bytes) };
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : describe(cause);
    const error = new AgentpoolError(
      'ERR_OUTPUT_NOT_CLONEABLE',
      `output cannot be decoded on the main thread (${formatCount(bytes.byteLength)} bytes): ${reason}${cause instanceof RangeError ? '; it is nested too deeply' : ''}`,
      { cause },
    );
    return { ...rest, ok: false, error: toTaskError(error) };
  }
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
