import type { Outcome, Probe, StopResult, Submission } from '../pool/executor.js';
import { now } from '../shared/clock.js';
import type { TaskRequest } from '../shared/protocol.js';
import type { PackRef, QueueJob } from './packs.js';

/** What a remote submission needs of its executor. */
export interface RemoteHost {
  /** Stops job `jobId` wherever it is: removed if it waits, aborted on its worker if it runs. */
  cancel(jobId: string): void;
  /** The submission has settled: its room is given back. */
  release(submission: RemoteSubmission): void;
}

/**
 * One attempt sent to the queue as a BullMQ job, on the planner's side.
 * It starts waiting, runs once a worker says it began (the planner's clock
 * times it from when it heard, so clock skew between machines cannot cut
 * its timeout short), and settles once: on the worker's outcome, on the
 * job's failure, or on the planner's abort.
 */
export class RemoteSubmission implements Submission {
  readonly jobId: string;
  readonly request: TaskRequest;
  readonly outcome: Promise<Outcome>;
  /** When it was handed over (planner clock). */
  readonly submittedAt = now();
  /** The job of this attempt alone, once added: kept to add it again if Redis lost it (restarted on an AOF a second behind). */
  job: QueueJob | undefined;
  /** The pack it went out in, if it was packed with others (see `packWave`). */
  pack: PackRef | undefined;
  /** Short by its agent's mean: it counts against the short attempts' room (see `QueueExecutor.hasRoom`). */
  short = false;
  /** It goes out with others in a pack (short, small, and sent by its run's first planner). */
  packable = false;
  threadId: number | undefined;
  #resolve!: (outcome: Outcome) => void;
  #startedAt: number | undefined;
  #settled = false;
  readonly #host: RemoteHost;

  constructor(host: RemoteHost, jobId: string, request: TaskRequest) {
    this.#host = host;
    this.jobId = jobId;
    this.request = request;
    this.outcome = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** A worker began it (again, after a worker died: the clock restarts). */
  started(): void {
    if (!this.#settled) this.#startedAt = now();
  }

  /** It ended; the first call wins. */
  finish(outcome: Outcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#host.release(this);
    this.#resolve(outcome);
  }

  probe(): Probe {
    if (this.#settled) return { phase: 'gone' };
    if (this.#startedAt === undefined) return { phase: 'waiting' };
    // A remote thread's active time cannot be read from here: its worker
    // watches the CPU limit itself.
    return { phase: 'running', startedAt: this.#startedAt, activeMs: undefined };
  }

  /**
   * Never: a job in Redis may be taken by a worker at any moment, so
   * "it never runs" cannot be promised without a round trip. The planner
   * then leaves it where it is (withdrawing is only an optimisation of decks).
   */
  withdraw(): boolean {
    return false;
  }

  abort(_why: 'stop' | 'breach'): Promise<StopResult> {
    if (this.#settled) return Promise.resolve('not-running');
    const running = this.#startedAt !== undefined;
    this.#host.cancel(this.jobId);
    this.finish({ kind: 'aborted' });
    return Promise.resolve(running ? 'terminated' : 'not-running');
  }

  /** Waiting in the queue is not a stuck thread: nothing to replace. */
  overdue(): void {}
}
