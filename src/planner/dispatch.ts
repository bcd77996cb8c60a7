import type { Graph } from '../dag/graph.js';
import type { ChannelEvent, RunTokens } from '../shared/protocol.js';
import type { Attempt } from './attempt.js';
import type { BatchLedger } from './batch-ledger.js';
import { Decks } from './deck.js';
import { InFlight } from './in-flight.js';
import type { AttemptOutcome } from './judge.js';
import { ReadyQueue } from './ready-queue.js';
import { buildRequest, type RequestBase } from './request.js';
import type { RunEvents } from './run-events.js';
import type { RunSettings } from './run-settings.js';
import type { TaskPolicy } from './task-policy.js';
import { TaskState, type TaskTable } from './task-table.js';

// Attempts of agents faster than this on average may queue on a busy thread.
const SHORT_MS = 1;

/** What dispatch reads of its run. */
export interface DispatchContext {
  settings: RunSettings;
  graph: Graph;
  table: TaskTable;
  policies: readonly TaskPolicy[];
  ledgers: ReadonlyMap<number, BatchLedger> | undefined;
  events: RunEvents;
  runTokens: RunTokens | undefined;
  /** An attempt settled. */
  settled(attempt: Attempt, outcome: AttemptOutcome): void;
  /** Whether the run has stopped: nothing new starts. */
  stopped(): boolean;
}

/**
 * A run's dispatch: its ready queue (rank heap and parked heaps), its
 * attempts in flight and their decks. It hands ready tasks to the executor
 * highest rank first while the runtime has room; a task that cannot start
 * yet (its agent at its cap, its memory profile out of room) is parked by
 * what blocks it, so lower-ranked tasks can backfill.
 */
export class Dispatch {
  readonly #c: DispatchContext;
  readonly #queue: ReadyQueue;
  readonly #live: InFlight;
  readonly #decks: Decks;
  readonly #base: RequestBase;

  constructor(context: DispatchContext) {
    this.#c = context;
    const { settings, graph, table } = context;
    this.#queue = new ReadyQueue(settings.rank, (i) => this.#blocker(i));
    this.#live = new InFlight(
      {
        executor: settings.executor,
        slots: settings.slots,
        timeoutGraceMs: settings.timeoutGraceMs,
        emit: (kind, attempt, event) => context.events.channel(kind, attempt, event),
      },
      (attempt, outcome) => context.settled(attempt, outcome),
    );
    this.#decks = new Decks({
      graph,
      cost: settings.cost,
      rank: settings.rank,
      pendingDeps: table.pendingDeps,
      waiting: (i) => table.state(i) === TaskState.Waiting,
      queue: this.#queue,
      live: this.#live,
      slots: settings.slots,
    });
    this.#base = {
      runId: settings.runId,
      context: settings.context,
      encoding: settings.encoding,
      countTokens: settings.countTokens,
      runTokens: context.runTokens,
    };
  }

  /** Task `i` is ready. */
  push(i: number): void {
    this.#queue.push(i);
  }

  /** Hands out what fits now. */
  pump(): void {
    const slots = this.#c.settings.slots;
    if (slots.decked > 0) this.#decks.review();
    while (!this.#c.stopped() && slots.free) {
      const top = this.#queue.peek();
      if (top === undefined) return;
      // Past one attempt per thread only short tasks, and one on deck per
      // thread where that keeps the order, go ahead: anything else waits
      // here, where its rank still counts, for a thread to free up.
      let behind: number | undefined;
      if (slots.saturated && !this.#short(top)) {
        // Decks are in the default pool: a task with a heap cap of its own runs in another.
        const capped = (this.#c.policies[top] as TaskPolicy).limits.memoryMb !== undefined;
        behind = capped ? undefined : this.#decks.behind(top);
        if (behind === undefined) return;
      } else if (slots.saturated && slots.decked > 0) {
        // A short attempt goes straight to a thread that runs short ones, and
        // would begin before an attempt of higher rank on deck, which waits
        // (in piscina's queue, once its thread ahead is no longer one long
        // attempt): an agent whose mean crossed SHORT_MS ran t6, t8, … t14
        // before t5 (limits.test, 1 run in ~13). It waits here instead.
        return;
      }
      const i = this.#queue.popOrPark();
      if (i !== undefined) this.#launch(i, behind);
    }
  }

  /** A progress report or chunk for task `i`'s attempt. */
  event(i: number, event: ChannelEvent): void {
    this.#live.event(i, event);
  }

  /** Takes task `i`'s attempt back if it has not begun (it settles withdrawn). */
  withdraw(i: number): boolean {
    return this.#live.withdraw(i);
  }

  /** Stops task `i`'s attempt as the run stops. */
  stop(i: number): boolean {
    return this.#live.stop(i);
  }

  /** Forgets every ready task (the run stopped). */
  clear(): void {
    this.#queue.clear();
  }

  /** Why task `i` cannot start now, as the key of the heap it waits in; undefined if it can. */
  #blocker(i: number): string | undefined {
    const policy = this.#c.policies[i] as TaskPolicy;
    const { slots, executor } = this.#c.settings;
    if (slots.running(policy.agent) >= policy.concurrency) return `agent:${policy.agent}`;
    const memoryMb = policy.limits.memoryMb;
    // Short and other attempts may be held back by different limits (packs
    // on many machines), so each waits in a heap of its own.
    const short = this.#short(i);
    if (!executor.hasRoom(memoryMb, short)) return `${short ? 'short' : 'memory'}:${memoryMb}`;
    return undefined;
  }

  /** Whether task `i` is expected to take well under a millisecond (a batch never is). */
  #short(i: number): boolean {
    if (this.#c.ledgers?.has(i)) return false;
    const mean = this.#c.settings.meanMs((this.#c.policies[i] as TaskPolicy).agent);
    return mean !== undefined && mean < SHORT_MS;
  }

  #launch(i: number, behind?: number): void {
    const { table, graph } = this.#c;
    const attempt = (table.attempts[i] as number) + 1;
    table.attempts[i] = attempt;
    table.move(i, TaskState.Ready, TaskState.Running);
    const policy = this.#c.policies[i] as TaskPolicy;
    const batch = this.#c.ledgers?.get(i)?.next();
    const request = buildRequest(this.#base, graph, table, policy, i, attempt, batch);
    const started = this.#live.start(i, request, this.#short(i), behind);
    this.#c.events.task('started', i, { attempt, threadId: started.threadId });
  }
}
