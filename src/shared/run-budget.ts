/**
 * A run's shared token budget: two BigInt64 cells in a SharedArrayBuffer
 * that every thread of the run charges with compare-and-swap, so threads can
 * never jointly overspend it. Read by the planner (to stop the run) and by
 * workers (to charge, and to refuse to begin attempts once it is spent).
 */

/** Cell offsets. */
export const BUDGET_CELL = {
  /** Tokens spent so far. */
  spent: 0,
  /** Set (1) once a charge was refused: the run starts nothing new. */
  refused: 1,
} as const;
const CELLS = 2;
// Captured when the module loads, before any agent runs: an agent that
// replaces Atomics while it runs must not get past the budget it charges.
const { load, store, compareExchange } = Atomics;

/** A fresh, empty budget's memory. */
export function newRunBudget(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELLS * BigInt64Array.BYTES_PER_ELEMENT);
}

/** Tokens spent from the budget in `cells`. */
export function tokensSpent(cells: BigInt64Array): number {
  return Number(load(cells, BUDGET_CELL.spent));
}

/** Whether a charge to the budget in `cells` has been refused. */
export function chargeRefused(cells: BigInt64Array): boolean {
  return load(cells, BUDGET_CELL.refused) !== 0n;
}

/**
 * Charges `amount` tokens to the budget in `cells` unless that would pass
 * `budget`: then nothing is charged, the budget is marked refused, and this
 * returns what had been spent (else undefined).
 */
export function chargeTokens(
  cells: BigInt64Array,
  amount: bigint,
  budget: number,
): number | undefined {
  for (;;) {
    const spent = load(cells, BUDGET_CELL.spent);
    if (Number(spent + amount) > budget) {
      store(cells, BUDGET_CELL.refused, 1n);
      return Number(spent);
    }
    if (compareExchange(cells, BUDGET_CELL.spent, spent, spent + amount) === spent)
      return undefined;
  }
}
