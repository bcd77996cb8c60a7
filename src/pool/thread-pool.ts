import type { ResourceLimits, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { now } from '../shared/clock.js';
import { formatCount } from '../shared/errors.js';
import {
  CHANNEL_MARK,
  CHARGE_MARK,
  type ChannelHello,
  type ChargeRequest,
  STRAY_MARK,
  type StrayError,
  type TaskReply,
  type TaskRequest,
  type WorkerGroup,
  type WorkerJob,
  type WorkerReply,
} from '../shared/protocol.js';
import { type PoolView, pick } from './balancer.js';
import { Coalescer, PoolGroup } from './coalescer.js';
import { failureReply } from './decode.js';
import type { SubmitHints } from './executor.js';
import type { HostBridge } from './host-bridge.js';
import { StartBoard } from './start-board.js';
import { PoolSubmission, type SubmissionHost } from './submission.js';

// A CommonJS entry that import()s the worker (see workers/entry.cts).
const WORKER_URL = new URL('../../workers/entry.cjs', import.meta.url);
const queueOptions = Piscina.queueOptionsSymbol;
// How long a terminated thread may take to end before it is given up on: one
// blocked in a native call (a read that never returns, execSync) cannot be
// interrupted, and ends only when that call returns. A thread normally ends
// within a few ms of `terminate()`.
const STUCK_MS = 1_000;

// What piscina is handed: the job it posts (structured-cloned; symbol keys
// are not), and under piscina's queue-options symbol the submission or group,
// which is how its balancer learns which attempts it places.
type Placed = PoolSubmission | PoolGroup;
type PiscinaJob = (WorkerJob | WorkerGroup) & { [queueOptions]: Placed };

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
  /** Short attempts of one agent posted together travel in one message (see `Coalescer`). */
  coalesce: boolean;
  resourceLimits?: ResourceLimits | undefined;
  bridge: HostBridge;
}

/**
 * One piscina pool: threads that share one set of resource limits. The only
 * file that knows piscina. The planner never queues more attempts than it
 * allows in flight, and this pool's queue is kept strictly FIFO, so it
 * cannot reorder the critical-path order it chose. piscina gets no AbortSignal: an abortable
 * task halves its throughput (it will not queue one behind another), so
 * aborting goes through the start board (see `PoolSubmission`).
 */
export class ThreadPool {
  readonly threads: number;
  readonly #pool: Piscina<WorkerJob | WorkerGroup, WorkerReply | WorkerReply[]>;
  // Which threads have loaded which agent's module, learnt from their replies.
  readonly #loaded = new Map<string, Set<number>>();
  readonly #board: StartBoard;
  // Threads being terminated: piscina only learns of it when they exit.
  readonly #terminating = new Set<Promise<unknown>>();
  readonly #memoryMb: number | undefined;
  // Per thread: the attempts posted to it (and not withdrawn).
  readonly #posted = new Map<number, Set<PoolSubmission>>();
  readonly #host: SubmissionHost;
  readonly #view: PoolView;
  readonly #coalescer: Coalescer | undefined;
  #turn = 0;
  inFlight = 0;
  /** Threads given up on: they did not end when terminated (see `#giveUp`). */
  stuckThreads = 0;

