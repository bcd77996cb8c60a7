import type { StopReason } from '../results.js';
import { TaskState, type TaskTable } from './task-table.js';

/** What a stop's sweep does to attempts handed over. */
export interface Handed {
  /** Takes task `i`'s attempt back if it has not begun; false once it has. */
  withdraw(i: number): boolean;
  /** Stops task `i`'s running attempt. */
  stop(i: number): void;
}

/**
 * The sweep of a run's stop over its tasks: each that never began is ended
 * by `endNever` (from the state it was in); an attempt handed over (on deck,
 * or queued behind short ones) but not begun never will, and is withdrawn
 * (it settles withdrawn, ending as the stop ends it). One that began is left
 * to finish, unless the signal stops everything. When another planner took
 * the run over (`lease-lost`), every attempt handed over is left alone: the
 * new owner adopts its job, which a withdrawal would cancel.
 */
export function sweepStopped(
  table: TaskTable,
  handed: Handed,
  reason: Exclude<StopReason, null>,
  endNever: (i: number, state: TaskState) => void,
): void {
  for (let i = 0; i < table.size; i++) {
    const state = table.state(i);
    if (state === TaskState.Ended) continue;
    if (state !== TaskState.Running) endNever(i, state);
    else if (reason === 'lease-lost') continue;
    else if (!handed.withdraw(i) && reason === 'signal') handed.stop(i);
  }
}
