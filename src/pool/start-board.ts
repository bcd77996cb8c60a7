import { performance } from 'node:perf_hooks';
import { now } from '../clock.js';

// Per slot: state, start time (µs since epoch), thread id, the thread's
// event-loop active time once the attempt's agent was loaded (µs; -1 before).
const CELLS = 4;
const STATE = 0;
const QUEUED = 0n;
const STARTED = 1n;
const CANCELLED = 2n;
// Finished, and nothing outside its thread saw it: it may run again if its reply is lost.
const FINISHED = 3n;
const REFUSED = 4n;
// Finished after sending events, calling the host or charging the run's
// budget: running it again would do those twice.
const FINISHED_SEEN = 5n;
// The active-time cell of an attempt whose agent is still loading.
const NOT_LOADED = -1n;

/**
 * Where each attempt handed to the pool stands, shared between the main
 * thread and the workers. An attempt may wait in piscina's queue (with
 * `inFlightPerThread` > 1, or while a terminated thread is replaced), and
 * only the worker knows when and where it starts. A slot goes from queued to
 * started (the worker, as it begins) or to cancelled (the main thread,
 * aborting it first) with compare-and-swap, so exactly one side wins: an
 * attempt cancelled while queued never runs, and one that started is
 * stopped by terminating its thread. The worker marks it finished once its
 * reply is made: a thread can die (a later attempt queued on it exits or
 * runs out of heap) after posting a reply but before the main thread reads
 * it, and then the attempt was not at fault and may go out again, if
 * nothing outside its thread saw it run. A worker
 * may also refuse to begin an attempt (its run's token budget is spent):
 * like a cancelled one, it never runs.
 */
export class StartBoard {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;
  readonly #free: number[];

  constructor(inFlight: number) {
    // Room for attempts aborted while queued, whose slots stay taken until
    // piscina hands them over; reused oldest-freed first.
    const slots = inFlight * 4 + 16;
    this.buffer = new SharedArrayBuffer(slots * CELLS * BigInt64Array.BYTES_PER_ELEMENT);
    this.#cells = new BigInt64Array(this.buffer);
    this.#free = Array.from({ length: slots }, (_, i) => i);
  }

  /** A fresh slot for a new attempt, or -1 if every slot is taken (the attempt then goes untracked). */
  acquire(): number {
    const slot = this.#free.shift() ?? -1;
    if (slot >= 0) Atomics.store(this.#cells, slot * CELLS + STATE, QUEUED);
    return slot;
  }

  release(slot: number): void {
    if (slot >= 0) this.#free.push(slot);
  }

  /**
   * Stops the slot's attempt from starting. Returns the thread it runs on
   * when it is too late (then only terminating the thread stops it),
   * undefined when it never ran or has already finished.
   */
  cancel(slot: number): number | undefined {
    if (slot < 0) return undefined;
    const before = Atomics.compareExchange(this.#cells, slot * CELLS + STATE, QUEUED, CANCELLED);
    return before === STARTED ? Number(Atomics.load(this.#cells, slot * CELLS + 2)) : undefined;
  }

  /**
   * Takes back an attempt that has not started, so it never will: true when
   * that worked (or its worker refused it), false when it already started
   * (or is not tracked).
   */
  withdraw(slot: number): boolean {
    if (slot < 0) return false;
    const before = Atomics.compareExchange(this.#cells, slot * CELLS + STATE, QUEUED, CANCELLED);
    return before === QUEUED || before === REFUSED;
  }

  /** Whether the slot's worker refused to begin its attempt. */
  refused(slot: number): boolean {
    return slot >= 0 && Atomics.load(this.#cells, slot * CELLS + STATE) === REFUSED;
  }

  /**
   * Whether the slot's attempt can go out again after its thread died: it
   * never started there, or (when `finished` allows it) it finished unseen
   * and only its reply was lost with the thread. Either way the slot is made
   * ready for the next try, and this says which it was; undefined: neither.
   */
  reclaim(slot: number, finished: boolean): 'waiting' | 'finished' | undefined {
    if (slot < 0) return undefined;
    const state = slot * CELLS + STATE;
    if (Atomics.load(this.#cells, state) === QUEUED) return 'waiting';
    if (finished && Atomics.compareExchange(this.#cells, state, FINISHED, QUEUED) === FINISHED)
      return 'finished';
    return undefined;
  }

  /**
   * Where and when the slot's attempt started, or undefined while it waits
   * or once it has finished (its thread's time is then another attempt's);
   * `activeMs` (the thread's active time when its agent was loaded) is
   * undefined until then.
   */
  read(
    slot: number,
  ): { startedAt: number; threadId: number; activeMs: number | undefined } | undefined {
    if (slot < 0) return undefined;
    const state = Atomics.load(this.#cells, slot * CELLS + STATE);
    if (state !== STARTED) return undefined;
    const loadedAt = Atomics.load(this.#cells, slot * CELLS + 3);
    return {
      startedAt: Number(Atomics.load(this.#cells, slot * CELLS + 1)) / 1000,
      threadId: Number(Atomics.load(this.#cells, slot * CELLS + 2)),
      activeMs: loadedAt === NOT_LOADED ? undefined : Number(loadedAt) / 1000,
    };
  }
}

// Worker side: a thread serves one pool, so it only ever sees one board.
let view: { buffer: SharedArrayBuffer; cells: BigInt64Array } | undefined;
function cellsOf(buffer: SharedArrayBuffer): BigInt64Array {
  if (view?.buffer !== buffer) view = { buffer, cells: new BigInt64Array(buffer) };
  return view.cells;
}

/**
 * Worker side: claims the slot's attempt as started on this thread. Returns
 * false when the main thread cancelled it first: the attempt must not run.
 */
export function markStarted(buffer: SharedArrayBuffer, slot: number, threadId: number): boolean {
  if (slot < 0) return true;
  const cells = cellsOf(buffer);
  // Written before the state flips, so a reader that sees "started" sees them.
  Atomics.store(cells, slot * CELLS + 1, BigInt(Math.round(now() * 1000)));
  Atomics.store(cells, slot * CELLS + 2, BigInt(threadId));
  Atomics.store(cells, slot * CELLS + 3, NOT_LOADED);
  return Atomics.compareExchange(cells, slot * CELLS + STATE, QUEUED, STARTED) === QUEUED;
}

/**
 * Worker side: the slot's attempt has loaded its agent. Its CPU time, read
 * from outside by the watchdog, counts from here, not from the module load.
 */
export function markLoaded(buffer: SharedArrayBuffer, slot: number): void {
  if (slot < 0) return;
  const active = Math.round(performance.eventLoopUtilization().active * 1000);
  Atomics.store(cellsOf(buffer), slot * CELLS + 3, BigInt(active));
}

/**
 * Worker side: declines to begin the slot's attempt. False when it cannot
 * (the main thread cancelled it first, or it is not tracked).
 */
export function refuse(buffer: SharedArrayBuffer, slot: number): boolean {
  if (slot < 0) return false;
  return Atomics.compareExchange(cellsOf(buffer), slot * CELLS + STATE, QUEUED, REFUSED) === QUEUED;
}

/**
 * Worker side: the slot's attempt has its reply, about to be posted. `seen`:
 * it sent events, called the host or charged the run's budget, so it must
 * not run again even if the reply is lost.
 */
export function markFinished(buffer: SharedArrayBuffer, slot: number, seen: boolean): void {
  if (slot < 0) return;
  const done = seen ? FINISHED_SEEN : FINISHED;
  Atomics.compareExchange(cellsOf(buffer), slot * CELLS + STATE, STARTED, done);
}
