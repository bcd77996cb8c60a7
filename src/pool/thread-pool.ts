import { Piscina } from 'piscina';
import { now as clock } from '../clock.js';
import { toTaskError } from '../errors.js';
import type { TaskMessage, TaskReply, WireReply } from '../protocol.js';
import { decodeReply } from './decode.js';
import type { Executor } from './executor.js';
import { StartBoard } from './start-board.js';

const WORKER_URL = new URL('../../workers/worker.js', import.meta.url);
const queueOptions = Piscina.queueOptionsSymbol;

interface BalancerTask {
  [queueOptions]?: { agent: string } | null;
}
interface BalancerWorker {
  id: number;
  currentUsage: number;
  terminating: boolean;
  destroyed: boolean;
}

export type Balance = 'least-busy' | 'round-robin';

/**
 * The piscina pool behind a runtime. The planner never queues more attempts
 * than there are threads (times a small window), so this pool's FIFO queue
 * cannot reorder the critical-path order the planner chose.
 */
export class ThreadPool implements Executor {
  readonly threads: number;
  readonly #pool: Piscina<TaskMessage, WireReply>;
  // Which threads have loaded which agent's module, learnt from their replies.
  readonly #loaded = new Map<string, Set<number>>();
  readonly #starts: StartBoard;
  #next = 0;

  constructor(options: {
    threads: number;
    balance: Balance;
    idleTimeoutMs: number;
    inFlight: number;
  }) {
    this.threads = options.threads;
    this.#starts = new StartBoard(options.inFlight);
    this.#pool = new Piscina({
      filename: WORKER_URL.href,
      workerData: { starts: this.#starts.buffer },
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeoutMs,
      concurrentTasksPerWorker: 1,
      loadBalancer: (task, workers) =>
        this.#pick(task as unknown as BalancerTask, workers, options.balance),
    });
  }

  /**
   * Chooses a free thread: one that already loaded the task's agent when
   * there is one (its module is warm), else the first free thread
   * (least-busy) or the next free one in rotation (round-robin). Returns
   * null when none is free, so piscina keeps the task queued.
   */
  #pick<W extends BalancerWorker>(task: BalancerTask, workers: W[], balance: Balance): W | null {
    const free = workers.filter((w) => w.currentUsage === 0 && !w.terminating && !w.destroyed);
    if (free.length === 0) return null;
    const agent = task[queueOptions]?.agent;
    const warm = agent === undefined ? undefined : this.#loaded.get(agent);
    if (warm) {
      const match = free.find((w) => warm.has(w.id));
      if (match) return match;
    }
    if (balance === 'round-robin') return free[this.#next++ % free.length] ?? null;
    return free[0] ?? null;
  }

  async run(message: TaskMessage, signal: AbortSignal): Promise<TaskReply> {
    message.startSlot = this.#starts.acquire();
    const task = Object.assign(message, { [queueOptions]: { agent: message.agent } });
    try {
      const reply = decodeReply(await this.#pool.run(task, { signal }));
      const threads = this.#loaded.get(message.agent);
      if (threads === undefined) this.#loaded.set(message.agent, new Set([reply.threadId]));
      else threads.add(reply.threadId);
      return reply;
    } catch (error) {
      if (signal.aborted) throw error;
      return this.#crashReply(error);
    } finally {
      this.#starts.release(message.startSlot);
    }
  }

  startedAt(message: TaskMessage): number | undefined {
    // Untracked (never expected: there is a slot per attempt in flight): 0
    // makes the caller fall back to counting from dispatch.
    if (message.startSlot < 0) return 0;
    return this.#starts.startedAt(message.startSlot);
  }

  // The thread died under the task: it exited, or an error escaped the agent
  // (an exception thrown from a timer, say).
  #crashReply(error: unknown): TaskReply {
    const at = clock();
    const data = toTaskError(error, 'ERR_WORKER_CRASHED');
    data.code = 'ERR_WORKER_CRASHED';
    data.message = `worker thread crashed: ${data.message}`;
    return { ok: false, error: data, startedAt: at, finishedAt: at, threadId: -1 };
  }

  utilization(): number {
    return this.#pool.utilization;
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
