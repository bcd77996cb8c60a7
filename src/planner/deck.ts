import type { Graph } from '../dag/graph.js';
import { outranks } from './heap.js';

// A task with more dependents than this never gets an attempt on deck
// behind it: checking them all on every change would cost more than the
// hand-off it saves.
const MAX_DEPENDENTS = 64;

/** What deciding about a deck reads of a run. */
export interface DeckView {
  graph: Graph;
  rank: Float64Array;
  /** Dependencies of each task that have not ended yet. */
  pendingDeps: Int32Array;
  /** Whether task `i` still waits for its dependencies. */
  waiting(i: number): boolean;
}

/**
 * Whether task `x` may wait on deck behind running task `t`, to start on
 * `t`'s thread the moment `t` ends, without the main thread in between.
 * Only if nothing `t`'s end makes ready (a dependent whose last pending
 * dependency is `t`) outranks `x`: then the planner, choosing for that
 * thread when `t` ends, would have picked `x` (or its equal) anyway, and
 * the critical-path order holds.
 */
export function clearBehind(view: DeckView, t: number, x: number): boolean {
  const { childStart, childIdx } = view.graph;
  const from = childStart[t] as number;
  const to = childStart[t + 1] as number;
  if (to - from > MAX_DEPENDENTS) return false;
  for (let k = from; k < to; k++) {
    const c = childIdx[k] as number;
    if (view.pendingDeps[c] === 1 && view.waiting(c) && outranks(view.rank, c, x)) return false;
  }
  return true;
}

/**
 * Whether a run is bound by its threads rather than by its critical path:
 * its estimated work spread over the threads takes at least as long as its
 * longest chain. Only then do decks pay: every thread has work waiting, so
 * the hand-off a deck hides is time the run loses. When the critical path
 * binds, threads idle anyway, and an attempt waiting on deck can only hold
 * a thread that a task of the path, made ready meanwhile, should have had.
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
