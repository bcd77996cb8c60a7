/**
 * A run's token budget when it lives in Redis (`agentpool worker`): threads
 * charge synchronously (an agent's `ctx.tokens.consume` returns or throws at
 * once), so a thread posts each charge to its worker's main thread and
 * blocks (Atomics.wait) until the main thread has run the Redis script and
 * written the answer here. One mailbox per attempt, so one thread only ever
 * uses it: no lock, and a thread terminated mid-charge leaves nothing held.
 *
 * Why blocking on the main thread, not leasing a slice of the budget into
 * local cells: a thread whose lease runs short would have to block for more
 * anyway (refusing it would refuse a charge the run can afford), so leasing
 * adds return-on-end and re-lease bookkeeping to the same blocking path.
 * Every charge is one Lua call, atomic in Redis, so no two workers can ever
 * jointly overspend. Its cost, measured (2-core machine, Redis on loopback,
 * 2,000 charges of 1 token per task): ~0.47 ms a charge on one thread
 * alone, ~0.75 ms with 6 threads on 3 workers charging at once, against
 * ~0.3 µs for a local compare-and-swap. A charge per model call costs
 * nothing that matters; an agent that charges token by token should charge
 * in bigger steps (`ctx.tokens.consume(n)`). A charge of 0 asks nothing.
 *
 * Cells (BigInt64): the first two are `run-budget.ts`'s (spent, as last
 * heard from Redis; refused), then the mailbox's state and answer.
 */
import { BUDGET_CELL } from './run-budget.js';

const STATE = 2;
const ANSWER = 3;
const CELLS = 4;
// The state cell is request number * 8 + phase, so an answer to a request
// its thread gave up on can never be taken for the answer to a later one.
const PHASE = { idle: 0n, pending: 1n, charged: 2n, refused: 3n } as const;
const { load, store, compareExchange, wait, notify } = Atomics;

const BYTES = CELLS * BigInt64Array.BYTES_PER_ELEMENT;

/** A fresh attempt's mailbox. */
export function newRemoteBudget(): SharedArrayBuffer {
  return new SharedArrayBuffer(BYTES);
}

/** Whether `value` can be a mailbox (what a thread posts is checked before it is written to). */
export function isMailbox(value: unknown): value is SharedArrayBuffer {
  return value instanceof SharedArrayBuffer && value.byteLength === BYTES;
}

/**
 * Thread side: asks for tokens (`post` sends the charge, as request number
 * `seq`, to the main thread) and blocks for the answer: undefined once charged,
 * what the run had spent when refused, or 'unreachable' when no answer came
 * within `waitMs` (Redis away; whatever it charges late is never used, so
 * the run can only be overcounted, never overspent).
 */
export function chargeRemote(
  cells: BigInt64Array,
  post: (seq: number) => void,
  waitMs: number,
): number | undefined | 'unreachable' {
  const seq = (load(cells, STATE) >> 3n) + 1n;
  const pending = seq * 8n + PHASE.pending;
  store(cells, STATE, pending);
  post(Number(seq));
  const deadline = Date.now() + waitMs;
  while (load(cells, STATE) === pending) {
    const left = deadline - Date.now();
    if (left <= 0) {
      if (compareExchange(cells, STATE, pending, seq * 8n + PHASE.idle) === pending)
        return 'unreachable';
      break;
    }
    wait(cells, STATE, pending, left);
  }
  const phase = load(cells, STATE) & 7n;
  return phase === PHASE.charged ? undefined : Number(load(cells, ANSWER));
}

/**
 * Main-thread side: the answer to request `seq` in the mailbox `buffer`
 * (`spent`: the run's total after the charge, or before a refused one).
 * Ignored when its thread has given up on it.
 */
export function answerCharge(
  buffer: SharedArrayBuffer,
  seq: number,
  charged: boolean,
  spent: number,
): void {
  const cells = new BigInt64Array(buffer);
  const pending = BigInt(seq) * 8n + PHASE.pending;
  if (load(cells, STATE) !== pending) return;
  store(cells, ANSWER, BigInt(spent));
  mirrorBudget(cells, spent, !charged);
  const answered = BigInt(seq) * 8n + (charged ? PHASE.charged : PHASE.refused);
  if (compareExchange(cells, STATE, pending, answered) === pending) notify(cells, STATE);
}

/**
 * Copies what Redis says of a budget into local cells (the planner's, a
 * mailbox's): spent only ever grows, refused only ever gets set.
 */
export function mirrorBudget(cells: BigInt64Array, spent: number, refused: boolean): void {
  const total = BigInt(spent);
  for (;;) {
    const seen = load(cells, BUDGET_CELL.spent);
    if (seen >= total || compareExchange(cells, BUDGET_CELL.spent, seen, total) === seen) break;
  }
  if (refused) store(cells, BUDGET_CELL.refused, 1n);
}
