import type { ResourceLimits } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { now } from '../clock.js';
import { formatCount } from '../errors.js';
import {
  CHANNEL_MARK,
  type ChannelHello,
  STRAY_MARK,
  type StrayError,
  type TaskMessage,
  type TaskReply,
  type WireReply,
} from '../protocol.js';
import { decodeReply, failureReply, refusedReply } from './decode.js';
import type { AttemptHandle, AttemptProbe } from './executor.js';
import type { HostBridge } from './host-bridge.js';
import { StartBoard } from './start-board.js';

const WORKER_URL = new URL('../../workers/entry.cjs', import.meta.url);
// What an aborted attempt settles with; whoever aborted it has already ended it.
const ABANDONED: TaskReply = failureReply(new Error('attempt aborted'), 0);
const queueOptions = Piscina.queueOptionsSymbol;
// How often an attempt is handed out again after its thread died under it
// before it began (bounded, for threads that die as they start); one that
// finished and lost its reply goes out again once at most.
const MAX_RESUBMITS = 8;

interface BalancerTask {
  [queueOptions]?: { message: TaskMessage } | null;
}
interface BalancerWorker {
  id: number;
  currentUsage: number;
  terminating: boolean;
  destroyed: boolean;
}

export type Balance = 'least-busy' | 'round-robin';

export interface ThreadPoolOptions {
  threads: number;
  /** Threads kept alive while idle (the rest exit after `idleTimeoutMs`). */
  minThreads: number;
  balance: Balance;
  idleTimeoutMs: number;
  /** Most attempts handed to this pool at once. */
  inFlight: number;
  /** Attempts posted to one thread at once: it runs them one after another. */
  perThread: number;
  resourceLimits?: ResourceLimits | undefined;
  bridge: HostBridge;
}

/**
 * One piscina pool: threads that share one set of resource limits. The
 * planner never queues more attempts than it allows in flight, so this
 * pool's FIFO queue cannot reorder the critical-path order it chose.
 */
export class ThreadPool {
  readonly threads: number;
  readonly #pool: Piscina<TaskMessage, WireReply | null>;
  // Which threads have loaded which agent's module, learnt from their replies.
  readonly #loaded = new Map<string, Set<number>>();
  readonly #starts: StartBoard;
  // Threads being terminated: piscina only learns of it when they exit.
  readonly #terminating = new Set<Promise<unknown>>();
  readonly #memoryMb: number | undefined;
  readonly #perThread: number;
  // Per thread: attempts posted to it that are not short. A short attempt
  // queues only behind short ones, so it never waits out a long task.
  readonly #long = new Map<number, number>();
  // Which thread's tally each long attempt is on, so it comes off once.
  readonly #counted = new WeakMap<TaskMessage, number>();
  // Attempts taken back before they began: still messages piscina must hand
  // to some thread (which skips them), but no longer work.
  readonly #withdrawn = new WeakSet<TaskMessage>();
  #next = 0;
  inFlight = 0;

