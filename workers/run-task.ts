import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import { now } from '../src/shared/clock.js';
import { cpuLimitError, describe, type TaskError, toTaskError } from '../src/shared/errors.js';
import type { TaskMessage, WireReply } from '../src/shared/protocol.js';
import type { AgentContext } from './agent.js';
import type { Link } from './channel.js';
import { Deadline } from './deadline.js';
import { handlerFor } from './load-agent.js';
import { encode } from './output.js';
import { chargeOutput, TokenMeter } from './tokens.js';

// Captured before any agent runs: an agent that replaces it must not break
// the CPU accounting of its own attempt or the thread's later ones.
export const eventLoopUtilization = performance.eventLoopUtilization.bind(performance);
// Agent modules this thread has loaded.
const loadedHere = new Set<string>();

export interface RunTaskOptions {
  /**
   * Inline mode only: the signal that cancels the attempt (in a worker, the
   * thread is terminated instead), asked for when the agent first reads
   * `ctx.signal`.
   */
  cancelSignal?: (() => AbortSignal) | undefined;
  /** The link to the main thread, made on first use. */
  link: () => Link;
  /** Called once the agent (and the tokenizer, if metered) is loaded: the attempt's CPU time counts from here. */
  loaded?: (() => void) | undefined;
  /** Worker only: called each time agent code has run (module loaded, handler settled), before code of ours relies on the builtins again. */
  afterAgent?: (() => void) | undefined;
  /**
   * Worker only: called before the attempt first does something outside its
   * thread (sends an event, calls the host, charges the run's budget). Until
   * then it may run again from scratch if its thread is ended for another
   * attempt's sake.
   */
  seen?: (() => void) | undefined;
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
  // Replaced once the agent is loaded: a thread's first load of a module or
  // of the tokenizer is the thread's cost, not the task's CPU time.
  let elu = eventLoopUtilization();
  const { limits, runTokens } = message;
  const metered = limits.tokens !== undefined || runTokens !== undefined || message.countTokens;
  let meter: TokenMeter | undefined;
  const tokens = () => {
    meter ??= new TokenMeter(message.taskId, message.encoding, limits.tokens, runTokens, show);
    return meter;
  };
  let host: AgentContext['host'] | undefined;
  let events = 0;
  let shown = false;
  const show = () => {
    if (shown) return;
    shown = true;
    options.seen?.();
  };
  const deadline = new Deadline(message, startedAt, options.cancelSignal);
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
    tokens: meter?.used ?? 0,
    cpuMs: eventLoopUtilization(elu).active,
    events,
  });
  const send = (kind: 'progress' | 'chunk', payload: unknown) => {
    show();
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
    // A module's own code runs on its first load on the thread only.
    if (!loadedHere.has(message.module)) {
      loadedHere.add(message.module);
      options.afterAgent?.();
    }
    if (metered) tokens().load();
    startedAt = now();
    elu = eventLoopUtilization();
    options.loaded?.();
    if (metered) tokens().charge(message.prompt);
    const ctx: AgentContext = {
      taskId: message.taskId,
      agent: message.agent,
      runId: message.runId,
      attempt: message.attempt,
      context: message.context,
      deps: message.deps,
      depStatus: message.depStatus,
      get signal() {
        return deadline.signal;
      },
      get tokens() {
        return tokens();
      },
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
      get host() {
        host ??= hostProxy(options.link, show, message);
        return host;
      },
    };
    let output: unknown;
    try {
      output = await handler(message.prompt, ctx);
    } finally {
      options.afterAgent?.();
    }
    if (deadline.passed) throw deadline.error();
    // A budget overrun stands even if the agent caught its error.
    if (meter?.overrun) throw meter.overrun;
    if (metered) chargeOutput(tokens(), output);
    const cpuLimit = limits.cpuMs;
    const used = finish();
    if (cpuLimit !== undefined && used.cpuMs > cpuLimit)
      throw cpuLimitError(message.taskId, used.cpuMs, cpuLimit);
    return {
      ok: true,
      ...(encodeOutput ? encode(message, output) : { output }),
      ...used,
    } as WireReply;
  } catch (thrown) {
    // Whatever the agent threw after its deadline, the attempt's outcome is
    // the timeout; after a budget overrun, the overrun.
    const error: TaskError = toTaskError(
      deadline.passed ? deadline.error() : (meter?.overrun ?? thrown),
    );
    return { ok: false, error, ...finish() };
  } finally {
    deadline.dispose();
  }
}

/** `ctx.host.name(...args)` calls the host service `name` on the main thread. */
function hostProxy(
  link: () => Link,
  show: () => void,
  { runId, taskId, attempt }: TaskMessage,
): AgentContext['host'] {
  const origin = { runId, taskId, attempt };
  return new Proxy({} as AgentContext['host'], {
    get: (_, name) => {
      if (typeof name !== 'string' || name === 'then') return undefined;
      return (...args: unknown[]) => {
        show();
        return link().call(name, args, origin);
      };
    },
  });
}
