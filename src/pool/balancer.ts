/** A thread as piscina's balancer sees it (read only). */
export interface ThreadView {
  readonly id: number;
  readonly currentUsage: number;
  readonly terminating: boolean;
  readonly destroyed: boolean;
}

/** An attempt to place, as the balancer sees it. */
export interface PlacementView {
  readonly agent: string;
  readonly short: boolean;
  /** On deck: the thread whose attempt it follows. */
  readonly behind: number | undefined;
  /** Taken back: it only needs a thread to be skipped on. */
  readonly withdrawn: boolean;
}

/** What the balancer reads of its pool. */
export interface PoolView {
  balance: 'least-busy' | 'round-robin';
  /** Attempts one thread may hold at once. */
  perThread: number;
  /** Threads that have loaded an agent's module. */
  warm(agent: string): ReadonlySet<number> | undefined;
  /** Attempts posted to a thread that are not short (withdrawn ones excluded). */
  long(threadId: number): number;
  /** Advances and returns the round-robin counter. */
  turn(): number;
}

function usable(thread: ThreadView): boolean {
  return !thread.terminating && !thread.destroyed;
}

/**
 * Chooses a thread: an idle one that already loaded the attempt's agent when
 * there is one (its module is warm), else any idle one. Least-busy takes the
 * first such thread; round-robin takes the next in rotation among them, so
 * warm threads share the work instead of the first one taking it all. With
 * no idle thread, an on-deck or short attempt may queue on a busy thread, so
 * it is at hand the moment the thread is free; anything else stays in
 * piscina's queue for the next idle thread (null). Pure: a function of its
 * arguments (and the pool's rotation counter).
 */
export function pick<T extends ThreadView>(
  attempt: PlacementView | undefined,
  threads: readonly T[],
  pool: PoolView,
): T | null {
  if (attempt?.withdrawn) return anyRoom(threads, pool.perThread);
  const warm = attempt === undefined ? undefined : pool.warm(attempt.agent);
  let first: T | undefined;
  let chosen: T | undefined;
  let free = 0;
  let freeWarm = 0;
  // One pass, no allocation: this runs for every attempt piscina hands out.
  for (const thread of threads) {
    if (thread.currentUsage !== 0 || !usable(thread)) continue;
    free++;
    first ??= thread;
    if (warm?.has(thread.id)) {
      freeWarm++;
      chosen ??= thread;
      if (pool.balance === 'least-busy') break;
    }
  }
  if (first === undefined)
    return attempt === undefined ? null : (busyThread(attempt, threads, pool) ?? null);
  if (pool.balance === 'least-busy') return chosen ?? first;
  // The next in rotation among the idle warm threads, or among all idle ones.
  let skip = pool.turn() % (freeWarm || free);
  for (const thread of threads) {
    if (thread.currentUsage !== 0 || !usable(thread)) continue;
    if (freeWarm > 0 && !warm?.has(thread.id)) continue;
    if (skip-- === 0) return thread;
  }
  return first;
}

/**
 * With every thread busy: the thread an on-deck attempt asked for, if it is
 * still there, has room and holds exactly one long attempt (the one to
 * follow); for a short attempt, the least busy thread with room that runs
 * only short ones. Else undefined: it waits in piscina's queue.
 */
function busyThread<T extends ThreadView>(
  attempt: PlacementView,
  threads: readonly T[],
  pool: PoolView,
): T | undefined {
  if (attempt.behind !== undefined) {
    for (const thread of threads) {
      if (thread.id !== attempt.behind) continue;
      const room = usable(thread) && thread.currentUsage < pool.perThread;
      return room && pool.long(thread.id) === 1 ? thread : undefined;
    }
    return undefined;
  }
  if (!attempt.short) return undefined;
  let chosen: T | undefined;
  for (const thread of threads) {
    if (thread.currentUsage >= pool.perThread || !usable(thread)) continue;
    if (pool.long(thread.id) > 0) continue;
    if (chosen === undefined || thread.currentUsage < chosen.currentUsage) chosen = thread;
  }
  return chosen;
}

/** A thread with room, busy or not, for a withdrawn attempt to be skipped on; null if none. */
function anyRoom<T extends ThreadView>(threads: readonly T[], perThread: number): T | null {
  for (const thread of threads)
    if (thread.currentUsage < perThread && usable(thread)) return thread;
  return null;
}