  constructor(options: ThreadPoolOptions) {
    this.threads = options.threads;
    this.#starts = new StartBoard(options.inFlight);
    this.#memoryMb = options.resourceLimits?.maxOldGenerationSizeMb;
    this.#perThread = options.perThread;
    this.#pool = new Piscina({
      filename: WORKER_URL.href,
      workerData: { starts: this.#starts.buffer },
      minThreads: options.minThreads,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeoutMs,
      concurrentTasksPerWorker: options.perThread,
      resourceLimits: options.resourceLimits,
      loadBalancer: (task, workers) =>
        this.#pick(task as unknown as BalancerTask, workers, options.balance),
    });
    this.#pool.on('message', (message: ChannelHello | StrayError) => {
      if (message?.type === CHANNEL_MARK) options.bridge.attach(message);
      else if (message?.type === STRAY_MARK) options.bridge.stray(message.error);
    });
    // piscina reports here what concerns no attempt it still tracks: a reply
    // that comes in after its thread was counted dead or the pool destroyed,
    // a thread that died between attempts (it is replaced; the thread said
    // why first, as a stray error). Every attempt has been settled by then;
    // unheard, the event would throw.
    this.#pool.on('error', () => {});
    this.#pool.on('workerDestroy', (worker: { id: number }) => {
      for (const threads of this.#loaded.values()) threads.delete(worker.id);
    });
  }

  /**
   * Chooses a thread: an idle one that already loaded the task's agent when
   * there is one (its module is warm), else any idle one. Least-busy takes
   * the first such thread; round-robin takes the next in rotation among them,
   * so warm threads share the work instead of the first one taking it all. With no
   * idle thread, an on-deck or short attempt may queue on a busy thread, so
   * it is at hand the moment the thread is free; anything else stays in
   * piscina's queue for the next idle thread (returns null).
   */
  #pick<W extends BalancerWorker>(task: BalancerTask, workers: W[], balance: Balance): W | null {
    const message = task[queueOptions]?.message;
    if (message !== undefined && this.#withdrawn.has(message)) return this.#anyRoom(workers);
    const warm = message === undefined ? undefined : this.#loaded.get(message.agent);
    let first: W | undefined;
    let chosen: W | undefined;
    let free = 0;
    let freeWarm = 0;
    // One pass, no allocation: this runs for every task piscina hands out.
    for (const worker of workers) {
      if (worker.currentUsage !== 0 || worker.terminating || worker.destroyed) continue;
      free++;
      first ??= worker;
      if (warm?.has(worker.id)) {
        freeWarm++;
        chosen ??= worker;
        if (balance === 'least-busy') break;
      }
    }
    if (first === undefined) {
      chosen = message === undefined ? undefined : this.#busyThread(message, workers);
      if (chosen === undefined) return null;
    } else if (balance === 'round-robin') {
      // The next in rotation among the idle warm threads, or among all idle ones.
      let skip = this.#next++ % (freeWarm || free);
      for (const worker of workers) {
        if (worker.currentUsage !== 0 || worker.terminating || worker.destroyed) continue;
        if (freeWarm > 0 && !warm?.has(worker.id)) continue;
        if (skip-- === 0) {
          chosen = worker;
          break;
        }
      }
    }
    chosen ??= first as W;
    if (message) {
      // Lets the planner say which thread an attempt went to the moment it is handed over.
      message.threadId = chosen.id;
      if (message.short !== true) {
        this.#counted.set(message, chosen.id);
        this.#long.set(chosen.id, (this.#long.get(chosen.id) ?? 0) + 1);
      }
    }
    return chosen;
  }

  /**
   * With every thread busy: the thread an on-deck attempt asked for, if it
   * is still there and runs exactly one attempt (the one to follow); for a
   * short attempt, the least busy thread with room that runs only short
   * ones. Else undefined, and the attempt waits in piscina's queue for the
   * next idle thread like any other.
   */
  #busyThread<W extends BalancerWorker>(message: TaskMessage, workers: W[]): W | undefined {
    if (message.behind !== undefined) return this.#onDeck(workers, message.behind);
    if (message.short !== true) return undefined;
    let chosen: W | undefined;
    for (const worker of workers) {
      if (worker.currentUsage >= this.#perThread || worker.terminating || worker.destroyed)
        continue;
      if ((this.#long.get(worker.id) ?? 0) > 0) continue;
      if (chosen === undefined || worker.currentUsage < chosen.currentUsage) chosen = worker;
    }
    return chosen;
  }

  /**
   * Thread `threadId`, if it is still there, has room, and holds exactly
   * one long attempt (the one to follow) besides withdrawn ones it will skip.
   */
  #onDeck<W extends BalancerWorker>(workers: W[], threadId: number): W | undefined {
    for (const worker of workers) {
      if (worker.id !== threadId) continue;
      const usable =
        !worker.terminating && !worker.destroyed && worker.currentUsage < this.#perThread;
      return usable && this.#long.get(threadId) === 1 ? worker : undefined;
    }
    return undefined;
  }

  /** A thread with room, busy or not, for a withdrawn attempt to be skipped on; null if none. */
  #anyRoom<W extends BalancerWorker>(workers: W[]): W | null {
    for (const worker of workers)
      if (worker.currentUsage < this.#perThread && !worker.terminating && !worker.destroyed)
        return worker;
    return null;
  }

  /** The attempt left the thread it was posted to (settled, withdrawn, or lost with the thread). */
  #unpost(message: TaskMessage): void {
    const threadId = this.#counted.get(message);
    if (threadId === undefined) return;
    this.#counted.delete(message);
    const long = (this.#long.get(threadId) ?? 1) - 1;
    if (long > 0) this.#long.set(threadId, long);
    else this.#long.delete(threadId);
  }

  /**
   * Runs one attempt. piscina gets no AbortSignal: an abortable task halves
   * its throughput (it will not queue one behind another), so aborting is
   * done here: an attempt still queued is cancelled on the start board and
   * skipped by the worker that receives it; one that started has its thread
   * terminated, and piscina replaces the thread.
   */
  run(message: TaskMessage): AttemptHandle {
    message.startSlot = this.#starts.acquire();
    message.dispatchedAt = now();
    const task = Object.assign(message, { [queueOptions]: { message } });
    this.inFlight++;
    let released = false;
    let aborted = false;
    // Once settled, the attempt's start slot goes back to the board for
    // reuse: an abort arriving after that must not touch it, or it would
    // cancel (or terminate the thread of) whichever attempt holds it now.
    let settled = false;
    let resubmits = 0;
    let rerun = false;
    // Room is given back the moment the attempt is aborted, not when piscina
    // gets round to settling it, so the planner can refill it at once.
    const release = () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
    const submit = (): Promise<TaskReply> =>
      this.#pool.run(task).then(
        (wire: WireReply | null) => {
          this.#unpost(message);
          settled = true;
          if (aborted) return ABANDONED;
          // null: the worker did not begin the attempt: it refused it (the
          // run's budget is spent), or found it cancelled, which only an abort does.
          if (wire === null) {
            if (this.#starts.refused(message.startSlot)) return refusedReply(message);
            return failureReply(new Error('attempt cancelled before it started'), now());
          }
          const decoded = decodeReply(wire);
          if (decoded.ok || decoded.error.code !== 'ERR_AGENT_LOAD')
            this.#warm(message.agent, decoded.threadId);
          return decoded;
        },
        (error: unknown) => {
          this.#unpost(message);
          // Its thread died after it refused the attempt: refused it stays.
          if (!aborted && this.#starts.refused(message.startSlot)) {
            settled = true;
            return refusedReply(message);
          }
          // Its thread died before it began (queued behind an attempt that
          // was killed, exited or ran out of heap), or after it finished
          // unseen but before its reply was read: not this attempt's failure,
          // so it goes out again.
          const back =
            aborted || resubmits >= MAX_RESUBMITS
              ? undefined
              : this.#starts.reclaim(message.startSlot, !rerun);
          if (back !== undefined) {
            resubmits++;
            if (back === 'finished') rerun = true;
            message.threadId = undefined;
            message.behind = undefined;
            return submit();
          }
          settled = true;
          return aborted ? ABANDONED : this.#crashReply(message, error);
        },
      );
    const reply = submit();
    void reply.finally(() => {
      release();
      // Only now: until piscina has settled it, a cancelled attempt may still reach a worker and read its slot.
      this.#starts.release(message.startSlot);
    });
    const abort = () => {
      if (aborted || settled) return;
      aborted = true;
      release();
      const threadId = this.#starts.cancel(message.startSlot);
      const thread =
        threadId === undefined
          ? undefined
          : this.#pool.threads.find((worker) => worker.threadId === threadId);
      if (thread) {
        const exited: Promise<unknown> = thread
          .terminate()
          .finally(() => this.#terminating.delete(exited));
        this.#terminating.add(exited);
      }
    };
    const withdraw = () => {
      if (aborted || settled || !this.#starts.withdraw(message.startSlot)) return false;
      // The worker that gets it finds it cancelled and skips it; until then
      // it is only a message in that thread's queue, not work.
      aborted = true;
      this.#withdrawn.add(message);
      this.#unpost(message);
      release();
      return true;
    };
    return { reply, abort, withdraw };
  }

  #warm(agent: string, threadId: number | null): void {
    if (threadId === null) return;
    const threads = this.#loaded.get(agent);
    if (threads === undefined) this.#loaded.set(agent, new Set([threadId]));
    else threads.add(threadId);
  }

  // The thread died under the task (it ran out of heap, exited, or an error
  // escaped the agent, thrown from a timer say), or the task could not be
  // sent to a thread at all.
  #crashReply(message: TaskMessage, error: unknown): TaskReply {
    const probe = this.probe(message);
    const reply = failureReply(error, now(), probe?.startedAt, probe?.activeMs);
    if (reply.ok) return reply;
    if ((error as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      reply.error.code = 'ERR_MEMORY_LIMIT';
      reply.error.message = `task "${message.taskId}" ran out of its ${formatCount(this.#memoryMb ?? 0)} MB heap limit; its thread was replaced`;
    } else if (reply.error.code !== 'ERR_DAG_INVALID') {
      // Whatever killed the thread (an exit, an error escaping the agent
      // with a code of its own), the outcome is the crash; the code is named.
      const own = reply.error.code === 'ERR_WORKER_CRASHED' ? '' : `${reply.error.code}: `;
      reply.error.code = 'ERR_WORKER_CRASHED';
      reply.error.message = `worker thread crashed: ${own}${reply.error.message}`;
    }
    return reply;
  }

  probe(message: TaskMessage): AttemptProbe | undefined {
    // Untracked (the board was full): count from dispatch, the best there is.
    if (message.startSlot < 0)
      return { startedAt: message.dispatchedAt ?? now(), activeMs: undefined };
    const start = this.#starts.read(message.startSlot);
    if (start === undefined) return undefined;
    const loadedAt = start.activeMs;
    // Still loading its agent: no CPU time of its own yet.
    if (loadedAt === undefined) return { startedAt: start.startedAt, activeMs: undefined };
    const thread = this.#pool.threads.find((worker) => worker.threadId === start.threadId);
    const active = thread?.performance.eventLoopUtilization().active;
    return {
      startedAt: start.startedAt,
      activeMs: active === undefined ? undefined : active - loadedAt,
    };
  }

  utilization(): number {
    return this.#pool.utilization;
  }

  /** Threads alive now. */
  get liveThreads(): number {
    return this.#pool.threads.length;
  }

  /**
   * Ends every thread. The runtime closes its pools only once each run it
   * started has ended, so nothing still on a thread is wanted: attempts
   * being killed or withdrawn. Not piscina's `close`, which waits for each
   * thread to report its tasks done and never hears from one that dies
   * meanwhile (it gives up after `closeTimeout`, 30 s).
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#terminating]);
    await this.#pool.destroy();
  }
}
