import { now } from '../clock.js';

/**
 * When each in-flight attempt actually started on a thread, shared between
 * the main thread and the workers. An attempt handed to piscina may wait in
 * its queue (with `inFlightPerThread` > 1, or while a terminated thread is
 * replaced); the timeout backstop must count from the real start, and only
 * the worker knows it. One slot per attempt that can be in flight; a worker
 * writes its slot with `markStarted`, the main thread reads it.
 */
export class StartBoard {
  readonly buffer: SharedArrayBuffer;
  readonly #cells: BigInt64Array;
  readonly #free: number[];

  constructor(slots: number) {
    this.buffer = new SharedArrayBuffer(slots * BigInt64Array.BYTES_PER_ELEMENT);
    this.#cells = new BigInt64Array(this.buffer);
    this.#free = Array.from({ length: slots }, (_, i) => slots - 1 - i);
  }

  /** A cleared slot for a new attempt, or -1 if every slot is taken. */
  acquire(): number {
    const slot = this.#free.pop() ?? -1;
    if (slot >= 0) Atomics.store(this.#cells, slot, 0n);
    return slot;
  }

  release(slot: number): void {
    if (slot >= 0) this.#free.push(slot);
  }

  /** Epoch ms when the slot's attempt started, or undefined while it waits. */
  startedAt(slot: number): number | undefined {
    if (slot < 0) return undefined;
    const micros = Atomics.load(this.#cells, slot);
    return micros === 0n ? undefined : Number(micros) / 1000;
  }
}

/** Worker side: records that the attempt in `slot` starts now. */
export function markStarted(buffer: SharedArrayBuffer, slot: number): void {
  if (slot >= 0) Atomics.store(new BigInt64Array(buffer), slot, BigInt(Math.round(now() * 1000)));
}
