import { encodeValue } from '../src/shared/clone.js';
import { AgentpoolError, describe, formatCount } from '../src/shared/errors.js';
import type { TaskMessage } from '../src/shared/protocol.js';

function isPrimitive(
  value: unknown,
): value is string | number | boolean | bigint | null | undefined {
  const type = typeof value;
  return value === null || (type !== 'object' && type !== 'function' && type !== 'symbol');
}

/**
 * Object outputs cross threads pre-serialized (see `WireReply`): the size
 * limit is checked on the very bytes that will travel, and an uncloneable
 * output fails here, in its own task.
 */
export function encode(
  message: TaskMessage,
  output: unknown,
): { output: unknown } | { encoded: Uint8Array } {
  const limit = message.limits.outputBytes;
  let bytes: number;
  let result: { output: unknown } | { encoded: Uint8Array };
  if (isPrimitive(output)) {
    bytes = typeof output === 'string' ? Buffer.byteLength(output) : 8;
    result = { output };
  } else {
    let encoded: Uint8Array;
    try {
      encoded = encodeValue(output);
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : describe(cause);
      throw new AgentpoolError(
        'ERR_OUTPUT_NOT_CLONEABLE',
        `output is not structured-clonable: ${reason}`,
        { cause },
      );
    }
    bytes = encoded.byteLength;
    result = { encoded };
  }
  if (limit !== undefined && bytes > limit) {
    throw new AgentpoolError(
      'ERR_OUTPUT_TOO_LARGE',
      `task "${message.taskId}" output is ${formatCount(bytes)} bytes, over its ${formatCount(limit)}-byte limit`,
    );
  }
  return result;
}
