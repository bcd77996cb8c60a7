import type { Summary } from './stats.js';

/** One line of the speedup table. */
export interface SpeedupRow {
  workload: string;
  /** Worker threads; 0 is the main thread alone, no pool (`threads: 0` for the runtime). */
  threads: number;
  /** 'cold': a fresh runtime's first run (threads start, agents load); 'warm': a run on threads that already ran it. */
  pool: 'none' | 'cold' | 'warm';
  /** Wall time per run, ms, one per repeat. */
  ms: Summary;
  /** Time at 1 thread (same pool state) over this row's, per repeat; null on the main-thread row. */
  vsOneThread: Summary | null;
  /** The main thread's time for the same work over this row's, per repeat. */
  vsMainThread: Summary;
}

/** Order of the configurations in repeat `r`: reversed every other repeat, so none is always first. */
export function alternate<T>(items: readonly T[], r: number): T[] {
  return r % 2 ? [...items].reverse() : [...items];
}
