import { runTask } from '../../workers/run-task.js';
import { now } from '../clock.js';
import type { TaskMessage, TaskReply } from '../protocol.js';
import { decodeReply } from './decode.js';
import type { Executor } from './executor.js';

/**
 * `threads: 0`: attempts run one at a time on the main thread, for debugging
 * and tests. Messages and outputs are copied as they would be between
 * threads, so an agent behaves (and an uncloneable output fails) the same
 * way. A timeout cannot stop a synchronous loop here; the attempt is
 * abandoned instead.
 */
export class InlinePool implements Executor {
  readonly threads = 1;

  readonly #started = new WeakMap<TaskMessage, number>();

  async run(message: TaskMessage, signal: AbortSignal): Promise<TaskReply> {
    this.#started.set(message, now());
    const abandoned = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    return decodeReply(await Promise.race([runTask(structuredClone(message), signal), abandoned]));
  }

  startedAt(message: TaskMessage): number | undefined {
    return this.#started.get(message);
  }

  utilization(): null {
    return null;
  }

  async close(): Promise<void> {}
}
