// Inline mode's entry (`threads: 0`): the main thread runs attempts itself.
// The pool loads this file by URL, as piscina loads workers/worker.ts, so
// src/ never imports workers/ code: the two meet only in src/shared/.
import type { Link, TaskRequest, WireReply } from '../src/shared/protocol.js';
import { runBatch } from './run-batch.js';
import { runTask } from './run-task.js';

/** Runs one attempt (a task or a batch) on this thread. Never rejects. */
export function runInline(
  request: TaskRequest,
  options: { cancelSignal: () => AbortSignal; link: () => Link },
): Promise<WireReply> {
  return (request.batch ? runBatch : runTask)(request, options);
}
