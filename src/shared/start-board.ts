/**
 * The start board's memory layout, and the worker's side of it. The pool
 * (src/pool/start-board.ts) owns the board; workers only flip the state of
 * the slot they were handed, with compare-and-swap, so for every attempt
 * exactly one side wins each race (started vs cancelled, refused vs
 * cancelled). See the pool's `StartBoard` for the whole protocol.
 */
import { performance } from 'node:perf_hooks';
import { now } from './clock.js';

// Captured when the module loads, before any agent runs: `markSeen` runs
// while agent code does (an agent that emits has the thread), and an agent
// may have replaced Atomics by then.
const { load, store, compareExchange } = Atomics;
// Taken the same way: `awaitDelivered` runs as the thread exits, maybe by an agent's doing.
const { wait } = Atomics;

/** Cells per slot, each a BigInt64. */
export const SLOT_CELLS = 4;
/** Cell offsets within a slot. */
export const CELL = {
  /** One of `SLOT`. */
  state: 0,
  /** When the attempt started on its thread, in µs since the epoch. */
  startedAtUs: 1,
  /** The thread it started on. */
  threadId: 2,
  /** The thread's event-loop active time once the attempt's agent was loaded, in µs; `NOT_LOADED` before. */
  loadedActiveUs: 3,
} as const;

/** Slot states. */
export const SLOT = {
  queued: 0n,
  started: 1n,
  cancelled: 2n,
  /** Finished, and nothing outside its thread saw it: it may run again if its reply is lost. */
  finished: 3n,
  refused: 4n,
  /** Finished after sending events, calling the host or charging the run's budget: running it again would repeat those. */
  finishedSeen: 5n,
  /**
   * Running, and it has sent an event, called the host or charged the run's
   * budget. A `started` attempt has shown nothing outside its thread: if the
   * pool ends that thread for another attempt's sake, it may run again.
   */
  startedSeen: 6n,
  /** The main thread has settled the attempt (its reply read, or its thread gone) and given the slot back. */
  released: 7n,
} as const;

/** The active-time cell of an attempt whose agent is still loading. */
export const NOT_LOADED = -1n;

/** Index of cell `cell` of slot `slot`. */
export function cellAt(slot: number, cell: number): number {
  return slot * SLOT_CELLS + cell;
}

// A thread serves one pool, so it only ever sees one board.
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
  store(cells, cellAt(slot, CELL.startedAtUs), BigInt(Math.round(now() * 1000)));
  store(cells, cellAt(slot, CELL.threadId), BigInt(threadId));
  store(cells, cellAt(slot, CELL.loadedActiveUs), NOT_LOADED);
  const state = cellAt(slot, CELL.state);
  return compareExchange(cells, state, SLOT.queued, SLOT.started) === SLOT.queued;
}

/**
 * Worker side: the slot's attempt has loaded its agent. Its CPU time, read
 * from outside by the watchdog, counts from here, not from the module load.
 */
export function markLoaded(buffer: SharedArrayBuffer, slot: number): void {
  if (slot < 0) return;
  const active = Math.round(performance.eventLoopUtilization().active * 1000);
  store(cellsOf(buffer), cellAt(slot, CELL.loadedActiveUs), BigInt(active));
}

/**
 * Worker side: declines to begin the slot's attempt. False when it cannot
 * (the main thread cancelled it first, or it is not tracked).
 */
export function refuse(buffer: SharedArrayBuffer, slot: number): boolean {
  if (slot < 0) return false;
  const state = cellAt(slot, CELL.state);
  return compareExchange(cellsOf(buffer), state, SLOT.queued, SLOT.refused) === SLOT.queued;
}

/**
 * Worker side: the slot's running attempt is about to do something outside
 * its thread (send an event, call the host, charge the run's budget). Called
 * before it does: a thread ended in between leaves the attempt marked seen,
 * which only costs it its free re-run, never runs it twice.
 */
export function markSeen(buffer: SharedArrayBuffer, slot: number): void {
  if (slot < 0) return;
  compareExchange(cellsOf(buffer), cellAt(slot, CELL.state), SLOT.started, SLOT.startedSeen);
}

/**
 * Worker side: the slot's attempt has its reply, about to be posted. `seen`:
 * it sent events, called the host or charged the run's budget, so it must
 * not run again even if the reply is lost.
 */
export function markFinished(buffer: SharedArrayBuffer, slot: number, seen: boolean): void {
  if (slot < 0) return;
  const cells = cellsOf(buffer);
  const state = cellAt(slot, CELL.state);
  const was = load(cells, state);
  if (was !== SLOT.started && was !== SLOT.startedSeen) return;
  const done = seen || was === SLOT.startedSeen ? SLOT.finishedSeen : SLOT.finished;
  compareExchange(cells, state, was, done);
}

/**
 * Worker side, as the thread exits: blocks until the main thread has read
 * the reply of the slot's attempt, finished after being seen, or for at most
 * `timeoutMs`. Returns at once when that reply is read already.
 */
export function awaitDelivered(buffer: SharedArrayBuffer, slot: number, timeoutMs: number): void {
  if (slot >= 0) wait(cellsOf(buffer), cellAt(slot, CELL.state), SLOT.finishedSeen, timeoutMs);
}

/** Worker side: whether the slot's attempt finished seen and its reply is not read yet. */
export function undelivered(buffer: SharedArrayBuffer, slot: number): boolean {
  return slot >= 0 && load(cellsOf(buffer), cellAt(slot, CELL.state)) === SLOT.finishedSeen;
}
