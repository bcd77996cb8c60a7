import type { Graph } from '../dag/graph.js';
import { outranks } from './heap.js';
import type { InFlight } from './in-flight.js';
import type { Slots } from './slots.js';

// A task with more dependents than this never gets an attempt on deck
// behind it: checking them all on every change would cost more than the
// hand-off it saves.
const MAX_DEPENDENTS = 64;

/** What deciding about decks reads of a run. */
export interface DeckView {
  graph: Graph;
  cost: Float64Array;
  rank: Float64Array;
  /** Dependencies of each task that have not ended yet. */
  pendingDeps: Int32Array;
  /** Whether task `i` still waits for its dependencies. */
  waiting(i: number): boolean;
  /** The best ready task. */
  queue: { peek(): number | undefined };
  live: InFlight;
  slots: Slots;
}

/**
 * A run's policy for attempts on deck: posted to a busy thread behind the
 * attempt it runs, so the thread goes straight on to it when that ends,
 * without waiting for the main thread to pick its next task (a few hundred
 * µs per task on a small machine). Used only where it keeps the order the
 * planner would have chosen when the thread came free.
 */
export class Decks {
  readonly #view: DeckView;
  // Whether the run puts attempts on deck at all (see threadBound).
  readonly #on: boolean;

  constructor(view: DeckView) {
    this.#view = view;
    this.#on = view.slots.deckable && threadBound(view.cost, view.rank, view.slots.threads);
  }

  /**
   * The running task behind which task `x` may wait on deck: the one
   * expected to end first among those `x` can follow without breaking the
   * order (see `clearBehind`). Undefined when there is none, or when the
   * run does not use decks.
   */
  behind(x: number): number | undefined {
    if (!this.#on) return undefined;
    return this.#view.live.deckTarget((t) => this.#clearBehind(t, x), this.#view.cost);
  }

  /**
   * Keeps every attempt on deck where the planner would put it now. One
   * that has not begun is taken back (it settles withdrawn, and its task is
   * ready again), when a ready
   * task outranks it, when the end of the attempt it follows would make
   * such a task ready, or when a thread is idle and it should start there.
   */
  review(): void {
    const { live, queue, rank, slots } = this.#view;
    const decks = live.decks();
    if (decks.length === 0) return;
    const top = queue.peek();
    let idle = slots.threads - (slots.inFlight - slots.decked);
    // Best first, so idle threads go to the best of them.
    decks.sort(([a], [b]) => (outranks(rank, a, b) ? -1 : 1));
    for (const [x, t] of decks) {
      const steal = idle > 0 && (top === undefined || outranks(rank, x, top));
      const stale = (top !== undefined && outranks(rank, top, x)) || !this.#clearBehind(t, x);
      if (!(steal || stale) || !live.withdraw(x)) continue;
      if (steal) idle--;
    }
  }

  /**
   * Whether `x` may follow running task `t` on its thread: only if nothing
   * `t`'s end makes ready (a dependent whose last pending dependency is `t`)
   * outranks `x`. Then the planner, choosing for that thread when `t` ends,
   * would have picked `x` (or its equal) anyway.
   */
  #clearBehind(t: number, x: number): boolean {
    const { graph, pendingDeps, rank } = this.#view;
    const from = graph.childStart[t] as number;
    const to = graph.childStart[t + 1] as number;
    if (to - from > MAX_DEPENDENTS) return false;
    for (let k = from; k < to; k++) {
      const c = graph.childIdx[k] as number;
      if (pendingDeps[c] === 1 && this.#view.waiting(c) && outranks(rank, c, x)) return false;
    }
    return true;
  }
}

/**
 * Whether a run is bound by its threads rather than by its critical path:
 * its estimated work spread over the threads takes at least as long as its
 * longest chain. Only then do decks pay: every thread has work waiting, so
 * the hand-off a deck hides is time the run loses. When the critical path
 * binds, threads idle anyway, and an attempt on deck can only hold a thread
 * that a task of the path, made ready meanwhile, should have had (measured:
 * decks cost 2–5% of makespan at 8–16 threads on path-bound DAGs).
 */
export function threadBound(cost: Float64Array, rank: Float64Array, threads: number): boolean {
  let work = 0;
  let path = 0;
  for (let i = 0; i < cost.length; i++) {
    work += cost[i] as number;
    if ((rank[i] as number) > path) path = rank[i] as number;
  }
  return work / threads >= path;
}
