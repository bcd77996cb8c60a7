import { performance } from 'node:perf_hooks';
import { now } from '../clock.js';

// Per slot: start time (µs since epoch), thread id, the thread's event-loop active time at the start (µs).
const CELLS = 3;

/**
 * When and where each in-flight attempt started, shared between the main
 * thread and the workers. An attempt handed to piscina may wait in its queue
 * (with `inFlightPerThread` > 1, or while a terminated thread is replaced):
 * the timeout backstop must count from the real start, and the CPU watch must
 * know the thread, and only the worker knows them. One slot per attempt that
 * can be in flight; a worker fills its slot with `markStarted`.
 */
export class StartBoard {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;
  readonly #free: number[];

  constructor(inFlight: number) {
    // Twice the slots that can be in use, reused oldest-freed first: a
    // terminated thread that still writes its slot late cannot hit a live one.
    const slots = inFlight * 2;
    this.buffer = new SharedArrayBuffer(slots * CELLS * BigInt64Array.BYTES_PER_ELEMENT);
    this.#cells = new BigInt64Array(this.buffer);
    this.#free = Array.from({ length: slots }, (_, i) => i);
  }

  /** A cleared slot for a new attempt, or -1 if every slot is taken. */
  acquire(): number {
    const slot = this.#free.shift() ?? -1;
    if (slot >= 0) Atomics.store(this.#cells, slot * CELLS, 0n);
    return slot;
  }

  release(slot: number): void {
    if (slot >= 0) this.#free.push(slot);
  }

  /** Where and when the slot's attempt started, or undefined while it waits. */
  read(slot: number): { startedAt: number; threadId: number; activeMs: number } | undefined {
    if (slot < 0) return undefined;
    const micros = Atomics.load(this.#cells, slot * CELLS);
    if (micros === 0n) return undefined;
    return {
      startedAt: Number(micros) / 1000,
      threadId: Number(Atomics.load(this.#cells, slot * CELLS + 1)),
      activeMs: Number(Atomics.load(this.#cells, slot * CELLS + 2)) / 1000,
    };
  }
}

/** Worker side: records that the attempt in `slot` starts now, on this thread. */
export function markStarted(buffer: SharedArrayBuffer, slot: number, threadId: number): void {
  if (slot < 0) return;
  const cells = new BigInt64Array(buffer);
  const active = performance.eventLoopUtilization().active;
  Atomics.store(cells, slot * CELLS + 1, BigInt(threadId));
  Atomics.store(cells, slot * CELLS + 2, BigInt(Math.round(active * 1000)));
  // Written last: a non-zero start means the other cells are valid.
  Atomics.store(cells, slot * CELLS, BigInt(Math.round(now() * 1000)));
}
