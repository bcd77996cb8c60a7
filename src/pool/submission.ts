import { now } from '../shared/clock.js';
import type { TaskReply, TaskRequest, WorkerReply } from '../shared/protocol.js';
import { decodeReply } from './decode.js';
import type { Outcome, Probe, StopResult, Submission, SubmitHints } from './executor.js';
import type { StartBoard } from './start-board.js';

// How often an attempt is handed out again after its thread died under it
// before it began (bounded, for threads that die as they start).
const MAX_RESUBMITS = 8;
// How often one that finished unseen and lost its reply goes out again. Not
// once only: the main thread may hear of an exit behind it before reading a
// reply posted first, and exits come in runs (chaos: an attempt lost its
// reply to two adjacent exit tasks on both threads). Bounded: an agent that
// ends its thread after it finishes (a timer left behind) must not end
// threads without end.
const MAX_RERUNS = 3;

/** What a submission needs of the pool that runs it. */
export interface SubmissionHost {
  readonly board: StartBoard;
  /** Posts the attempt to piscina (it picks the thread through `pick`). */
  post(submission: PoolSubmission): Promise<WorkerReply>;
  /** The attempt is no longer posted to its thread (settled, withdrawn, lost). */
  unpost(submission: PoolSubmission): void;
  /**
   * Terminates thread `threadId` (piscina replaces it) for `culprit`'s sake
   * (undefined: for none of ours); says whether it ended or was given up on.
   */
  terminate(threadId: number, culprit: PoolSubmission | undefined): Promise<'terminated' | 'stuck'>;
  /** Thread `threadId` has the agent loaded. */
  warm(agent: string, threadId: number | null): void;
  /** The thread's event-loop active time now, in ms; undefined if it is gone. */
  activeMs(threadId: number): number | undefined;
  /** Thread `threadId` holds an attempt that is running (or finished, its reply due) other than `except`. */
  runsAnother(threadId: number, except: PoolSubmission): boolean;
  /** The failure an attempt that died with its thread ends with. */
  crash(submission: PoolSubmission, error: unknown): TaskReply & { ok: false };
  /** Gives the attempt's room back (once). */
  release(): void;
}

type State =
  /** With piscina: queued, posted to a thread, or running there. */
  | { kind: 'submitted' }
  /** Taken back before it began; piscina still hands it to a thread, which skips it. */
  | { kind: 'withdrawn' }
  | { kind: 'aborted' }
  | { kind: 'settled'; outcome: Outcome };

/**
 * One attempt in one piscina pool, from submit to the pool letting go of it:
 * its start board slot, where it was posted, its resubmissions after a
 * thread died under it. `#finish` is its one settle point: it gives the
 * room back, unposts it and frees its slot, whatever ended it.
 */
export class PoolSubmission implements Submission {
  readonly request: TaskRequest;
  readonly short: boolean;
  behind: number | undefined;
  /** The thread piscina's balancer posted it to, once it did. */
  threadId: number | undefined;
  /** When it was last handed to the pool (its deadline to begin counts from here). */
  handedAt = now();
  readonly slot: number;
  readonly outcome: Promise<Outcome>;
  #state: State = { kind: 'submitted' };
  readonly #host: SubmissionHost;
  #resubmits = 0;
  #reruns = 0;
  // Its thread is being ended for another attempt's sake (see `spare`).
  #spared = false;
  #released = false;

  constructor(host: SubmissionHost, request: TaskRequest, hints: SubmitHints) {
    this.#host = host;
    this.request = request;
    this.short = hints.short;
    this.behind = hints.behind;
    this.slot = host.board.acquire();
    this.outcome = this.#send().then((outcome) => this.#finish(outcome));
  }

  get agent(): string {
    return this.request.agent;
  }

  get withdrawn(): boolean {
    return this.#state.kind === 'withdrawn';
  }

