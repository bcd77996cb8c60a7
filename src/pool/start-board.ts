import { CELL, cellAt, NOT_LOADED, SLOT, SLOT_CELLS } from '../shared/start-board.js';

/** Where a tracked attempt stands, as its start board slot says. */
export type SlotView =
  | { phase: 'waiting' }
  | { phase: 'running'; startedAt: number; threadId: number; activeMs: number | undefined }
  | { phase: 'finished'; startedAt: number; threadId: number };

/**
 * Where each attempt handed to the pool stands, shared between the main
 * thread and the workers. An attempt may wait in piscina's queue (with
 * `inFlightPerThread` > 1, or while a terminated thread is replaced), and
 * only the worker knows when and where it starts. A slot goes from queued to
 * started (the worker, as it begins) or to cancelled (the main thread,
 * aborting it first) with compare-and-swap, so exactly one side wins: an
 * attempt cancelled while queued never runs, and one that started is
 * stopped by terminating its thread. The worker marks it seen before it
 * first does something outside its thread (an event, a host call, a charge
 * to the run's budget): a thread the pool ends for another attempt's sake
 * takes an unseen running attempt down with it through no fault of its
 * own, and that one runs again. The worker marks it finished once its
 * reply is made: a thread can die (a later attempt queued on it exits or
 * runs out of heap) after posting a reply but before the main thread reads
 * it, and then the attempt was not at fault and may go out again, if
 * nothing outside its thread saw it run (a seen one may not, so an exiting
 * thread waits until the main thread has released such slots, having read
 * their replies). A worker may also refuse to begin an attempt (its run's
 * token budget is spent): like a cancelled one, it never runs.
 */
export class StartBoard {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;
  readonly #free: number[];

  constructor(inFlight: number) {
    // Room for attempts aborted while queued, whose slots stay taken until
    // piscina hands them over; reused oldest-freed first.
    const slots = inFlight * 4 + 16;
    this.buffer = new SharedArrayBuffer(slots * SLOT_CELLS * BigInt64Array.BYTES_PER_ELEMENT);
    this.#cells = new BigInt64Array(this.buffer);
    this.#free = Array.from({ length: slots }, (_, i) => i);
  }

  /** A fresh slot for a new attempt, or -1 if every slot is taken (the attempt then goes untracked). */
  acquire(): number {
    const slot = this.#free.shift() ?? -1;
    if (slot >= 0) Atomics.store(this.#cells, cellAt(slot, CELL.state), SLOT.queued);
    return slot;
  }

  /** The slot's attempt has settled; a worker waiting on its reply's delivery (`delivered`) goes on. */
  release(slot: number): void {
    if (slot < 0) return;
    const state = cellAt(slot, CELL.state);
    Atomics.store(this.#cells, state, SLOT.released);
    Atomics.notify(this.#cells, state);
    this.#free.push(slot);
  }

  /**
   * Stops the slot's attempt from starting. Returns the thread it runs on
   * when it is too late (then only terminating the thread stops it),
   * undefined when it never ran or has already finished.
   */
  cancel(slot: number, finished = false): number | undefined {
    if (slot < 0) return undefined;
    const before = Atomics.compareExchange(
      this.#cells,
      this.#state(slot),
      SLOT.queued,
      SLOT.cancelled,
    );
    if (before === SLOT.started || before === SLOT.startedSeen) return this.#thread(slot);
    // Finished, its reply not in: with `finished`, its thread is named too
    // (a thread whose reply never comes is stopped all the same).
    if (finished && (before === SLOT.finished || before === SLOT.finishedSeen))
      return this.#thread(slot);
    return undefined;
  }

  /**
   * Takes back an attempt that has not started, so it never will: true when
   * that worked (or its worker refused it), false when it already started
   * (or is not tracked).
   */
  withdraw(slot: number): boolean {
    if (slot < 0) return false;
    const before = Atomics.compareExchange(
      this.#cells,
      this.#state(slot),
      SLOT.queued,
      SLOT.cancelled,
    );
    return before === SLOT.queued || before === SLOT.refused;
  }

  /** Whether the slot's worker refused to begin its attempt. */
  refused(slot: number): boolean {
    return slot >= 0 && Atomics.load(this.#cells, this.#state(slot)) === SLOT.refused;
  }

  /**
   * Whether the slot's attempt can go out again after its thread died: it
   * never started there; or (when `may.finished` allows it) it finished
   * unseen and only its reply was lost with the thread; or (when
   * `may.started` allows it: the pool ended that thread for another
   * attempt's sake) it was running there and had shown nothing outside.
   * Either way the slot is made ready for the next try, and this says which
   * it was; undefined: none of these.
   */
  reclaim(
    slot: number,
    may: { finished: boolean; started: boolean },
  ): 'waiting' | 'finished' | 'started' | undefined {
    if (slot < 0) return undefined;
    const state = this.#state(slot);
    if (Atomics.load(this.#cells, state) === SLOT.queued) return 'waiting';
    // The thread is gone: nothing else moves this slot now.
    if (may.finished && this.#swap(state, SLOT.finished)) return 'finished';
    if (may.started && this.#swap(state, SLOT.started)) return 'started';
    return undefined;
  }

  #swap(state: number, from: bigint): boolean {
    return Atomics.compareExchange(this.#cells, state, from, SLOT.queued) === from;
  }

  /**
   * Where the slot's attempt stands: still waiting for its thread, running
   * there (with where, since when, and the thread's active time when its
   * agent was loaded, undefined while it loads), or finished there and its
   * reply on the way; undefined once it will not run (cancelled, refused).
   */
  read(slot: number): SlotView | undefined {
    if (slot < 0) return undefined;
    const state = Atomics.load(this.#cells, this.#state(slot));
    if (state === SLOT.queued) return { phase: 'waiting' };
    const running = state === SLOT.started || state === SLOT.startedSeen;
    if (!running && state !== SLOT.finished && state !== SLOT.finishedSeen) return undefined;
    const startedAt = Number(Atomics.load(this.#cells, cellAt(slot, CELL.startedAtUs))) / 1000;
    const threadId = Number(Atomics.load(this.#cells, cellAt(slot, CELL.threadId)));
    if (!running) return { phase: 'finished', startedAt, threadId };
    const loadedAt = Atomics.load(this.#cells, cellAt(slot, CELL.loadedActiveUs));
    const activeMs = loadedAt === NOT_LOADED ? undefined : Number(loadedAt) / 1000;
    return { phase: 'running', startedAt, threadId, activeMs };
  }

  #thread(slot: number): number {
    return Number(Atomics.load(this.#cells, cellAt(slot, CELL.threadId)));
  }

  #state(slot: number): number {
    return cellAt(slot, CELL.state);
  }
}
