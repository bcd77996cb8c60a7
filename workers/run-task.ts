import { performance } from 'node:perf_hooks';
import { serialize } from 'node:v8';
import { threadId } from 'node:worker_threads';
import { now } from '../src/clock.js';
import {
  AgentpoolError,
  cpuLimitError,
  describe,
  formatCount,
  type TaskError,
  toTaskError,
} from '../src/errors.js';
import type { BatchItem, TaskMessage, WireReply } from '../src/protocol.js';
import { type AgentContext, type AgentHandler, handlerOf } from './agent.js';
import type { Link } from './channel.js';
import { TokenMeter } from './tokens.js';

// One load per module per thread; later tasks of the agent reuse it.
const handlers = new Map<string, Promise<AgentHandler>>();

let typescript: Promise<void> | undefined;

/**
 * TypeScript agents (`.ts`, `.mts`, `.cts`) load through tsx's loader,
 * registered in this thread the first time one is needed, so users need no
 * build step for their agents and threads that never see one never load it.
 */
function typescriptLoader(): Promise<void> {
  typescript ??= import('tsx/esm/api').then(({ register }) => {
    register();
  });
  return typescript;
}

async function loadHandler(moduleUrl: string, agent: string): Promise<AgentHandler> {
  let mod: Record<string, unknown>;
  try {
    if (/\.[mc]?ts$/.test(new URL(moduleUrl).pathname)) await typescriptLoader();
    mod = await import(moduleUrl);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : describe(cause);
    throw new AgentpoolError(
      'ERR_AGENT_LOAD',
      `agent "${agent}": cannot load module ${moduleUrl}: ${reason}`,
      {
        cause,
      },
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

/** Text whose tokens an output costs: a string as it is, anything else as JSON. */
function outputText(output: unknown): string | undefined {
  if (typeof output === 'string') return output;
  try {
    return JSON.stringify(output);
  } catch {
    return undefined; // BigInt or a cycle: serializable, just not as JSON; not charged.
  }
}

/**
 * Object outputs cross threads pre-serialized (see `WireReply`): the size
 * limit is checked on the very bytes that will travel, and an uncloneable
 * output fails here, in its own task.
 */
function encode(
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
      encoded = serialize(output);
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

export interface RunTaskOptions {
  /** Inline mode only: cancels the attempt (in a worker, the thread is terminated instead). */
  signal?: AbortSignal | undefined;
  /** The link to the main thread, made on first use. */
  link: () => Link;
}

/**
 * Runs one attempt of one task on the current thread. Never rejects: the
 * agent's errors, and every limit it breaks, are returned as data.
 */
export async function runTask(
  message: TaskMessage,
  options: RunTaskOptions,
  encodeOutput = true,
): Promise<WireReply> {
  let startedAt = now();
  const elu = performance.eventLoopUtilization();
  const tokens = new TokenMeter(
    message.taskId,
    message.encoding,
    message.limits.tokens,
    message.runTokens,
  );
  let events = 0;
  const timeout = new AbortController();
  const timer = setTimeout(() => {
    timeout.abort(
      new AgentpoolError(
        'ERR_TASK_TIMEOUT',
        `task "${message.taskId}" timed out after ${message.timeoutMs} ms`,
      ),
    );
  }, message.timeoutMs);
  const signal = options.signal
    ? AbortSignal.any([timeout.signal, options.signal])
    : timeout.signal;
  const finish = (): {
    startedAt: number;
    finishedAt: number;
    threadId: number;
    tokens: number;
    cpuMs: number;
    events: number;
  } => ({
    startedAt,
    finishedAt: now(),
    threadId,
    tokens: tokens.used,
    cpuMs: performance.eventLoopUtilization(elu).active,
    events,
  });
  const send = (kind: 'progress' | 'chunk', payload: unknown) => {
    options.link().send({
      runId: message.runId,
      taskId: message.taskId,
      attempt: message.attempt,
      kind,
      payload,
    });
    events++;
  };
  try {
    const handler = await handlerFor(message.module, message.agent);
    startedAt = now();
    const metered = tokens.metered || message.countTokens;
    if (metered) tokens.charge(message.prompt);
    const ctx: AgentContext = {
      taskId: message.taskId,
      agent: message.agent,
      runId: message.runId,
      attempt: message.attempt,
      context: message.context,
      deps: message.deps,
      depStatus: message.depStatus,
      signal,
      tokens,
      progress(fraction, text) {
        if (typeof fraction !== 'number' || !(fraction >= 0 && fraction <= 1)) {
          throw new TypeError(
            `ctx.progress expects a fraction between 0 and 1, got ${describe(fraction)}`,
          );
        }
        send('progress', { fraction, message: text });
      },
      emit(chunk) {
        send('chunk', chunk);
      },
      host: hostProxy(options.link),
    };
    const output = await handler(message.prompt, ctx);
    if (timeout.signal.aborted) throw timeout.signal.reason;
    if (metered) {
      const text = outputText(output);
      if (text !== undefined) tokens.charge(text);
    }
    const cpuLimit = message.limits.cpuMs;
    const used = finish();
    if (cpuLimit !== undefined && used.cpuMs > cpuLimit)
      throw cpuLimitError(message.taskId, used.cpuMs, cpuLimit);
    return {
      ok: true,
      ...(encodeOutput ? encode(message, output) : { output }),
      ...used,
    } as WireReply;
  } catch (thrown) {
    // Whatever the agent threw after its deadline, the attempt's outcome is the timeout.
    const error: TaskError = toTaskError(timeout.signal.aborted ? timeout.signal.reason : thrown);
    return { ok: false, error, ...finish() };
  } finally {
    clearTimeout(timer);
  }
}

/** `ctx.host.name(...args)` calls the host service `name` on the main thread. */
function hostProxy(link: () => Link): AgentContext['host'] {
  return new Proxy({} as AgentContext['host'], {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => link().call(name, args);
    },
  });
}

/**
 * A batched fan-out: each prompt runs as its own task would (its own token
 * account, timeout and errors), one after another on this thread, and the
 * outcomes travel back in one message, which is what makes tiny tasks cheap.
 */
export async function runBatch(message: TaskMessage, options: RunTaskOptions): Promise<WireReply> {
  const batch = message.batch as NonNullable<TaskMessage['batch']>;
  const startedAt = now();
  const elu = performance.eventLoopUtilization();
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
    const reply = await runTask(item, options, false);
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
    cpuMs: performance.eventLoopUtilization(elu).active,
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
