/** A run that can be asked to dispatch again. */
export interface Pumpable {
  wake(): void;
}

/**
 * The runtime's shared dispatch budget: attempts in flight across all runs
 * (one per thread, and up to `capacity` when the extra ones are short or
 * on deck) and running attempts per agent (for agents' `concurrency` caps,
 * which hold across runs). When an attempt ends, every run is woken, since
 * a task parked in one run may wait on a slot another run held.
 */
export class Slots {
  readonly threads: number;
  readonly capacity: number;
  inFlight = 0;
  /** Attempts in flight that wait on deck behind another on its thread. */
  decked = 0;
  readonly #running = new Map<string, number>();
  readonly #runs = new Set<Pumpable>();
  #waking = false;

  constructor(threads: number, perThread: number) {
    this.threads = threads;
    this.capacity = threads * perThread;
  }

  get free(): boolean {
    return this.inFlight < this.capacity;
  }

  /** Whether every thread has an attempt: only short or on-deck ones may go ahead now. */
  get saturated(): boolean {
    return this.inFlight - this.decked >= this.threads;
  }

  /** Whether attempts may be put on deck at all: a thread may hold more than one. */
  get deckable(): boolean {
    return this.capacity > this.threads;
  }

  running(agent: string): number {
    return this.#running.get(agent) ?? 0;
  }

  add(run: Pumpable): void {
    this.#runs.add(run);
  }

  delete(run: Pumpable): void {
    this.#runs.delete(run);
  }

  take(agent: string): void {
    this.inFlight++;
    this.#running.set(agent, this.running(agent) + 1);
  }

  give(agent: string): void {
    this.inFlight--;
    this.#running.set(agent, this.running(agent) - 1);
    if (this.#waking) return;
    this.#waking = true;
    // After the current settle has run its course, so every run sees final counts.
    queueMicrotask(() => {
      this.#waking = false;
      for (const run of this.#runs) run.wake();
    });
  }
}