  #send(): Promise<Outcome> {
    return this.#host.post(this).then(
      (wire) => this.#replied(wire),
      (error: unknown) => this.#lost(error),
    );
  }

  #replied(wire: WorkerReply): Outcome | Promise<Outcome> {
    this.#host.unpost(this);
    if (this.#state.kind === 'aborted') return { kind: 'aborted' };
    if (this.#state.kind === 'withdrawn') return { kind: 'withdrawn' };
    if ('notBegun' in wire) {
      if (wire.notBegun === 'refused') return { kind: 'refused' };
      // Handed back unbegun by the group it came in: it goes out again, as new.
      if (wire.notBegun === 'deferred') return this.#again();
      // Only an abort or a withdrawal cancels an attempt, and both are handled above.
      return { kind: 'aborted' };
    }
    const reply = decodeReply(wire);
    if (reply.ok || reply.error.code !== 'ERR_AGENT_LOAD')
      this.#host.warm(this.agent, reply.threadId);
    return { kind: 'replied', reply };
  }

  #lost(error: unknown): Outcome | Promise<Outcome> {
    this.#host.unpost(this);
    const { board } = this.#host;
    const taken = this.#state.kind !== 'submitted';
    // Its thread died after it refused the attempt: refused it stays.
    if (!taken && board.refused(this.slot)) return { kind: 'refused' };
    // Its thread died before it began (queued behind an attempt that was
    // killed, exited or ran out of heap), or after it finished unseen but
    // before its reply was read, or the pool ended it for another attempt
    // while this one ran unseen: not this attempt's failure, so it goes out
    // again, as the same attempt. A thread that died by itself while this
    // one ran may have died of it (it exited, ran out of heap): that fails.
    const spared = this.#spared;
    this.#spared = false;
    const back =
      taken || this.#resubmits >= MAX_RESUBMITS
        ? undefined
        : board.reclaim(this.slot, {
            finished: this.#reruns < MAX_RERUNS || spared,
            started: spared,
          });
    if (back !== undefined) {
      this.#resubmits++;
      if (back === 'finished' && !spared) this.#reruns++;
      return this.#again();
    }
    if (this.#state.kind === 'aborted') return { kind: 'aborted' };
    if (this.#state.kind === 'withdrawn') return { kind: 'withdrawn' };
    return { kind: 'crashed', reply: this.#host.crash(this, error) };
  }

  #again(): Promise<Outcome> {
    this.threadId = undefined;
    this.behind = undefined;
    this.handedAt = now();
    return this.#send();
  }

  #finish(outcome: Outcome): Outcome {
    this.#state = { kind: 'settled', outcome };
    this.#release();
    // Only now: until piscina has settled it, a cancelled attempt may still
    // reach a worker and read its slot.
    this.#host.board.release(this.slot);
    return outcome;
  }

  // Room is given back the moment the attempt is aborted or withdrawn, not
  // when piscina gets round to settling it, so the planner can refill it at once.
  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#host.release();
  }

  probe(): Probe {
    if (this.#state.kind !== 'submitted') return { phase: 'gone' };
    // Untracked (the board was full): counted as running from when it was
    // handed over, the best there is.
    if (this.slot < 0) return { phase: 'running', startedAt: this.handedAt, activeMs: undefined };
    const view = this.#host.board.read(this.slot);
    if (view === undefined) return { phase: 'gone' };
    if (view.phase !== 'running') return view;
    const loadedAt = view.activeMs;
    const active = loadedAt === undefined ? undefined : this.#host.activeMs(view.threadId);
    return {
      phase: 'running',
      startedAt: view.startedAt,
      activeMs: active === undefined || loadedAt === undefined ? undefined : active - loadedAt,
    };
  }

  /**
   * The pool is ending this attempt's thread for another attempt's sake (a
   * timeout, an abort) or for none of ours (a thread stuck between
   * attempts): if this one was running there and had shown nothing outside,
   * it is not at fault, and runs again when the thread is gone. `false`
   * takes that back (the thread could not be ended: see `ThreadPool`).
   */
  spare(yes = true): void {
    this.#spared = yes && this.#state.kind === 'submitted';
  }

  withdraw(): boolean {
    if (this.#state.kind !== 'submitted' || !this.#host.board.withdraw(this.slot)) return false;
    // The thread that gets it finds it cancelled and skips it; until then it
    // is only a message in that thread's queue, not work.
    this.#state = { kind: 'withdrawn' };
    this.#host.unpost(this);
    this.#release();
    return true;
  }

  abort(why: 'stop' | 'breach'): Promise<StopResult> {
    // Once settled, its slot may be another attempt's: an abort must not touch it.
    if (this.#state.kind !== 'submitted') return Promise.resolve('not-running');
    this.#state = { kind: 'aborted' };
    this.#release();
    const threadId = this.#host.board.cancel(this.slot, why === 'breach');
    return threadId === undefined
      ? Promise.resolve('not-running')
      : this.#host.terminate(threadId, this);
  }

  overdue(): void {
    if (this.#state.kind !== 'submitted' || this.threadId === undefined) return;
    if (this.#host.board.read(this.slot)?.phase !== 'waiting') return;
    // Behind another attempt of ours: that one has its own deadline, and
    // its breach frees this thread.
    if (this.#host.runsAnother(this.threadId, this)) return;
    // Nothing of ours runs there, yet it has not begun this attempt: the
    // thread is stuck in something else. Replaced, it hands this attempt
    // back (reclaimed as never begun) and it goes to another thread.
    void this.#host.terminate(this.threadId, undefined);
  }
}
