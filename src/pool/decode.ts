import { deserialize } from 'node:v8';
import type { TaskReply, WireReply } from '../protocol.js';

/** Turns a worker's reply into the planner's: a pre-serialized output is decoded. */
export function decodeReply(wire: WireReply): TaskReply {
  if (!('encoded' in wire)) return wire;
  const { encoded, ...rest } = wire;
  const bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
  return { ...rest, output: deserialize(bytes) };
}
