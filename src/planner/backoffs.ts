/**
 * The timers of tasks waiting out a retry's backoff: a waiting retry holds a
 * timer, never a slot or a thread. Cleared all at once when the run stops.
 */
export class Backoffs {
  readonly #timers = new Map<number, NodeJS.Timeout>();

  /** Calls `fire` for task `i` after `delayMs`, unless cleared first. */
  wait(i: number, delayMs: number, fire: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(i);
      fire();
    }, delayMs);
    this.#timers.set(i, timer);
  }

  /** Cancels every pending backoff. */
  clear(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
