import { RankHeap } from './heap.js';

/**
 * A run's ready tasks: a heap by critical-path rank, and beside it one heap
 * per blocker (an agent at its concurrency cap, a memory profile out of
 * room) for tasks that cannot start yet, so lower-ranked ones can backfill.
 * A parked task whose blocker has cleared goes back to the ready heap
 * before each pick.
 */
export class ReadyQueue {
  readonly #rank: Float64Array;
  readonly #heap: RankHeap;
  readonly #parked = new Map<string, RankHeap>();
  readonly #blocker: (i: number) => string | undefined;

  /** `blocker(i)`: why task `i` cannot start now, as a key; undefined if it can. */
  constructor(rank: Float64Array, blocker: (i: number) => string | undefined) {
    this.#rank = rank;
    this.#heap = new RankHeap(rank);
    this.#blocker = blocker;
  }

  push(i: number): void {
    this.#heap.push(i);
  }

  /** The best ready task (parked ones whose blocker cleared included), without taking it. */
  peek(): number | undefined {
    this.#unpark();
    return this.#heap.peek();
  }

  /**
   * Takes the top task: returned if it can start now, else parked by its
   * blocker (undefined; the next `peek` shows the task after it).
   */
  popOrPark(): number | undefined {
    const i = this.#heap.pop();
    if (i === undefined) return undefined;
    const blocker = this.#blocker(i);
    if (blocker === undefined) return i;
    let parked = this.#parked.get(blocker);
    if (parked === undefined) {
      parked = new RankHeap(this.#rank);
      this.#parked.set(blocker, parked);
    }
    parked.push(i);
    return undefined;
  }

  /** Empties the queue (the run stopped). */
  clear(): void {
    this.#heap.drain();
    this.#parked.clear();
  }

  #unpark(): void {
    for (const [key, parked] of this.#parked) {
      const top = parked.peek();
      if (top === undefined) this.#parked.delete(key);
      else if (this.#blocker(top) === undefined) this.#heap.push(parked.pop() as number);
    }
  }
}