  constructor(options: ThreadPoolOptions) {
    this.threads = options.threads;
    this.#board = new StartBoard(options.inFlight);
    this.#memoryMb = options.resourceLimits?.maxOldGenerationSizeMb;
    this.#view = {
      balance: options.balance,
      perThread: options.perThread,
      warm: (agent) => this.#loaded.get(agent),
      long: (threadId) => {
        let long = 0;
        for (const s of this.#posted.get(threadId) ?? []) if (!s.short) long++;
        return long;
      },
      turn: () => this.#turn++,
    };
    this.#pool = new Piscina({
      filename: WORKER_URL.href,
      workerData: { starts: this.#board.buffer },
      minThreads: options.minThreads,
      maxThreads: options.threads,
      idleTimeout: options.idleTimeoutMs,
      concurrentTasksPerWorker: options.perThread,
      // What the balancer cannot place goes back to the queue's head, not its
      // tail (the default): one thread began t0 t1 t2 t4 t6 … t14 t3 t7 … t5
      // (limits.test, 2 runs in 75 under load: 14 began before t5's refusal).
      stricterFIFO: true,
      resourceLimits: options.resourceLimits,
      loadBalancer: (task, workers) => {
        const placed = (task as unknown as { [queueOptions]?: Placed })[queueOptions];
        const chosen = pick(placed, workers, this.#view);
        if (chosen !== null && placed !== undefined)
          for (const submission of placed instanceof PoolGroup ? placed.members : [placed])
            if (!submission.withdrawn) this.#post(submission, chosen.id);
        return chosen;
      },
    });
    this.#pool.on('message', (message: ChannelHello | StrayError | ChargeRequest) => {
      if (message?.type === CHANNEL_MARK) options.bridge.attach(message);
      else if (message?.type === STRAY_MARK) options.bridge.stray(message.error);
      else if (message?.type === CHARGE_MARK) options.bridge.charge(message);
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
    const one = (submission: PoolSubmission) => {
      const job: PiscinaJob = {
        request: submission.request,
        slot: submission.slot,
        [queueOptions]: submission,
      };
      return this.#pool.run(job) as Promise<WorkerReply>;
    };
    // Half a thread's share per message, so each thread holds two groups:
    // the next is at hand while the main thread reads the last one's replies.
    const groupMax = Math.floor(options.perThread / 2);
    this.#coalescer =
      !options.coalesce || groupMax < 2
        ? undefined
        : new Coalescer(groupMax, {
            one,
            group: (group) => {
              const job: PiscinaJob = {
                group: group.members.map((m) => ({ request: m.request, slot: m.slot })),
                [queueOptions]: group,
              };
              return this.#pool.run(job) as Promise<WorkerReply[]>;
            },
          });
    this.#host = {
      board: this.#board,
      post: (submission) =>
        this.#coalescer?.takes(submission) ? this.#coalescer.post(submission) : one(submission),
      unpost: (submission) => this.#unpost(submission),
      terminate: (threadId, culprit) => this.#terminate(threadId, culprit),
      warm: (agent, threadId) => this.#warm(agent, threadId),
      activeMs: (threadId) => this.#thread(threadId)?.performance.eventLoopUtilization().active,
      runsAnother: (threadId, except) => {
        for (const s of this.#posted.get(threadId) ?? []) {
          if (s === except) continue;
          const phase = s.probe().phase;
          if (phase === 'running' || phase === 'finished') return true;
        }
        return false;
      },
      crash: (submission, error) => this.#crashReply(submission, error),
      release: () => {
        this.inFlight--;
      },
    };
  }

  /** Hands one attempt to this pool. */
  submit(request: TaskRequest, hints: SubmitHints): PoolSubmission {
    this.inFlight++;
    return new PoolSubmission(this.#host, request, hints);
  }

  #post(submission: PoolSubmission, threadId: number): void {
    // Lets the planner say which thread an attempt went to the moment it is handed over.
    submission.threadId = threadId;
    let posted = this.#posted.get(threadId);
    if (posted === undefined) {
      posted = new Set();
      this.#posted.set(threadId, posted);
    }
    posted.add(submission);
  }

  /** The attempt left the thread it was posted to (settled, withdrawn, or lost with the thread). */
  #unpost(submission: PoolSubmission): void {
    const threadId = submission.threadId;
    if (threadId === undefined) return;
    const posted = this.#posted.get(threadId);
    if (posted?.delete(submission) && posted.size === 0) this.#posted.delete(threadId);
  }

  #thread(threadId: number) {
    return this.#pool.threads.find((worker) => worker.threadId === threadId);
  }

  #terminate(
    threadId: number,
    culprit: PoolSubmission | undefined,
  ): Promise<'terminated' | 'stuck'> {
    const thread = this.#thread(threadId);
    if (thread === undefined) return Promise.resolve('terminated');
    // The other attempts posted there go down with it through no fault of
    // their own (one started behind an attempt whose reply never came, say).
    for (const submission of this.#posted.get(threadId) ?? [])
      if (submission !== culprit) submission.spare();
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<'stuck'>((resolve) => {
      timer = setTimeout(() => resolve('stuck'), STUCK_MS);
    });
    const exited = thread.terminate().then(() => 'terminated' as const);
    const ended: Promise<'terminated' | 'stuck'> = Promise.race([exited, stuck]).then((how) => {
      clearTimeout(timer);
      this.#terminating.delete(ended);
      if (how === 'stuck') this.#giveUp(thread);
      return how;
    });
    this.#terminating.add(ended);
    return ended;
  }

  /**
   * A thread that did not end when terminated: blocked in a native call. It
   * keeps running until that call returns, and nothing here can stop it. So
   * that it no longer counts toward `threads`, piscina is told it exited
   * (piscina learns of an exit only from that event, then replaces the
   * thread and fails the attempts it still held, which go out again); its
   * real exit, later, is then heard by no one. No attempt that had begun
   * there is spared: the call it is blocked in may be that attempt's.
   * Unref'd, it does not by itself keep the process alive; a thread blocked
   * in some calls (a FIFO read) still holds the process at exit until the
   * call returns.
   */
  #giveUp(thread: Worker): void {
    this.stuckThreads++;
    // What blocks it may be an attempt that had begun there (behind one whose
    // reply never came): one still running must not also run elsewhere.
    for (const submission of this.#posted.get(thread.threadId) ?? []) submission.spare(false);
    thread.unref();
    thread.emit('exit', 1);
    thread.removeAllListeners('exit');
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
  #crashReply(submission: PoolSubmission, error: unknown): TaskReply & { ok: false } {
    const probe = submission.probe();
    const running = probe.phase === 'running' ? probe : undefined;
    const reply = failureReply(error, now(), running?.startedAt, running?.activeMs);
    if ((error as { code?: unknown })?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      reply.error.code = 'ERR_MEMORY_LIMIT';
      reply.error.message = `task "${submission.request.taskId}" ran out of its ${formatCount(this.#memoryMb ?? 0)} MB heap limit; its thread was replaced`;
    } else if (reply.error.code !== 'ERR_DAG_INVALID') {
      // Whatever killed the thread (an exit, an error escaping the agent
      // with a code of its own), the outcome is the crash; the code is named.
      const own = reply.error.code === 'ERR_WORKER_CRASHED' ? '' : `${reply.error.code}: `;
      reply.error.code = 'ERR_WORKER_CRASHED';
      reply.error.message = `worker thread crashed: ${own}${reply.error.message}`;
    }
    return reply;
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
