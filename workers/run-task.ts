import { serialize } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { now } from '../src/clock.js';
import { AgentpoolError, describe, toTaskError } from '../src/errors.js';
import type { TaskMessage, WireReply } from '../src/protocol.js';
import { type AgentHandler, handlerOf } from './agent.js';

// One load per module per thread; later tasks of the agent reuse it.
const handlers = new Map<string, Promise<AgentHandler>>();

async function loadHandler(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let mod: Record<string, unknown>;
  try {
    mod = await import(moduleUrl);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : describe(cause);
    throw new AgentpoolError(
      'ERR_AGENT_LOAD',
      `agent "${agent}": cannot load module ${moduleUrl}: ${reason}`,
      { cause },
    );
  }
  const handler = handlerOf(mod.default);
  if (handler === undefined) {
    throw new AgentpoolError(
      'ERR_AGENT_LOAD',
      `agent "${agent}": module ${moduleUrl} must have a default export made with defineAgent() (or a function), got ${mod.default === undefined ? 'no default export' : describe(mod.default)}`,
    );
  }
  return handler;
}

function handlerFor(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let handler = handlers.get(moduleUrl);
  if (handler === undefined) {
    handler = loadHandler(moduleUrl, agent);
    // A failed load is not cached: a module fixed on disk loads on the next try.
    handler.catch(() => handlers.delete(moduleUrl));
    handlers.set(moduleUrl, handler);
  }
  return handler;
}

function isPrimitive(
  value: unknown,
): value is string | number | boolean | bigint | null | undefined {
  const type = typeof value;
  return value === null || (type !== 'object' && type !== 'function' && type !== 'symbol');
}

function encode(output: unknown, startedAt: number): WireReply {
  if (isPrimitive(output)) return { ok: true, output, startedAt, finishedAt: now(), threadId };
  let encoded: Uint8Array;
  try {
    encoded = serialize(output);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : describe(cause);
    const error = new AgentpoolError(
      'ERR_OUTPUT_NOT_CLONEABLE',
      `output is not structured-clonable: ${reason}`,
      { cause },
    );
    return { ok: false, error: toTaskError(error), startedAt, finishedAt: now(), threadId };
  }
  return { ok: true, encoded, startedAt, finishedAt: now(), threadId };
}

/**
 * Runs one attempt of one task on the current thread. Never rejects: the
 * agent's errors are returned as data. `signal` lets an inline (main-thread)
 * caller cancel; in a worker, cancellation terminates the thread instead.
 */
export async function runTask(message: TaskMessage, signal?: AbortSignal): Promise<WireReply> {
  let startedAt = now();
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort(
      new AgentpoolError(
        'ERR_TASK_TIMEOUT',
        `task "${message.taskId}" timed out after ${message.timeoutMs} ms`,
      ),
    );
  }, message.timeoutMs);
  const taskSignal = signal ? AbortSignal.any([timeout.signal, signal]) : timeout.signal;
  try {
    const handler = await handlerFor(message.module, message.agent);
    startedAt = now();
    const output = await handler(message.prompt, {
      taskId: message.taskId,
      agent: message.agent,
      runId: message.runId,
      attempt: message.attempt,
      context: message.context,
      deps: message.deps,
      depStatus: message.depStatus,
      signal: taskSignal,
    });
    if (timeout.signal.aborted) throw timeout.signal.reason;
    return encode(output, startedAt);
  } catch (thrown) {
    // Whatever the agent threw after its deadline, the attempt's outcome is the timeout.
    const error = timeout.signal.aborted ? timeout.signal.reason : thrown;
    return { ok: false, error: toTaskError(error), startedAt, finishedAt: now(), threadId };
  } finally {
    clearTimeout(timer);
  }
}
