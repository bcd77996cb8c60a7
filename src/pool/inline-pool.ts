import { performance } from 'node:perf_hooks';
import { runBatch, runTask } from '../../workers/run-task.js';
import { now } from '../clock.js';
import type { TaskMessage, TaskReply } from '../protocol.js';
import { decodeReply, failureReply } from './decode.js';
import type { AttemptHandle, AttemptProbe, Executor } from './executor.js';
import type { HostBridge } from './host-bridge.js';

/**
 * `threads: 0`: attempts run one at a time on the main thread, for debugging
 * and tests. Messages and outputs are copied as they would be between
 * threads, so an agent behaves (and an uncloneable output fails) the same
 * way. A timeout cannot stop a synchronous loop here, memory caps do not
 * apply, and CPU time is the main thread's; a stuck attempt is abandoned.
 */
export class InlinePool implements Executor {
  readonly threads = 1;
  readonly terminates = false;
  readonly #bridge: HostBridge;
  readonly #started = new WeakMap<TaskMessage, { startedAt: number; active: number }>();

  constructor(bridge: HostBridge) {
    this.#bridge = bridge;
  }

  hasRoom(): boolean {
    return true; // The runtime's single slot is the limit.
  }

  run(message: TaskMessage): AttemptHandle {
    this.#started.set(message, {
      startedAt: now(),
      active: performance.eventLoopUtilization().active,
    });
    // Made only if the agent reads ctx.signal: most never do, and it costs.
    let controller: AbortController | undefined;
    let aborted = false;
    const cancelSignal = () => {
      controller ??= new AbortController();
      if (aborted) controller.abort();
      return controller.signal;
    };
    let abandon: () => void = () => {};
    const abandoned = new Promise<TaskReply>((resolve) => {
      abandon = () => resolve(failureReply(new Error('attempt abandoned'), now()));
    });
    const attempt = async (): Promise<TaskReply> => {
      let copy: TaskMessage;
      try {
        copy = structuredClone(message);
      } catch (error) {
        return failureReply(error, now());
      }
      return decodeReply(
        await (copy.batch ? runBatch : runTask)(copy, {
          cancelSignal,
          link: () => this.#bridge.inline,
        }),
      );
    };
    return {
      reply: Promise.race([attempt(), abandoned]),
      abort: () => {
        aborted = true;
        controller?.abort();
        abandon();
      },
      // Inline, an attempt starts the moment it is handed over.
      withdraw: () => false,
    };
  }

  probe(message: TaskMessage): AttemptProbe | undefined {
    const start = this.#started.get(message);
    if (start === undefined) return undefined;
    return {
      startedAt: start.startedAt,
      activeMs: performance.eventLoopUtilization().active - start.active,
    };
  }

  liveThreads(): number {
    return 0;
  }

  utilization(): null {
    return null;
  }

  async close(): Promise<void> {}
}
