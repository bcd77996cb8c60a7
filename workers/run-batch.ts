import { threadId } from 'node:worker_threads';
import { now } from '../src/shared/clock.js';
import { toTaskError } from '../src/shared/errors.js';
import type { BatchItem, TaskMessage, WireReply } from '../src/shared/protocol.js';
import { encode } from './output.js';
import { eventLoopUtilization, type RunTaskOptions, runTask } from './run-task.js';

/**
 * A batched fan-out: each prompt runs as its own task would (its own token
 * account, timeout and errors), one after another on this thread, and the
 * outcomes travel back in one message, which is what makes tiny tasks cheap.
 */
export async function runBatch(message: TaskMessage, options: RunTaskOptions): Promise<WireReply> {
  const batch = message.batch as NonNullable<TaskMessage['batch']>;
  const startedAt = now();
  let elu = eventLoopUtilization();
  // CPU time counts from the first prompt's agent being loaded, as a single
  // task's does; each prompt's own, from its own start.
  const first: RunTaskOptions = {
    ...options,
    loaded: () => {
      elu = eventLoopUtilization();
      options.loaded?.();
    },
  };
  const rest: RunTaskOptions = { ...options, loaded: undefined };
  const items: BatchItem[] = [];
  let tokens = 0;
  let events = 0;
  for (let k = 0; k < batch.ids.length; k++) {
    const item = {
      ...message,
      taskId: batch.ids[k] as string,
      prompt: batch.prompts[k] as string,
      batch: undefined,
    };
    const reply = await runTask(item, k === 0 ? first : rest, false);
    tokens += reply.tokens;
    events += reply.events;
    const { startedAt: start, finishedAt, cpuMs } = reply;
    const timing = { startedAt: start, finishedAt, tokens: reply.tokens, cpuMs };
    items.push(
      reply.ok
        ? { ...timing, ok: true, output: (reply as { output: unknown }).output }
        : { ...timing, ok: false, error: reply.error },
    );
  }
  const done = () => ({
    startedAt,
    finishedAt: now(),
    threadId,
    tokens,
    cpuMs: eventLoopUtilization(elu).active,
    events,
  });
  if (message.limits.outputBytes === undefined) {
    try {
      return { ok: true, ...encode(message, items), ...done() } as WireReply;
    } catch {
      // Some output cannot be cloned: find it below, and fail only that prompt.
    }
  }
  const checked = items.map((item, k): BatchItem => {
    if (!item.ok) return item;
    try {
      encode({ ...message, taskId: batch.ids[k] as string }, item.output);
      return item;
    } catch (error) {
      return { ...item, ok: false, error: toTaskError(error), output: undefined } as BatchItem;
    }
  });
  return { ok: true, ...encode({ ...message, limits: {} }, checked), ...done() } as WireReply;
}
