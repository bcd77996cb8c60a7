import type { ChannelEvent, TaskRequest } from '../shared/protocol.js';
import { Attempt, type AttemptContext } from './attempt.js';

/**
 * A run's attempts with the executor, by task index (at most one per task).
 * An attempt leaves the moment it settles.
 */
export class InFlight {
  readonly #context: AttemptContext;
  readonly #attempts = new Map<number, Attempt>();

  constructor(context: Omit<AttemptContext, 'settled'>, settled: AttemptContext['settled']) {
    this.#context = {
      ...context,
      settled: (attempt, outcome) => {
        if (this.#attempts.get(attempt.task) === attempt) this.#attempts.delete(attempt.task);
        settled(attempt, outcome);
      },
    };
  }

  /**
   * Hands attempt `request.attempt` of task `i` to the executor; with
   * `behind`, on deck behind task `behind`'s attempt, on that attempt's thread.
   */
  start(i: number, request: TaskRequest, short: boolean, behind?: number): Attempt {
    const ahead = behind === undefined ? undefined : this.#attempts.get(behind);
    const attempt = new Attempt(this.#context, i, request, short, ahead);
    // It may have settled already (an executor that answers at once).
    if (attempt.live) this.#attempts.set(i, attempt);
    return attempt;
  }

  get(i: number): Attempt | undefined {
    return this.#attempts.get(i);
  }

  /** A progress report or chunk. Stale ones (an attempt already ended) are dropped. */
  event(i: number, event: ChannelEvent): void {
    const attempt = this.#attempts.get(i);
    if (attempt !== undefined && attempt.number === event.attempt) attempt.event(event);
  }

  /** Attempts on deck, as [task on deck, task it follows]. */
  decks(): [number, number][] {
    const decks: [number, number][] = [];
    for (const [i, attempt] of this.#attempts)
      if (attempt.state.kind === 'onDeck') decks.push([i, attempt.state.ahead.task]);
    return decks;
  }

  /**
   * The task whose attempt an attempt put on deck now should follow: one
   * running alone on a known thread of the default pool, with nothing on
   * deck yet, that `accepts`, and of those the one expected to end first
   * (by when it was handed over and its estimated cost).
   */
  deckTarget(accepts: (i: number) => boolean, cost: Float64Array): number | undefined {
    let best: number | undefined;
    let bestEnd = Number.POSITIVE_INFINITY;
    for (const [i, attempt] of this.#attempts) {
      if (attempt.deck !== undefined || attempt.state.kind !== 'handed') continue;
      if (attempt.short || attempt.threadId === null || attempt.request.memoryMb !== undefined)
        continue;
      const end = attempt.handedAt + (cost[i] as number);
      if (end < bestEnd && accepts(i)) {
        best = i;
        bestEnd = end;
      }
    }
    return best;
  }

  /** Takes task `i`'s attempt back if it has not begun (it settles `withdrawn`): true if it was. */
  withdraw(i: number): boolean {
    return this.#attempts.get(i)?.withdraw() ?? false;
  }

  /** Ends task `i`'s attempt now, as the run stops (see `Attempt.stop`). */
  stop(i: number): boolean {
    return this.#attempts.get(i)?.stop() ?? false;
  }
}
