import type { WorkerReply } from '../shared/protocol.js';
import type { PlacementView } from './balancer.js';
import type { PoolSubmission } from './submission.js';

/** Short attempts of one agent, bound for one thread in one message. */
export class PoolGroup implements PlacementView {
  readonly members: readonly PoolSubmission[];
  readonly short = true;
  readonly behind = undefined;

  constructor(members: readonly PoolSubmission[]) {
    this.members = members;
  }

  get agent(): string {
    return (this.members[0] as PoolSubmission).agent;
  }

  /** Every member was taken back: the group only needs a thread to be skipped on. */
  get withdrawn(): boolean {
    return this.members.every((m) => m.withdrawn);
  }
}

/** How the coalescer hands its work to piscina. */
export interface GroupSender {
  one(submission: PoolSubmission): Promise<WorkerReply>;
  group(group: PoolGroup): Promise<WorkerReply[]>;
}

interface Waiting {
  submission: PoolSubmission;
  resolve(reply: WorkerReply): void;
  reject(error: unknown): void;
}

/**
 * Coalesces short attempts of one agent, posted in the same turn of the
 * event loop, into one message per `max` of them: a no-op attempt costs
 * piscina about as much main-thread time as it costs agentpool's planner,
 * and most of that is per message. Each member keeps its own submission
 * (start board slot, deadline, outcome); only the message is shared. The
 * thread runs them in order and answers them together, handing back unbegun
 * the ones after a member that showed something outside its thread, so such
 * a reply is never held behind the rest (workers/worker.ts). Those go out
 * again behind whatever was posted meanwhile, out of rank order, so an agent
 * that shows something outside once (a chunk, a host call) is not grouped
 * again, and neither is an attempt with a run-wide token budget (every
 * charge to it is seen).
 *
 * Turn: a microtask after the first post, so a planner's dispatch loop (one
 * synchronous pump after each wave of settles) fills a group, and an
 * attempt posted alone waits for nothing.
 */
export class Coalescer {
  readonly #max: number;
  readonly #send: GroupSender;
  readonly #waiting = new Map<string, Waiting[]>();
  // Agents whose attempts show something outside their thread.
  readonly #seen = new Set<string>();
  #queued = false;

  constructor(max: number, send: GroupSender) {
    this.#max = max;
    this.#send = send;
  }

  /** Whether `submission` is one to group (else it is posted alone). */
  takes(submission: PoolSubmission): boolean {
    return (
      submission.short &&
      submission.request.runTokens === undefined &&
      !this.#seen.has(submission.agent)
    );
  }

  post(submission: PoolSubmission): Promise<WorkerReply> {
    return new Promise<WorkerReply>((resolve, reject) => {
      const agent = submission.agent;
      let list = this.#waiting.get(agent);
      if (list === undefined) {
        list = [];
        this.#waiting.set(agent, list);
      }
      list.push({ submission, resolve, reject });
      if (list.length >= this.#max) {
        this.#waiting.delete(agent);
        this.#flush(list);
      } else if (!this.#queued) {
        this.#queued = true;
        queueMicrotask(() => this.#flushAll());
      }
    });
  }

  #flushAll(): void {
    this.#queued = false;
    const lists = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const list of lists) this.#flush(list);
  }

  #flush(list: Waiting[]): void {
    const first = list[0];
    if (first === undefined) return;
    if (list.length === 1) {
      this.#send.one(first.submission).then(first.resolve, first.reject);
      return;
    }
    this.#send.group(new PoolGroup(list.map((w) => w.submission))).then(
      (replies) => {
        for (const [k, w] of list.entries()) {
          const reply = replies[k];
          if (reply === undefined) w.reject(new Error(`no reply for group member ${k}`));
          else {
            if ('notBegun' in reply && reply.notBegun === 'deferred')
              this.#seen.add(w.submission.agent);
            w.resolve(reply);
          }
        }
      },
      (error: unknown) => {
        for (const w of list) w.reject(error);
      },
    );
  }
}
